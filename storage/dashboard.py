"""Read-only queries for the coordinators' dashboard and outbox screens.

Every query here is narrow on purpose: counts come from one `GROUP BY`, lists from one
`LIMIT`ed statement ordered on an indexed column (the primary key, or `timer.due_at` through
`ix_timer_due`), and no statement reads the `data` column of every row unless a filter on it
was asked for (year of the event, a theme). With 10,000 requests the whole dashboard is a
handful of milliseconds on SQLite.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from storage.models import emb_table, outbox_table, request_table, timer_table
from storage.outbox import _ROW_COLUMNS as OUTBOX_COLUMNS
from storage.outbox import OutboxRow

R = request_table
E = emb_table
T = timer_table
O = outbox_table  # noqa: E741


@dataclass(frozen=True)
class RequestFilter:
    """What the dashboard is narrowed to; None (or empty) means "any"."""

    programme: str | None = None
    state: str | None = None
    emb: str | None = None  # EMB code
    kind: str | None = None  # the requesting organisation's kind (emb, political_party…)
    countries: frozenset[str] | None = None  # EMB countries (a region resolved by the caller)
    year_start: datetime | None = None  # created in [year_start, year_end) …
    year_end: datetime | None = None
    year: int | None = None  # … or its event starts in this year
    theme: str | None = None  # data.themes contains it


@dataclass(frozen=True)
class ListedRequest:
    id: int
    title: str
    emb_code: str | None
    emb_name: str | None
    emb_country: str | None
    programme: str
    state: str
    updated_at: datetime


@dataclass(frozen=True)
class FlaggedRequest:
    """A request in one of the dashboard's attention lists, with the timer that put it there."""

    id: int
    title: str
    programme: str
    state: str
    timer: str | None
    due_at: datetime | None
    updated_at: datetime


_FROM = R.outerjoin(E, R.c.emb_id == E.c.id)
Clause = sa.ColumnElement[bool] | sa.TextClause


def _needs_emb(f: RequestFilter) -> bool:
    return bool(f.emb) or bool(f.kind) or f.countries is not None


def _needs_request(f: RequestFilter) -> bool:
    return _needs_emb(f) or any((f.programme, f.state, f.year is not None, f.theme))


def _from(f: RequestFilter) -> sa.FromClause:
    """The EMB table is joined only when a filter reads it: counting over the join costs a
    lookup per request."""
    return _FROM if _needs_emb(f) else R


def _flag(r: Any) -> FlaggedRequest:
    return FlaggedRequest(*r)


def _out(r: Any) -> OutboxRow:
    return OutboxRow(*r)


def _theme_clause(conn: sa.Connection, theme: str) -> Clause:
    if conn.dialect.name == "postgresql":
        return sa.text("(request.data -> 'themes') @> CAST(:theme_json AS jsonb)").bindparams(
            theme_json=json.dumps([theme])
        )
    # the array's JSON text holds each theme id quoted; ids never contain quotes, so this is
    # an exact element match, four times cheaper than `json_each` (one parse per row)
    return sa.text("instr(json_extract(request.data, '$.themes'), :theme_quoted) > 0").bindparams(
        theme_quoted=json.dumps(theme)
    )


def _where(conn: sa.Connection, f: RequestFilter) -> list[Clause]:
    clauses: list[Clause] = []
    if f.programme:
        clauses.append(R.c.programme == f.programme)
    if f.state:
        clauses.append(R.c.state == f.state)
    if f.emb:
        clauses.append(E.c.code == f.emb)
    if f.kind:
        clauses.append(E.c.kind == f.kind)
    if f.countries is not None:
        clauses.append(E.c.country.in_(sorted(f.countries)))
    if f.year is not None and f.year_start is not None and f.year_end is not None:
        event_start = R.c.data["event_start"].as_string()
        clauses.append(
            sa.or_(
                sa.and_(R.c.created_at >= f.year_start, R.c.created_at < f.year_end),
                event_start.like(f"{f.year:04d}-%"),
            )
        )
    if f.theme:
        clauses.append(_theme_clause(conn, f.theme))
    return clauses


def counts(conn: sa.Connection, f: RequestFilter) -> list[tuple[str, str, int]]:
    """(programme, state, requests) for every pair that has any, under the filter."""
    stmt = (
        sa.select(R.c.programme, R.c.state, sa.func.count())
        .select_from(_from(f))
        .where(*_where(conn, f))
        .group_by(R.c.programme, R.c.state)
        .order_by(R.c.programme, R.c.state)
    )
    return [(p, s, int(n)) for p, s, n in conn.execute(stmt)]


def page(conn: sa.Connection, f: RequestFilter, *, limit: int, offset: int) -> list[ListedRequest]:
    """One page of requests, newest first (by id: the primary key orders it, no sort)."""
    stmt = (
        sa.select(
            R.c.id,
            R.c.title,
            E.c.code,
            E.c.name,
            E.c.country,
            R.c.programme,
            R.c.state,
            R.c.updated_at,
        )
        .select_from(_FROM)
        .where(*_where(conn, f))
        .order_by(R.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [ListedRequest(*r) for r in conn.execute(stmt)]


def _flag_columns() -> tuple[Any, ...]:
    return (R.c.id, R.c.title, R.c.programme, R.c.state)


def timers_due(
    conn: sa.Connection,
    f: RequestFilter,
    *,
    after: datetime | None,
    before: datetime,
    limit: int,
) -> tuple[list[FlaggedRequest], int]:
    """Pending timers due in [after, before) (after None: any time before), soonest first,
    with their requests; and how many there are in all."""
    clauses = [T.c.status == "pending", T.c.due_at < before, *_where(conn, f)]
    if after is not None:
        clauses.append(T.c.due_at >= after)
    joined = T.join(R, T.c.request_id == R.c.id).outerjoin(E, R.c.emb_id == E.c.id)
    stmt = (
        sa.select(*_flag_columns(), T.c.name, T.c.due_at, R.c.updated_at)
        .select_from(joined)
        .where(*clauses)
        .order_by(T.c.due_at, T.c.id)
        .limit(limit)
    )
    rows = [_flag(r) for r in conn.execute(stmt)]
    if _needs_request(f):
        counted = sa.select(sa.func.count()).select_from(joined).where(*clauses)
    else:  # answered from the timer index alone
        counted = sa.select(sa.func.count()).select_from(T).where(*clauses)
    total = conn.execute(counted).scalar()
    return rows, int(total or 0)


def in_states(
    conn: sa.Connection, f: RequestFilter, states: Collection[str], *, limit: int
) -> tuple[list[FlaggedRequest], int]:
    """Requests in any of `states` (e.g. on hold, report overdue), oldest change first."""
    if not states:
        return [], 0
    clauses = [R.c.state.in_(sorted(states)), *_where(conn, f)]
    stmt = (
        sa.select(*_flag_columns(), sa.null(), sa.null(), R.c.updated_at)
        .select_from(_FROM)
        .where(*clauses)
        .order_by(R.c.id)
        .limit(limit)
    )
    rows = [_flag(r) for r in conn.execute(stmt)]
    total = conn.execute(sa.select(sa.func.count()).select_from(_from(f)).where(*clauses)).scalar()
    return rows, int(total or 0)


def stale(
    conn: sa.Connection,
    f: RequestFilter,
    *,
    before: datetime,
    exclude_states: Collection[str],
    limit: int,
) -> list[FlaggedRequest]:
    """Up to `limit` requests not changed since `before`, outside `exclude_states` (final and
    hold states), oldest first by id. No total: on SQLite `updated_at` is stored after the
    JSON data, so counting them all would read every request's data (an index on
    `(state, updated_at)` would make both cheap)."""
    clauses = [R.c.updated_at < before, *_where(conn, f)]
    if exclude_states:
        clauses.append(R.c.state.not_in(sorted(exclude_states)))
    stmt = (
        sa.select(*_flag_columns(), sa.null(), sa.null(), R.c.updated_at)
        .select_from(_FROM)
        .where(*clauses)
        .order_by(R.c.id)
        .limit(limit)
    )
    return [_flag(r) for r in conn.execute(stmt)]


def years(conn: sa.Connection) -> tuple[datetime | None, datetime | None]:
    """The first and last creation time (to offer a range of years)."""
    row = conn.execute(sa.select(sa.func.min(R.c.created_at), sa.func.max(R.c.created_at))).first()
    if row is None:
        return None, None
    return _aware(row[0]), _aware(row[1])


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite's min()/max() lose the column type
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# ---------------------------------------------------------------- outbox screen
# what a coordinator calls a message's status → the stored status (and attempts)
OUTBOX_VIEWS = ("queued", "retrying", "sending", "sent", "dead")


def _outbox_clause(view: str) -> sa.ColumnElement[bool]:
    if view == "queued":
        return sa.and_(O.c.status == "pending", O.c.attempts == 0)
    if view == "retrying":
        return sa.and_(O.c.status == "pending", O.c.attempts > 0)
    return O.c.status == view


def outbox_counts(conn: sa.Connection) -> dict[str, int]:
    """Messages per screen status (queued, retrying, sending, sent, dead)."""
    found = dict.fromkeys(OUTBOX_VIEWS, 0)
    retrying = sa.case((sa.and_(O.c.status == "pending", O.c.attempts > 0), 1), else_=0)
    stmt = sa.select(O.c.status, retrying, sa.func.count()).group_by(O.c.status, retrying)
    for status, is_retrying, n in conn.execute(stmt):
        key = ("retrying" if is_retrying else "queued") if status == "pending" else str(status)
        found[key] = found.get(key, 0) + int(n)
    return found


def outbox_page(
    conn: sa.Connection,
    *,
    view: str | None,
    request_id: int | None = None,
    limit: int,
    offset: int,
) -> list[OutboxRow]:
    """Messages, newest first, optionally of one screen status or one request."""
    stmt = sa.select(*OUTBOX_COLUMNS).order_by(O.c.id.desc()).limit(limit).offset(offset)
    if view:
        stmt = stmt.where(_outbox_clause(view))
    if request_id is not None:
        stmt = stmt.where(O.c.request_id == request_id)
    return [_out(r) for r in conn.execute(stmt)]


def outbox_row(conn: sa.Connection, message_id: int) -> OutboxRow | None:
    found = conn.execute(sa.select(*OUTBOX_COLUMNS).where(O.c.id == message_id)).first()
    return _out(found) if found is not None else None


def outbox_total(conn: sa.Connection, view: str | None) -> int:
    stmt = sa.select(sa.func.count()).select_from(O)
    if view:
        stmt = stmt.where(_outbox_clause(view))
    return int(conn.execute(stmt).scalar() or 0)


def request_titles(conn: sa.Connection, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(sa.select(R.c.id, R.c.title).where(R.c.id.in_(sorted(set(ids)))))
    return {int(i): str(t) for i, t in rows}
