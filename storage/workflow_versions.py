"""The stored text of every workflow version requests are pinned to."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from storage.models import workflow_version_table

W = workflow_version_table


def find_by_checksum(conn: sa.Connection, name: str, checksum: str) -> int | None:
    row = conn.execute(
        sa.select(W.c.version).where(W.c.name == name, W.c.checksum == checksum)
    ).first()
    return int(row[0]) if row else None


def latest_version(conn: sa.Connection, name: str) -> int:
    row = conn.execute(sa.select(sa.func.max(W.c.version)).where(W.c.name == name)).first()
    return int(row[0]) if row and row[0] is not None else 0


def insert(
    conn: sa.Connection, *, name: str, version: int, checksum: str, source: str, now: datetime
) -> None:
    conn.execute(
        W.insert().values(
            name=name, version=version, checksum=checksum, source=source, created_at=now
        )
    )


def source_of(conn: sa.Connection, name: str, version: int) -> str | None:
    row = conn.execute(
        sa.select(W.c.source).where(W.c.name == name, W.c.version == version)
    ).first()
    return str(row[0]) if row else None
