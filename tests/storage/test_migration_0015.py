"""Migration 0015 creates exactly the `outbox_content` table and outbox columns that
`storage.models` declares; undone, it keeps the messages queued with their own bytes and drops
those assembled from a content (they have no bytes of their own)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from engine.bootstrap import Runtime
from notifications.wiring import install_mail
from storage import migrate
from storage.db import Database
from storage.models import outbox_table
from tests.documents.helpers import workshop
from tests.storage.schema import differences, queue_with_bytes

OURS = {"outbox_content", "outbox"}


def test_the_migration_mirrors_the_table_classes(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert differences(db, OURS) == []
    finally:
        db.dispose()


def test_undone_it_keeps_messages_with_their_own_bytes(runtime: Runtime) -> None:
    runtime.engine.add_emb(code="TSE-HN", name="Tribunal", country="HN", language="es")
    install_mail(runtime)
    workshop(runtime.engine, "TSE-HN")
    now = runtime.engine.clock()
    with runtime.db.transaction() as conn:
        queued = conn.execute(sa.select(sa.func.count()).select_from(outbox_table)).scalar_one()
        queue_with_bytes(conn, "old-1", b"Subject: an old message\r\n\r\nbytes\r\n", now)
    assert queued > 0
    db = runtime.db
    cfg = migrate.alembic_config(db)
    with db.engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0014")
    with db.engine.connect() as conn:
        assert "outbox_content" not in db.engine.dialect.get_table_names(conn)
        rows = conn.execute(sa.text('SELECT "key", body FROM outbox')).all()
    assert [(k, bytes(b)) for k, b in rows] == [
        ("old-1", b"Subject: an old message\r\n\r\nbytes\r\n")
    ]
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.head_revision(db) == "0015"
