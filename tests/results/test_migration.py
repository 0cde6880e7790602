"""Migration 0004 creates exactly the tables `storage.results_models` declares, and can be
undone."""

from __future__ import annotations

from alembic import command

from storage import migrate
from storage.db import Database
from storage.results_models import (
    activity_country_table,
    activity_source_table,
    activity_table,
)
from tests.storage.schema import differences

OURS = {activity_source_table.name, activity_table.name, activity_country_table.name}


def test_the_migration_mirrors_the_table_classes(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert differences(db, OURS) == []
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
