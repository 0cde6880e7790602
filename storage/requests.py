"""Queries on requests and their history. Statements are built once at import and reused, so
SQLAlchemy's compiled cache makes each call cheap; the engine's transitions go through here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage import derived
from storage.models import emb_table, history_table, request_facet_table, request_table
from storage.rows import HistoryRow, RequestRow  # defined without SQLAlchemy (issue 16)

R = request_table
H = history_table
E = emb_table


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

_INSERT_HISTORY = H.insert()


def _row(r: Any) -> RequestRow:
    return RequestRow(*r)


def get(conn: sa.Connection, request_id: int) -> RequestRow | None:
    """One request, unlocked (`hot_path.lock_request` reads it for a transition)."""
    found = conn.execute(_BY_ID, {"rid": request_id}).first()
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
    request_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    derived.refresh_request(conn, request_id)  # filters and search, this transaction (derived)
    return request_id


def insert_many(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk import (demo data, benchmarks, history import): one executemany."""
    if rows:
        before = conn.execute(sa.select(sa.func.coalesce(sa.func.max(R.c.id), 0))).scalar_one()
        conn.execute(R.insert(), list(rows))
        # filters and search of the new rows, in this transaction (storage/derived)
        new = conn.execute(sa.select(R.c.id).where(R.c.id > before)).scalars().all()
        given = [int(r["id"]) for r in rows if r.get("id") is not None]
        derived.rebuild_requests(conn, [*new, *given])


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


def links_epoch(conn: sa.Connection, request_id: int) -> int | None:
    """The number every report and status link of the request must carry (None: no request)."""
    found = conn.execute(sa.select(R.c.links_epoch).where(R.c.id == request_id)).first()
    return int(found[0]) if found is not None else None


def bump_links_epoch(conn: sa.Connection, request_id: int) -> int:
    """Move the request to a new links epoch, so every link issued before stops working;
    returns the new epoch. The caller holds the request's row lock."""
    conn.execute(R.update().where(R.c.id == request_id).values(links_epoch=R.c.links_epoch + 1))
    epoch = links_epoch(conn, request_id)
    assert epoch is not None  # the row is locked by the caller
    return epoch


def by_ids(conn: sa.Connection, request_ids: Iterable[int]) -> dict[int, RequestRow]:
    """Several requests by id, in one statement (unknown ids are left out)."""
    wanted = sorted({int(i) for i in request_ids})
    if not wanted:
        return {}
    rows = conn.execute(sa.select(*_COLUMNS).select_from(_FROM).where(R.c.id.in_(wanted)))
    return {int(r[0]): _row(r) for r in rows}


def in_year(conn: sa.Connection, programme: str, year: int) -> list[RequestRow]:
    """The requests of `programme` whose event starts in `year` or that were created in it
    (business zone), by id: read through the derived year facet (storage/derived.py), so a
    rule about "the courses of this year" reads those, not every request of the programme."""
    f = request_facet_table.c
    chosen = sa.select(f.request_id).where(
        f.facet == "year", f.value == f"{year:04d}", f.programme == programme
    )
    stmt = (
        sa.select(*_COLUMNS)
        .select_from(_FROM)
        .where(R.c.id.in_(chosen.scalar_subquery()))
        .order_by(R.c.id)
    )
    return [_row(r) for r in conn.execute(stmt)]


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
