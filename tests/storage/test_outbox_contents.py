"""The renderings a transition's messages share are written with them, once: a change
replayed (its messages already queued, so skipped by their keys) leaves no second copy of
their content behind. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from storage import outbox
from storage.db import Database
from storage.models import outbox_content_table, outbox_table

NOW = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)


def _change(first_key: int) -> tuple[list[outbox.NewMessage], list[outbox.NewContent]]:
    contents = [
        outbox.NewContent("CICIE <cicie@ine.example>", f"text {n}", f"<p>html {n}</p>")
        for n in range(2)
    ]
    messages = [
        outbox.NewMessage(
            key=f"7:{first_key + n}:request_received",
            request_id=None,
            history_id=None,
            template="request_received",
            language="es",
            to_addr=f"p{n}@example.org",
            to_name=f"Partner {n}",
            subject="Solicitud recibida",
            message_id=f"<m{first_key + n}@ine.example>",
            content=n % 2,
            link="http://localhost/status/t",
        )
        for n in range(3)
    ]
    return messages, contents


def _counts(db: Database) -> tuple[int, int]:
    with db.read() as conn:
        return (
            conn.execute(sa.select(sa.func.count()).select_from(outbox_table)).scalar_one(),
            conn.execute(sa.select(sa.func.count()).select_from(outbox_content_table)).scalar_one(),
        )


def test_a_replayed_change_writes_neither_its_messages_nor_their_content_again(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        messages, contents = _change(1)
        with db.transaction() as conn:
            outbox.insert_many(conn, messages, NOW, contents)
        assert _counts(db) == (3, 2)
        with db.transaction() as conn:  # the same change again
            outbox.insert_many(conn, messages, NOW, contents)
        assert _counts(db) == (3, 2)
        partly, contents = _change(3)  # one message already there, two new
        with db.transaction() as conn:
            outbox.insert_many(conn, partly, NOW, contents)
        assert _counts(db) == (5, 4)
        with db.read() as conn:
            used = set(conn.execute(sa.select(outbox_table.c.content_id)).scalars())
            stored = set(conn.execute(sa.select(outbox_content_table.c.id)).scalars())
        assert used == stored
    finally:
        db.dispose()
