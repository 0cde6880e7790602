"""Read-only queries for the coordinators' dashboard, the search and the outbox screen.

Every query here is narrow on purpose and reads indexes, never a request's JSON: counts come
from one `GROUP BY` over an index (`ix_request_programme_state`, `ix_request_state_programme`,
`ix_request_emb_programme_state`, or the facets' `ix_request_facet_count` when a theme or a
year is asked for: storage/derived.py keeps them in the transaction of each change), lists
take their page's ids from an index and then read those rows, and the search looks folded
words up as ranges of `request_token` / `emb_token`. tests/storage/test_dashboard_plans.py
EXPLAINs every statement on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from storage.derived import TOP
from storage.models import (
    emb_table,
    emb_token_table,
    outbox_table,
    request_facet_table,
    request_table,
    request_token_table,
    timer_table,
    workflow_version_table,
)
from storage.outbox import _ROW_COLUMNS as OUTBOX_COLUMNS
from storage.outbox import OutboxRow
from storage.requests import RequestRow

R = request_table
E = emb_table
T = timer_table
F = request_facet_table
RT = request_token_table
ET = emb_token_table
WV = workflow_version_table
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


def _flag(r: Any) -> FlaggedRequest:
    return FlaggedRequest(*r)


def _out(r: Any) -> OutboxRow:
    return OutboxRow(*r)


def custom_plans(conn: sa.Connection) -> None:
    """On PostgreSQL, plan each statement of this read transaction for its own values. The
    driver prepares a statement run five times, and the server may then keep one plan for
    any values: a theme that half the requests have or a year that a few hundred have, a
    timer window of a week or of all time. Such a plan counted the overdue reminders under a
    theme in 82 ms instead of 0.1 at 100,000 requests (it walked the theme's 48,600 rows)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


# Filters read no request's JSON and join no organisation row: themes and years are facets
# (storage/derived.py) that carry the request's programme, state and organisation, and the
# organisation filters (EMB, kind, region) become a short list of organisation ids, matched
# on ix_request_emb_programme_state or on the facets' copy.
def _facets(f: RequestFilter) -> list[tuple[str, str]]:
    """The facets asked for, the most selective first: the first drives the statements (its
    range of ix_request_facet_count is read, the others are probed by primary key), and a
    year holds a few hundred requests where a theme holds a good part of all of them (at
    100,000 requests, theme and year counted in 0.5 ms instead of 50 from the theme)."""
    found = []
    if f.year is not None:
        found.append(("year", f"{f.year:04d}"))
    if f.theme:
        found.append(("theme", f.theme))
    return found


def _emb_ids(f: RequestFilter) -> sa.Select[Any] | None:
    clauses: list[Clause] = []
    if f.emb:
        clauses.append(E.c.code == f.emb)
    if f.kind:
        clauses.append(E.c.kind == f.kind)
    if f.countries is not None:
        clauses.append(E.c.country.in_(sorted(f.countries)))
    return sa.select(E.c.id).where(*clauses) if clauses else None


def _where(conn: sa.Connection, f: RequestFilter) -> list[Clause]:
    """The filter on the request table (for statements driven by another index: a state, a
    timer, the primary key): each facet is a primary-key probe of request_facet per row."""
    clauses: list[Clause] = []
    if f.programme:
        clauses.append(R.c.programme == f.programme)
    if f.state:
        clauses.append(R.c.state == f.state)
    embs = _emb_ids(f)
    if embs is not None:
        clauses.append(R.c.emb_id.in_(embs.scalar_subquery()))
    for facet, value in _facets(f):
        probe = sa.select(sa.literal(1)).where(
            F.c.request_id == R.c.id, F.c.facet == facet, F.c.value == value
        )
        clauses.append(probe.exists())
    return clauses


# every programme a request can be in (each request is pinned to a registered version): a
# state condition without a programme then reads ranges of ix_request_facet_count, not all
_PROGRAMMES = sa.select(WV.c.name).distinct().scalar_subquery()


def _facet_from(
    f: RequestFilter, states: Collection[str] | None = None
) -> tuple[sa.FromClause, Any, list[Clause]] | None:
    """With a theme or a year: the facet rows that select the requests (the first facet's
    alias, its join with the others on the request, and the conditions), all in indexes."""
    facets = _facets(f)
    if not facets:
        return None
    first = F.alias("f0")
    joined: sa.FromClause = first
    clauses: list[Clause] = [first.c.facet == facets[0][0], first.c.value == facets[0][1]]
    for n, (facet, value) in enumerate(facets[1:], start=1):
        other = F.alias(f"f{n}")
        joined = joined.join(
            other,
            sa.and_(
                other.c.request_id == first.c.request_id,
                other.c.facet == facet,
                other.c.value == value,
            ),
        )
    if f.programme:
        clauses.append(first.c.programme == f.programme)
    elif f.state or states is not None:
        clauses.append(first.c.programme.in_(_PROGRAMMES))
    if f.state:
        clauses.append(first.c.state == f.state)
    if states is not None:
        clauses.append(first.c.state.in_(sorted(states)))
    embs = _emb_ids(f)
    if embs is not None:
        clauses.append(first.c.emb_id.in_(embs.scalar_subquery()))
    return joined, first, clauses


def ids(
    conn: sa.Connection,
    f: RequestFilter,
    *,
    states: Collection[str] | None = None,
    newest_first: bool = True,
) -> sa.Select[Any]:
    """The ids of the requests under the filter (optionally only in `states`), ordered, read
    from indexes only: the facets' count index, or the request's own indexes."""
    facet = _facet_from(f, states)
    if facet is not None:
        joined, first, clauses = facet
        column = first.c.request_id
        stmt = sa.select(column).select_from(joined).where(*clauses)
    else:
        column = R.c.id
        clauses = _where(conn, f)
        if states is not None:
            clauses.append(R.c.state.in_(sorted(states)))
        stmt = sa.select(column).where(*clauses)
    return stmt.order_by(column.desc() if newest_first else column)


def counts(conn: sa.Connection, f: RequestFilter) -> list[tuple[str, str, int]]:
    """(programme, state, requests) for every pair that has any, under the filter."""
    facet = _facet_from(f)
    if facet is not None:
        joined, first, clauses = facet
        programme, state = first.c.programme, first.c.state
        stmt = sa.select(programme, state, sa.func.count()).select_from(joined).where(*clauses)
    elif _emb_ids(f) is not None:
        # organisations chosen (EMB, kind, region): counted per organisation in the order of
        # ix_request_emb_programme_state, then added up here; grouping the organisations'
        # ranges by (programme, state) in the database sorts every request they have
        # (kind=emb at 100,000 requests: 11 ms instead of 36)
        stmt = (
            sa.select(R.c.emb_id, R.c.programme, R.c.state, sa.func.count())
            .where(*_where(conn, f))
            .group_by(R.c.emb_id, R.c.programme, R.c.state)
        )
        added: dict[tuple[str, str], int] = {}
        for _emb, p, s, n in conn.execute(stmt):
            added[(p, s)] = added.get((p, s), 0) + int(n)
        return [(p, s, n) for (p, s), n in sorted(added.items())]
    else:
        programme, state = R.c.programme, R.c.state
        stmt = sa.select(programme, state, sa.func.count()).where(*_where(conn, f))
    stmt = stmt.group_by(programme, state).order_by(programme, state)
    return [(p, s, int(n)) for p, s, n in conn.execute(stmt)]


_LISTED_COLUMNS = (
    R.c.id,
    R.c.title,
    E.c.code,
    E.c.name,
    E.c.country,
    R.c.programme,
    R.c.state,
    R.c.updated_at,
)


def _listed(conn: sa.Connection, chosen: sa.Select[Any], *, newest_first: bool) -> list[Any]:
    stmt = (
        sa.select(*_LISTED_COLUMNS)
        .select_from(_FROM)
        .where(R.c.id.in_(chosen.scalar_subquery()))
        .order_by(R.c.id.desc() if newest_first else R.c.id)
    )
    return list(conn.execute(stmt))


def _listed_ids(conn: sa.Connection, wanted: Sequence[int]) -> list[Any]:
    """The listed rows of the requests `wanted` (ids), newest first."""
    stmt = (
        sa.select(*_LISTED_COLUMNS)
        .select_from(_FROM)
        .where(R.c.id.in_(sorted(set(wanted))))
        .order_by(R.c.id.desc())
    )
    return list(conn.execute(stmt))


def page(conn: sa.Connection, f: RequestFilter, *, limit: int, offset: int) -> list[ListedRequest]:
    """One page of requests, newest first: the page's ids from the indexes, then their rows."""
    chosen = ids(conn, f).limit(limit).offset(offset)
    return [ListedRequest(*r) for r in _listed(conn, chosen, newest_first=True)]


# ---------------------------------------------------------------- a listed page's warnings
def _raw(column: Any) -> Any:
    """`column` as the driver gives it, without SQLAlchemy's conversion of each value."""
    return sa.type_coerce(column, sa.types.NullType())


def _utc(value: Any) -> datetime:
    """What `storage.models.UTCDateTime` makes of a stored time: SQLite's text or the
    driver's datetime, as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _data_of(conn: sa.Connection, keys: Sequence[str]) -> Any:
    """The request data's `keys`, read in the database as one small JSON array (SQLite) or
    as their JSON values (PostgreSQL), not the whole document."""
    if conn.dialect.name == "postgresql":
        return _raw(sa.func.jsonb_build_array(*[R.c.data.op("->")(key) for key in keys]))
    return _raw(sa.func.json_array(*[sa.func.json_extract(R.c.data, f'$."{key}"') for key in keys]))


def in_years(
    conn: sa.Connection, programme: str, years: Collection[int], keys: Sequence[str]
) -> dict[int, list[RequestRow]]:
    """`storage.requests.in_year` for several years in one statement, each request with only
    those of its data `keys` that hold text: a page of 50 requests asks for the courses of a
    few years, hundreds each, and decoding their whole documents and converting every value
    cost most of the page (at 10,000 requests: 98 ms for 2,934 rows, now ~10)."""
    if not years:
        return {}
    wanted = {f"{y:04d}": y for y in years}
    stmt = (
        sa.select(
            _raw(F.c.value),
            _raw(R.c.id),
            _raw(R.c.programme),
            _raw(R.c.workflow_version),
            _raw(R.c.emb_id),
            _raw(E.c.code),
            _raw(R.c.title),
            _raw(R.c.state),
            _raw(R.c.held_from),
            _raw(R.c.version),
            _raw(R.c.created_at),
            _raw(R.c.updated_at),
            _data_of(conn, keys),
        )
        .select_from(F.join(R, R.c.id == F.c.request_id).outerjoin(E, R.c.emb_id == E.c.id))
        .where(F.c.facet == "year", F.c.value.in_(sorted(wanted)), F.c.programme == programme)
        .order_by(F.c.value, R.c.id)
    )
    found: dict[int, list[RequestRow]] = {y: [] for y in years}
    for r in conn.execute(stmt):
        values = json.loads(r[12]) if isinstance(r[12], str) else r[12]  # SQLite's is text
        data = {k: v for k, v in zip(keys, values, strict=True) if isinstance(v, str)}
        found[wanted[r[0]]].append(
            RequestRow(
                id=r[1],
                programme=r[2],
                workflow_version=r[3],
                emb_id=r[4],
                emb_code=r[5],
                title=r[6],
                state=r[7],
                held_from=r[8],
                data=data,
                version=r[9],
                created_at=_utc(r[10]),
                updated_at=_utc(r[11]),
            )
        )
    return found


# ---------------------------------------------------------------- search (issue 15)
SEARCH_COUNT_CAP = 1000  # beyond this the total is shown as "more than 1,000"


def _term_ids(term: str) -> sa.Select[Any]:
    """The ids of the requests one folded term begins a word of: in the request's own words
    (title, people), in its organisation's words (code, name, country), or its number."""
    low, high = term, term + TOP
    own = sa.select(RT.c.request_id.label("id")).where(RT.c.token >= low, RT.c.token < high)
    orgs = sa.select(ET.c.emb_id).where(ET.c.token >= low, ET.c.token < high)
    by_org = sa.select(R.c.id.label("id")).where(R.c.emb_id.in_(orgs.scalar_subquery()))
    parts: list[sa.Select[Any]] = [own, by_org]
    if term.isdigit() and len(term) <= 9:
        parts.append(sa.select(R.c.id.label("id")).where(R.c.id == int(term)))
    union = sa.union(*parts).subquery()
    return sa.select(union.c.id)


def search(
    conn: sa.Connection, terms: Sequence[str], f: RequestFilter, *, limit: int, offset: int
) -> tuple[list[ListedRequest], int]:
    """The requests every term finds (newest first) under the dashboard's filter, one page,
    and how many there are (counted up to SEARCH_COUNT_CAP + 1)."""
    if not terms:
        return [], 0
    sets = [_term_ids(t) for t in terms]
    found = (sets[0] if len(sets) == 1 else sa.intersect(*sets)).subquery("found")
    chosen = sa.select(found.c.id)
    filtered = _where(conn, f)
    if filtered:
        chosen = chosen.join_from(found, R, R.c.id == found.c.id).where(*filtered)
    chosen = chosen.order_by(found.c.id.desc())
    if offset + limit <= SEARCH_COUNT_CAP + 1:
        # the first pages: the found ids up to the cap in one statement, which gives both the
        # page and the count (the words are looked up once, not once for each: a word such as
        # "peru" finds a country's thousands of requests, read whole on PostgreSQL)
        capped_ids = [int(i) for i in conn.execute(chosen.limit(SEARCH_COUNT_CAP + 1)).scalars()]
        wanted = capped_ids[offset : offset + limit]
        listed = _listed_ids(conn, wanted) if wanted else []
        return [ListedRequest(*r) for r in listed], len(capped_ids)
    rows = _listed(conn, chosen.limit(limit).offset(offset), newest_first=True)
    capped = chosen.limit(SEARCH_COUNT_CAP + 1).subquery()
    total = conn.execute(sa.select(sa.func.count()).select_from(capped)).scalar()
    return [ListedRequest(*r) for r in rows], int(total or 0)


def _flag_columns() -> tuple[Any, ...]:
    return (R.c.id, R.c.title, R.c.programme, R.c.state)


COUNT_CAP = 1000  # attention lists count up to this many (then "1,000+")


def _flags_of(conn: sa.Connection, found: list[Any]) -> list[FlaggedRequest]:
    """(request id, timer, due) rows with their requests' title, programme, state, change."""
    wanted = sorted({int(r[0]) for r in found})
    requests = {
        int(r[0]): r
        for r in conn.execute(
            sa.select(R.c.id, R.c.title, R.c.programme, R.c.state, R.c.updated_at).where(
                R.c.id.in_(wanted)
            )
        )
    }
    return [
        FlaggedRequest(rid, r[1], r[2], r[3], name, due, r[4])
        for rid, name, due in found
        if (r := requests.get(int(rid))) is not None
    ]


def timers_due(
    conn: sa.Connection,
    f: RequestFilter,
    *,
    after: datetime | None,
    before: datetime,
    limit: int,
) -> tuple[list[FlaggedRequest], int, bool]:
    """Pending timers due in [after, before) (after None: any time before), soonest first,
    with their requests; how many there are (counted up to COUNT_CAP) and whether more.
    A theme or year filter joins the timers to the facets (which carry programme, state and
    organisation), any other filter to the request; none reads the timer index alone."""
    clauses: list[Clause] = [T.c.status == "pending", T.c.due_at < before]
    if after is not None:
        clauses.append(T.c.due_at >= after)
    source: sa.FromClause = T
    facet = _facet_from(f)
    if facet is not None:
        joined, first, more = facet
        source = T.join(joined, first.c.request_id == T.c.request_id)
        clauses += more
    elif filtered := _where(conn, f):
        source = T.join(R, T.c.request_id == R.c.id)
        clauses += filtered
    stmt = (
        sa.select(T.c.request_id, T.c.name, T.c.due_at)
        .select_from(source)
        .where(*clauses)
        .order_by(T.c.due_at, T.c.id)
        .limit(limit)
    )
    rows = _flags_of(conn, list(conn.execute(stmt)))
    capped = sa.select(T.c.id).select_from(source).where(*clauses).limit(COUNT_CAP + 1)
    total = int(
        conn.execute(sa.select(sa.func.count()).select_from(capped.subquery())).scalar() or 0
    )
    return rows, min(total, COUNT_CAP), total > COUNT_CAP


def in_states(
    conn: sa.Connection, f: RequestFilter, states: Collection[str], *, limit: int
) -> tuple[list[FlaggedRequest], int]:
    """Requests in any of `states` (e.g. on hold, report overdue), oldest change first."""
    if not states:
        return [], 0
    chosen = ids(conn, f, states=states, newest_first=False)
    stmt = (
        sa.select(*_flag_columns(), sa.null(), sa.null(), R.c.updated_at)
        .where(R.c.id.in_(chosen.limit(limit).scalar_subquery()))
        .order_by(R.c.id)
    )
    rows = [_flag(r) for r in conn.execute(stmt)]
    total = conn.execute(sa.select(sa.func.count()).select_from(chosen.subquery())).scalar()
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
    clauses: list[Clause] = [R.c.updated_at < before]
    if exclude_states:
        clauses.append(R.c.state.not_in(sorted(exclude_states)))
    if _facets(f):
        return _stale_of_facets(conn, f, clauses, limit)
    stmt = (
        sa.select(*_flag_columns(), sa.null(), sa.null(), R.c.updated_at)
        .where(*clauses, *_where(conn, f))
        .order_by(R.c.id)
        .limit(limit)
    )
    return [_flag(r) for r in conn.execute(stmt)]


STALE_FIRST_IDS = 500  # the facets' first ids looked at for stale requests (see below)


def _stale_of_facets(
    conn: sa.Connection, f: RequestFilter, clauses: list[Clause], limit: int
) -> list[FlaggedRequest]:
    """`stale` under a theme or a year: the facets' first STALE_FIRST_IDS ids (in id order,
    the top of the facets' range kept by the sort) and their requests, then, if fewer than
    `limit` of those are stale, the facets' other ids. A theme that a good part of the
    requests have otherwise made the database list all of them first (half of 100,000:
    20 ms for 21 rows)."""
    facet = _facet_from(f)
    assert facet is not None
    joined, first, where = facet
    column = first.c.request_id
    facet_ids = sa.select(column).select_from(joined).where(*where)
    first_ids = facet_ids.order_by(column).limit(STALE_FIRST_IDS)
    chosen = [int(i) for i in conn.execute(first_ids).scalars()]
    rows = _stale_rows(conn, R.c.id.in_(chosen), clauses, limit) if chosen else []
    if len(rows) < limit and len(chosen) == STALE_FIRST_IDS:
        rest = facet_ids.where(column > chosen[-1]).scalar_subquery()
        rows += _stale_rows(conn, R.c.id.in_(rest), clauses, limit - len(rows))
    return rows


def _stale_rows(
    conn: sa.Connection, among: Clause, clauses: list[Clause], limit: int
) -> list[FlaggedRequest]:
    stmt = (
        sa.select(*_flag_columns(), sa.null(), sa.null(), R.c.updated_at)
        .where(among, *clauses)
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
