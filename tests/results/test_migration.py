"""Migration 0004 creates exactly the tables `storage.results_models` declares, and can be
undone."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage import migrate
from storage.db import Database
from storage.models import metadata
from storage.results_models import (
    activity_country_table,
    activity_source_table,
    activity_table,
)

OURS = {activity_source_table.name, activity_table.name, activity_country_table.name}


def _names(diff: object) -> set[str]:
    """The table names an autogenerate difference mentions (it nests tuples and lists)."""
    if isinstance(diff, (list, tuple)):
        return set().union(*(_names(d) for d in diff)) if diff else set()
    if isinstance(diff, str):
        return {diff}
    table = getattr(diff, "table", None)
    return {getattr(diff, "name", "")} | ({table.name} if table is not None else set())


def _differences(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    return [d for d in diffs if OURS & _names(d)]


def test_the_migration_mirrors_the_table_classes(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert _differences(db) == []
    finally:
        db.dispose()


def test_the_migration_downgrades_and_upgrades_again(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        cfg = migrate.alembic_config(db)
        with db.engine.connect() as conn, conn.begin():
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0003")
        assert migrate.current_revision(db) == "0003"
        with db.engine.connect() as conn:
            assert not OURS & set(db.engine.dialect.get_table_names(conn))
        assert migrate.upgrade(db) == migrate.head_revision(db)
    finally:
        db.dispose()
