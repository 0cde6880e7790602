"""Several instances start at once on a fresh PostgreSQL database: two `cicie db upgrade`
processes race, the advisory lock serialises them, both succeed, the schema is at head once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from storage import migrate
from storage.db import Database
from tests.faults.conftest import PgDatabases, Spawner, url_of

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


def test_two_concurrent_db_upgrades_on_a_fresh_database_both_succeed(
    pg: PgDatabases, spawn: Spawner
) -> None:
    url = url_of(pg.new(migrated=False))
    env = spawn.env(url)
    racers = [spawn.start(f"upgrade-{i}", "db", "upgrade", env=env) for i in range(2)]
    for proc in racers:
        assert proc.wait(timeout=60) == 0, proc.output()
        assert "database at revision" in proc.stdout()
    db = Database(url)
    try:
        head = migrate.head_revision(db)
        assert migrate.current_revision(db) == head
        with db.read() as conn:
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
            tables = set(sa.inspect(conn).get_table_names())
        assert versions == [(head,)]
        assert {"request", "history", "outbox", "timer"} <= tables
    finally:
        db.dispose()
