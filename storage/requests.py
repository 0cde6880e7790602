"""Queries on requests and their history. Statements are built once at import and reused, so
SQLAlchemy's compiled cache makes each call cheap; the engine's transitions go through here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.models import emb_table, history_table, request_table

R = request_table
H = history_table
E = emb_table


@dataclass(frozen=True)
class RequestRow:
    id: int
    programme: str
    workflow_version: int
    emb_id: int | None
    emb_code: str | None
    title: str
    state: str
    held_from: str | None
    data: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class HistoryRow:
    id: int
    request_id: int
    version: int
    at: datetime
    actor_role: str
    actor_name: str
    trigger: str
    from_state: str | None
    to_state: str
    comment: str | None
    data_diff: dict[str, Any] | None


_COLUMNS = (
    R.c.id,
    R.c.programme,
    R.c.workflow_version,
    R.c.emb_id,
    E.c.code,
    R.c.title,
    R.c.state,
    R.c.held_from,
    R.c.data,
    R.c.version,
    R.c.created_at,
    R.c.updated_at,
)
_FROM = R.outerjoin(E, R.c.emb_id == E.c.id)
_BY_ID = sa.select(*_COLUMNS).select_from(_FROM).where(R.c.id == sa.bindparam("rid"))
_BY_ID_LOCKED = _BY_ID.with_for_update(of=R)

_UPDATE_STATE = (
    R.update()
    .where(R.c.id == sa.bindparam("rid"), R.c.version == sa.bindparam("expected"))
    .values(
        state=sa.bindparam("new_state"),
        held_from=sa.bindparam("new_held_from"),
        version=sa.bindparam("new_version"),
        updated_at=sa.bindparam("now"),
    )
)
_UPDATE_STATE_AND_DATA = _UPDATE_STATE.values(data=sa.bindparam("new_data", type_=R.c.data.type))
_INSERT_HISTORY = H.insert()


def _row(r: Any) -> RequestRow:
    return RequestRow(*r)


def get(conn: sa.Connection, request_id: int, *, lock: bool = False) -> RequestRow | None:
    """One request; `lock=True` takes its row lock until the transaction ends (PostgreSQL;
    on SQLite the transaction's BEGIN IMMEDIATE already holds the database write lock)."""
    found = conn.execute(_BY_ID_LOCKED if lock else _BY_ID, {"rid": request_id}).first()
    return _row(found) if found is not None else None


def insert(
    conn: sa.Connection,
    *,
    programme: str,
    workflow_version: int,
    emb_id: int | None,
    title: str,
    state: str,
    data: dict[str, Any],
    now: datetime,
) -> int:
    result = conn.execute(
        R.insert().values(
            programme=programme,
            workflow_version=workflow_version,
            emb_id=emb_id,
            title=title,
            state=state,
            data=data,
            version=1,
            created_at=now,
            updated_at=now,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def insert_many(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk import (demo data, benchmarks, history import): one executemany."""
    if rows:
        conn.execute(R.insert(), list(rows))


def update_state(
    conn: sa.Connection,
    *,
    request_id: int,
    expected_version: int,
    state: str,
    held_from: str | None,
    data: dict[str, Any] | None,
    now: datetime,
) -> bool:
    """Compare-and-set on the version; False when somebody else changed the row first."""
    params: dict[str, Any] = {
        "rid": request_id,
        "expected": expected_version,
        "new_state": state,
        "new_held_from": held_from,
        "new_version": expected_version + 1,
        "now": now,
    }
    if data is None:
        stmt = _UPDATE_STATE
    else:
        stmt = _UPDATE_STATE_AND_DATA
        params["new_data"] = data
    return conn.execute(stmt, params).rowcount == 1


def append_history(conn: sa.Connection, **values: Any) -> int:
    result = conn.execute(_INSERT_HISTORY, values)
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def history(conn: sa.Connection, request_id: int) -> list[HistoryRow]:
    rows = conn.execute(
        sa.select(
            H.c.id,
            H.c.request_id,
            H.c.version,
            H.c.at,
            H.c.actor_role,
            H.c.actor_name,
            H.c.trigger,
            H.c.from_state,
            H.c.to_state,
            H.c.comment,
            H.c.data_diff,
        )
        .where(H.c.request_id == request_id)
        .order_by(H.c.id)
    )
    return [HistoryRow(*r) for r in rows]


def listing(
    conn: sa.Connection,
    *,
    state: str | None = None,
    programme: str | None = None,
    emb_code: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[RequestRow]:
    stmt = sa.select(*_COLUMNS).select_from(_FROM).order_by(R.c.id)
    if state:
        stmt = stmt.where(R.c.state == state)
    if programme:
        stmt = stmt.where(R.c.programme == programme)
    if emb_code:
        stmt = stmt.where(E.c.code == emb_code)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return [_row(r) for r in conn.execute(stmt)]
