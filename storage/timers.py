"""Queries on timer rows (reminders, escalations, automatic transitions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import timer_table

T = timer_table


@dataclass(frozen=True)
class TimerRow:
    id: int
    key: str
    request_id: int
    name: str
    kind: str
    occurrence: int
    armed_in: str
    due_at: datetime
    status: str
    fired_at: datetime | None
    outcome: str | None


_COLS = (
    T.c.id,
    T.c.key,
    T.c.request_id,
    T.c.name,
    T.c.kind,
    T.c.occurrence,
    T.c.armed_in,
    T.c.due_at,
    T.c.status,
    T.c.fired_at,
    T.c.outcome,
)


def arm(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert timers; a key already armed is left as it is (idempotent)."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(T).on_conflict_do_nothing(index_elements=["key"]), list(rows))


def for_request(
    conn: sa.Connection, request_id: int, *, statuses: Sequence[str] | None = None
) -> list[TimerRow]:
    stmt = sa.select(*_COLS).where(T.c.request_id == request_id)
    if statuses:
        stmt = stmt.where(T.c.status.in_(statuses))
    return [TimerRow(*r) for r in conn.execute(stmt.order_by(T.c.due_at, T.c.id))]


def cancel(conn: sa.Connection, ids: Sequence[int], *, now: datetime, why: str) -> None:
    if ids:
        conn.execute(
            T.update()
            .where(T.c.id.in_(list(ids)), T.c.status == "pending")
            .values(status="cancelled", fired_at=now, outcome=why)
        )


def move(conn: sa.Connection, timer_id: int, due_at: datetime) -> None:
    conn.execute(
        T.update().where(T.c.id == timer_id, T.c.status == "pending").values(due_at=due_at)
    )
