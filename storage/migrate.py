"""Schema migrations (Alembic), runnable by several processes at once.

On PostgreSQL an advisory lock serialises concurrent `cicie db upgrade` runs; on SQLite the
`BEGIN IMMEDIATE` of the migration transaction does the same.

Whether a database is at the head revision is answered without Alembic (issue 16): the head
is read from the revision files' `revision =` / `down_revision =` lines and the database's
from its `alembic_version` table, in a read transaction. Alembic (and its imports, a sizeable
part of a command's start) is loaded only when there is something to migrate.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `file_head` and `SchemaBehind` import neither (cli.lean_show, issue 16)
    import sqlalchemy as sa
    from alembic.config import Config

    from storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"
VERSIONS = MIGRATIONS / "versions"
ADVISORY_LOCK_ID = 0x_C1C1E  # any constant shared by every process of this application

_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*([^\n]+)", re.MULTILINE)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


class SchemaBehind(Exception):
    """The database's schema is not the one this installation's code expects."""

    def __init__(self, current: str | None, head: str | None) -> None:
        super().__init__(f"database schema at {current or 'none'}, code expects {head}")
        self.current = current
        self.head = head

    @property
    def ahead(self) -> bool:
        """The database was migrated by a newer installation (a revision this code lacks)."""
        return self.current is not None and self.current not in known_revisions()


def alembic_config(db: Database) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.render_as_string(hide_password=False))
    return cfg


def upgrade(db: Database, revision: str = "head") -> str | None:
    """Bring the schema to `revision`; returns the revision now current."""
    import sqlalchemy as sa
    from alembic import command

    cfg = alembic_config(db)
    with db.engine.connect() as conn:
        if db.is_postgres:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_ID})
            conn.commit()
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
        finally:
            if db.is_postgres:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_ID})
                conn.commit()
    return current_revision(db)


def upgrade_if_behind(db: Database) -> None:
    """What every writing command does first: migrate to head, unless the schema is there
    already (then neither Alembic nor the write lock is needed)."""
    if stored_revision(db) == file_head() is not None:
        return
    upgrade(db)


def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(db: Database) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


def stored_revision(db: Database) -> str | None:
    """The database's revision, read in a read transaction (None: never migrated, or more
    than one row — a branched history this code does not make)."""
    with db.read() as conn:
        if not _has_version_table(conn):
            return None
        rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall()
    return str(rows[0][0]) if len(rows) == 1 else None


def _has_version_table(conn: sa.Connection) -> bool:
    if conn.dialect.name == "sqlite":
        found = conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).first()
    else:
        found = conn.exec_driver_sql(
            "SELECT 1 FROM information_schema.tables "
            "WHERE table_name = 'alembic_version' AND table_schema = current_schema()"
        ).first()
    return found is not None


@cache
def _revision_graph() -> tuple[frozenset[str], frozenset[str]] | None:
    """(revisions, revisions something revises) from the files; None if a file cannot be read
    this way (then Alembic answers)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found = _REVISION.search(text)
        down = _DOWN.search(text)
        if found is None or down is None:
            return None
        revisions.add(found.group(1))
        parents.update(_QUOTED.findall(down.group(1).split("#", 1)[0]))
    return frozenset(revisions), frozenset(parents)


def known_revisions() -> frozenset[str]:
    graph = _revision_graph()
    if graph is not None:
        return graph[0]
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    return frozenset(rev.revision for rev in script.walk_revisions())


@cache
def file_head() -> str | None:
    """The head revision of this installation's migrations, from the revision files."""
    graph = _revision_graph()
    if graph is not None:
        heads = graph[0] - graph[1]
        if len(heads) == 1:
            return next(iter(heads))
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def require_head(db: Database) -> None:
    """Raise SchemaBehind unless the database is at this code's head revision (read-only
    commands: they neither migrate nor take a write lock)."""
    current = stored_revision(db)
    head = file_head()
    if current != head:
        raise SchemaBehind(current, head)
