"""The stored text of every workflow version requests are pinned to."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from storage.models import request_table, workflow_version_table

W = workflow_version_table
R = request_table


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


def versions(conn: sa.Connection, name: str) -> list[int]:
    """Every stored version of a workflow, oldest first (empty: no such workflow)."""
    rows = conn.execute(sa.select(W.c.version).where(W.c.name == name).order_by(W.c.version))
    return [int(r[0]) for r in rows]


def pinned_elsewhere(conn: sa.Connection, name: str, version: int) -> list[int]:
    """The requests of a workflow pinned to any other version, by id (whatever their state)."""
    rows = conn.execute(
        sa.select(R.c.id)
        .where(R.c.programme == name, R.c.workflow_version != version)
        .order_by(R.c.id)
    )
    return [int(r[0]) for r in rows]


def repin(conn: sa.Connection, request_id: int, version: int) -> None:
    """Pin a request to another version (a migration; the caller holds the row lock and
    writes the state and the history row in the same transaction)."""
    conn.execute(R.update().where(R.c.id == request_id).values(workflow_version=version))
