"""`cicie db …`: the schema (`upgrade`), and backups of a SQLite database (`backup`, `restore`).

A backup is taken with SQLite's online backup API: one consistent snapshot, safe while the web
processes and workers run (WAL mode: they go on reading and writing meanwhile), written to a
temporary file beside PATH and renamed into place, so PATH is never a half-written file.
A restore checks that the file is a SQLite database of this application at a revision its
migrations know, keeps the current database beside it, and copies the backup in; the schema is
then the backup's, which `cicie db upgrade` brings to this release's.
PostgreSQL has its own tools: `pg_dump -Fc` and `pg_restore` (docs/operations.md, "Back up and
restore"); both commands refuse it and say so.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer

from cli.output import LangOption, chosen_language, domain_errors, emit
from config.settings import Settings
from engine.errors import CicieError, NotFound
from i18n import Text

db_app = typer.Typer(help="The database: schema, backup and restore.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]

SQLITE_HEADER = b"SQLite format 3\x00"
PG_RECIPE = Text(
    "back PostgreSQL up with %(dump)s and restore it with %(restore)s (docs/operations.md, "
    "'Back up and restore')",
    dump="`pg_dump -Fc`",
    restore="`pg_restore --clean --if-exists --no-owner`",
)


class UnsupportedDatabase(CicieError):
    code = "unsupported_database"


class AlreadyExists(CicieError):
    code = "already_exists"


class InvalidBackup(CicieError):
    code = "invalid_backup"


class DatabaseInUse(CicieError):
    code = "database_in_use"


class FileProblem(CicieError):
    code = "file_error"


@contextmanager
def _errors(as_json: bool, lang: str | None = None) -> Iterator[None]:
    """Refusals exit 1 with the error (JSON on stdout too); so do SQLite's and the file
    system's failures (a locked database, a folder that cannot be written)."""
    with domain_errors(as_json, chosen_language(lang)):
        try:
            yield
        except sqlite3.Error as exc:
            raise FileProblem(Text("SQLite failed: %(problem)s", problem=str(exc))) from None
        except OSError as exc:
            raise FileProblem(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from None


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply migrations (safe to run from several processes at once)."""
    from engine.bootstrap import open_database
    from storage import migrate

    db = open_database(Settings())
    try:
        current = migrate.upgrade(db, revision)
        typer.echo(f"database at revision {current} ({db.url.render_as_string()})")
    finally:
        db.dispose()


@db_app.command("backup")
def db_backup(
    path: Annotated[Path, typer.Argument(help="The backup file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite PATH if it exists.")] = False,
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Copy the SQLite database to PATH (safe while the services run)."""
    language = chosen_language(lang)
    with _errors(as_json, language):
        source = _sqlite_path("backup")
        if not source.is_file():
            raise NotFound(Text("There is no database at %(file)s.", file=str(source)))
        target = path.expanduser()
        if _same_database(target, source):
            raise AlreadyExists(
                Text("%(file)s is the database itself; give another file.", file=str(target))
            )
        if target.is_dir():
            raise AlreadyExists(
                Text("%(file)s is a folder; give the backup file's name.", file=str(target))
            )
        if target.exists() and not force:
            raise AlreadyExists(
                Text("%(file)s exists; give --force to overwrite it.", file=str(target))
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        revision = _copy_to_new_file(source, target)
        size = target.stat().st_size
        emit(
            {
                "path": str(target.resolve()),
                "bytes": size,
                "revision": revision,
                "database": str(source),
            },
            as_json,
            lambda: Text(
                "Backup written to %(file)s (%(size)s bytes, schema revision %(revision)s).",
                file=str(target),
                size=size,
                revision=revision,
            ).say(language),
        )


@db_app.command("restore")
def db_restore(
    path: Annotated[Path, typer.Argument(help="A file written by `cicie db backup`.")],
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Replace the SQLite database with the backup PATH; stop the services first.

    The current database is kept beside it as `<name>.before-restore-<UTC time>`; the schema is
    the backup's afterwards: run `cicie db upgrade`.
    """
    language = chosen_language(lang)
    with _errors(as_json, language):
        live = _sqlite_path("restore")
        backup = path.expanduser()
        if not backup.is_file():
            raise NotFound(Text("There is no backup file at %(file)s.", file=str(backup)))
        if _same_database(backup, live):
            raise InvalidBackup(
                Text("%(file)s is the database itself, not a backup of it.", file=str(backup))
            )
        revision = _check_backup(backup)
        previous: Path | None = None
        if live.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            previous = _free_name(live.with_name(f"{live.name}.before-restore-{stamp}"))
        else:
            live.parent.mkdir(parents=True, exist_ok=True)
        _restore_into(backup, live, previous)
        head = _head_revision()
        upgrade_needed = revision != head
        emit(
            {
                "restored": str(backup.resolve()),
                "database": str(live),
                "revision": revision,
                "head": head,
                "upgrade_needed": upgrade_needed,
                "previous": str(previous) if previous else None,
            },
            as_json,
            lambda: "\n".join(
                t.say(language)
                for t in [
                    Text(
                        "Restored %(backup)s into %(file)s (schema revision %(revision)s).",
                        backup=str(backup),
                        file=str(live),
                        revision=revision,
                    ),
                    Text("The database it replaced is kept as %(file)s.", file=str(previous))
                    if previous
                    else Text("There was no database before."),
                    Text(
                        "Run %(command)s to bring the schema to %(revision)s.",
                        command="`cicie db upgrade`",
                        revision=head,
                    )
                    if upgrade_needed
                    else Text(
                        "The schema is this release's; %(command)s has nothing to do.",
                        command="`cicie db upgrade`",
                    ),
                ]
            ),
        )


# ---------------------------------------------------------------- helpers
def _sqlite_path(command: str) -> Path:
    """The SQLite file the settings point to; PostgreSQL (or anything else) is refused."""
    from sqlalchemy.engine import make_url

    url = make_url(Settings().resolved_database_url)
    typed = "`cicie db " + command + "`"
    if url.get_backend_name() != "sqlite":
        raise UnsupportedDatabase(
            Text(
                "%(command)s is for SQLite; the database is %(backend)s: %(recipe)s",
                command=typed,
                backend=url.get_backend_name(),
                recipe=PG_RECIPE,
            )
        )
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise UnsupportedDatabase(
            Text(
                "%(command)s needs a SQLite file, not %(url)s",
                command=typed,
                url=str(url),
            )
        )
    return Path(url.database)


@contextmanager
def _connect(path: Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    if read_only:
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    else:
        conn = sqlite3.connect(path)
    conn.isolation_level = None  # autocommit: the backup API and PRAGMAs manage their own
    with closing(conn):
        conn.execute("PRAGMA busy_timeout=30000")
        yield conn


def _copy_to_new_file(source: Path, target: Path) -> str | None:
    """An online backup of `source` into a new file at `target`; its schema revision."""
    with _connect(source) as src:
        return _write_copy(src, target, source)


def _write_copy(src: sqlite3.Connection, target: Path, source: Path) -> str | None:
    """The database `src` is connected to, copied into a new self-contained file (no -wal
    beside it, mode 0600) through a temporary file and a rename; returns its revision."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    # the copy holds password and token hashes: readable by the owner only, from the start
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        with _connect(temporary) as dst:
            src.backup(dst)  # in one step: a single consistent snapshot of the source
            dst.execute("PRAGMA journal_mode=DELETE")
            problems = _quick_check(dst)
            if problems:
                raise InvalidBackup(
                    Text(
                        "The copy of %(file)s fails SQLite's check: %(problems)s",
                        file=str(source),
                        problems=problems,
                    )
                )
            revision = _revision(dst)
        _fsync(temporary)
        os.replace(temporary, target)
        _fsync(target.parent)
    except BaseException:
        with suppress(FileNotFoundError):
            temporary.unlink()
        raise
    return revision


def _restore_into(backup: Path, live: Path, keep: Path | None) -> None:
    """Keep a copy of the live database at `keep`, then copy the backup's pages into it,
    through SQLite (so its -wal and -shm files stay consistent with the new content)."""
    with _connect(live) as dst:
        # leaving WAL mode needs the only connection to the file: a process that still has the
        # database open (a server or worker that was not stopped) makes it fail
        dst.execute("PRAGMA busy_timeout=3000")
        try:
            mode = dst.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        except sqlite3.OperationalError:
            mode = "busy"
        if str(mode).lower() != "delete":
            raise DatabaseInUse(
                Text(
                    "%(file)s is open in another process: stop the web and worker services "
                    "(and any other `cicie` command), then restore; nothing was changed.",
                    file=str(live),
                )
            )
        dst.execute("PRAGMA busy_timeout=30000")
        if keep is not None:
            _write_copy(dst, keep, live)
        with _connect(backup, read_only=True) as src:
            src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
        problems = _quick_check(dst)
        if problems:  # pragma: no cover - the backup was checked before
            raise InvalidBackup(f"the restored database fails SQLite's check: {problems}")


def _check_backup(path: Path) -> str:
    """The backup's schema revision, once it is known to be a sound database of this
    application; anything else is refused."""
    with open(path, "rb") as fh:
        header = fh.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise InvalidBackup(
            Text("%(file)s is not a SQLite database (no SQLite header).", file=str(path))
        )
    try:
        with _connect(path, read_only=True) as conn:
            problems = _quick_check(conn)
            if problems:
                raise InvalidBackup(
                    Text(
                        "%(file)s is a damaged SQLite database: %(problems)s",
                        file=str(path),
                        problems=problems,
                    )
                )
            revision = _revision(conn)
    except sqlite3.DatabaseError as exc:
        raise InvalidBackup(
            Text(
                "%(file)s cannot be read as a SQLite database: %(problem)s",
                file=str(path),
                problem=str(exc),
            )
        ) from None
    if revision is None:
        raise InvalidBackup(
            Text(
                "%(file)s is a SQLite database, but not one of CICIE (no schema revision in it).",
                file=str(path),
            )
        )
    known = _known_revisions()
    if revision not in known:
        raise InvalidBackup(
            Text(
                "%(file)s is at schema revision '%(revision)s', which this release does not "
                "know (known: %(known)s): it is not a CICIE database, or it comes from a newer "
                "release.",
                file=str(path),
                revision=revision,
                known=", ".join(sorted(known)),
            )
        )
    return revision


def _quick_check(conn: sqlite3.Connection) -> str | None:
    rows = [row[0] for row in conn.execute("PRAGMA quick_check")]
    return None if rows == ["ok"] else "; ".join(rows[:5])


def _revision(conn: sqlite3.Connection) -> str | None:
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone()
    if not has_table:
        return None
    rows: list[Any] = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    return str(rows[0][0]) if len(rows) == 1 else None


def _script_directory() -> Any:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from storage.migrate import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def _known_revisions() -> set[str]:
    return {script.revision for script in _script_directory().walk_revisions()}


def _head_revision() -> str:
    return str(_script_directory().get_current_head())


def _same_database(path: Path, database: Path) -> bool:
    """Is `path` the database file (or its -wal / -shm companion)?"""
    resolved = path.resolve()
    return any(
        resolved == database.resolve().with_name(database.name + suffix)
        for suffix in ("", "-wal", "-shm", "-journal")
    )


def _free_name(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}-{n}")
        n += 1
    return candidate


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
