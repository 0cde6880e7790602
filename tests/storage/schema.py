"""Helpers for the migration tests: what the database and `storage.models` disagree on, and a
message queued as it was before migration 0015 (with its own MIME bytes)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage import outbox
from storage.db import Database
from storage.models import metadata


def _names(diff: object) -> set[str]:
    """The table names an autogenerate difference mentions (it nests tuples and lists)."""
    if isinstance(diff, (list, tuple)):
        return set().union(*(_names(d) for d in diff)) if diff else set()
    if isinstance(diff, str):
        return {diff}
    table = getattr(diff, "table", None)
    return {getattr(diff, "name", "")} | ({table.name} if table is not None else set())


def differences(db: Database, tables: Collection[str]) -> list[object]:
    """Where the migrated database differs from the table classes, for these tables."""
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    return [d for d in diffs if set(tables) & _names(d)]


def queue_with_bytes(conn: sa.Connection, key: str, body: bytes, now: datetime) -> None:
    """A message queued as before migration 0015: its MIME bytes on the row, no content."""
    outbox.insert(
        conn,
        key=key,
        request_id=None,
        history_id=None,
        template="request_received",
        language="es",
        to_addr="iidh@example.org",
        to_name="IIDH",
        subject="Solicitud recibida",
        message_id=f"<{key}@ine.example>",
        body=body,
        now=now,
    )
