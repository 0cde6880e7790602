"""Migration 0005 creates exactly the report draft and attachment tables `storage.models`
declares, and can be undone."""

from __future__ import annotations

from alembic import command

from storage import migrate
from storage.db import Database
from storage.models import report_attachment_table, report_draft_table
from tests.storage.schema import differences

OURS = {report_draft_table.name, report_attachment_table.name}


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
            command.downgrade(cfg, "0004")
        assert migrate.current_revision(db) == "0004"
        with db.engine.connect() as conn:
            assert not OURS & set(db.engine.dialect.get_table_names(conn))
        migrate.upgrade(db)
        with db.engine.connect() as conn:
            assert set(db.engine.dialect.get_table_names(conn)) >= OURS
    finally:
        db.dispose()
