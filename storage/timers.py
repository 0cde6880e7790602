"""Queries on timer rows (reminders, escalations, automatic transitions)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage.hot_path import driver_time
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


# the columns a planned timer row carries (engine.timers.TimerPlanner._rows), in this order
ARM_COLUMNS = (
    "key",
    "request_id",
    "name",
    "kind",
    "occurrence",
    "armed_in",
    "due_at",
    "status",
    "created_at",
    "fired_at",
    "outcome",
)
_TIMES = frozenset({"due_at", "created_at", "fired_at"})
_ARM_SET = frozenset(ARM_COLUMNS)


def arm(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert timers; a key already armed is left as it is (idempotent).

    Rows with exactly the planner's columns (`ARM_COLUMNS`) go in as one multi-row
    `INSERT … ON CONFLICT (key) DO NOTHING` on the DBAPI cursor (a transition arms a few at
    once); any other shape through Core, which fills the columns' defaults."""
    if not rows:
        return
    if all(row.keys() == _ARM_SET for row in rows):
        cur, is_sqlite, p = _cursor(conn)
        one = "(" + ", ".join([p] * len(ARM_COLUMNS)) + ")"
        for start in range(0, len(rows), 500):  # well under SQLite's bound parameters
            chunk = rows[start : start + 500]
            params: list[Any] = []
            for row in chunk:
                for column in ARM_COLUMNS:
                    value = row[column]
                    if column in _TIMES and value is not None:
                        value = driver_time(value, sqlite=is_sqlite)
                    params.append(value)
            cur.execute(
                f"INSERT INTO timer ({', '.join(ARM_COLUMNS)}) VALUES "
                + ", ".join([one] * len(chunk))
                + " ON CONFLICT (key) DO NOTHING",
                params,
            )
        cur.close()
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(T).on_conflict_do_nothing(index_elements=["key"]), list(rows))


def for_request_statement(request_id: int, *, statuses: Sequence[str] | None = None) -> sa.Select:
    """A request's timers (of these statuses) in due order; answered by
    ix_timer_request_status_due, whatever the number of other requests' timers."""
    stmt = sa.select(*_COLS).where(T.c.request_id == request_id)
    if statuses:
        stmt = stmt.where(T.c.status.in_(statuses))
    return stmt.order_by(T.c.due_at, T.c.id)


def for_request(
    conn: sa.Connection, request_id: int, *, statuses: Sequence[str] | None = None
) -> list[TimerRow]:
    if statuses is not None and tuple(statuses) == ("pending",):
        return pending_for_request(conn, request_id)
    return [
        TimerRow(*r) for r in conn.execute(for_request_statement(request_id, statuses=statuses))
    ]


_PENDING = (
    "SELECT id, key, request_id, name, kind, occurrence, armed_in, due_at, status, fired_at, "
    "outcome FROM timer WHERE request_id = {p} AND status = 'pending' ORDER BY due_at, id"
)


def _time_out(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def pending_for_request(conn: sa.Connection, request_id: int) -> list[TimerRow]:
    """A request's pending timers in due order, on the DBAPI cursor (every transition of a
    workflow with timers asks this); answered by ix_timer_request_status_due."""
    cur, _is_sqlite, p = _cursor(conn)
    cur.execute(_PENDING.format(p=p), (request_id,))
    found = cur.fetchall()
    cur.close()
    out = []
    for r in found:
        due_at = _time_out(r[7])
        assert due_at is not None  # NOT NULL
        out.append(
            TimerRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], due_at, r[8], _time_out(r[9]), r[10])
        )
    return out


def armed_since(conn: sa.Connection, request_id: int, since: datetime) -> set[tuple[str, int]]:
    """(timer, occurrence) of every row armed for a request at or after `since`, whatever
    became of it: what a stay in a state has already planned (a migration arms only the rest)."""
    stmt = sa.select(T.c.name, T.c.occurrence).where(
        T.c.request_id == request_id, T.c.created_at >= since
    )
    return {(str(name), int(n)) for name, n in conn.execute(stmt)}


# "still pending", written so that no planner answers it through ix_timer_due (status, …):
# the rows are found by their ids. Without statistics (SQLite by default, PostgreSQL on a
# fresh table) both preferred that index to the ids and read every pending timer of every
# request (`tests/storage/test_transition_plans.py`)
_STILL_PENDING = "(status || '') = 'pending'"


def cancel(conn: sa.Connection, ids: Sequence[int], *, now: datetime, why: str) -> None:
    if ids:
        cur, is_sqlite, p = _cursor(conn)
        cur.execute(
            "UPDATE timer SET status = 'cancelled', fired_at = {p}, outcome = {p} "
            "WHERE id IN ({ids}) AND {pending}".format(
                p=p, ids=", ".join([p] * len(ids)), pending=_STILL_PENDING
            ),
            (driver_time(now, sqlite=is_sqlite), why, *ids),
        )
        cur.close()


def cancel_all_but(
    conn: sa.Connection, request_id: int, keep: Collection[str], *, now: datetime, why: str
) -> None:
    """Cancel every pending timer of the request but those named in `keep` (a request leaving
    a state): one UPDATE through ix_timer_request_status_due, without reading the rows first."""
    cur, is_sqlite, p = _cursor(conn)
    but = f" AND name NOT IN ({', '.join([p] * len(keep))})" if keep else ""
    cur.execute(
        f"UPDATE timer SET status = 'cancelled', fired_at = {p}, outcome = {p} "
        f"WHERE request_id = {p} AND status = 'pending'{but}",
        (driver_time(now, sqlite=is_sqlite), why, request_id, *keep),
    )
    cur.close()


def move(conn: sa.Connection, timer_id: int, due_at: datetime) -> None:
    cur, is_sqlite, p = _cursor(conn)
    cur.execute(
        f"UPDATE timer SET due_at = {p} WHERE id = {p} AND {_STILL_PENDING}",
        (driver_time(due_at, sqlite=is_sqlite), timer_id),
    )
    cur.close()


@dataclass(frozen=True)
class ClaimedTimer:
    id: int
    request_id: int
    name: str
    kind: str
    occurrence: int
    due_at: datetime


_CLAIM_SQLITE = sa.text(
    "UPDATE timer SET status = 'claimed', lease_until = :lease, leased_by = :worker "
    "WHERE id IN (SELECT id FROM timer WHERE (status = 'pending' AND due_at <= :now) "
    "OR (status = 'claimed' AND lease_until < :now) ORDER BY due_at, id LIMIT :limit) "
    "RETURNING id, request_id, name, kind, occurrence, due_at"
)
_CLAIM_POSTGRES = sa.text(
    "WITH due AS (SELECT id FROM timer WHERE (status = 'pending' AND due_at <= :now) "
    "OR (status = 'claimed' AND lease_until < :now) ORDER BY due_at, id LIMIT :limit "
    "FOR UPDATE SKIP LOCKED) "
    "UPDATE timer t SET status = 'claimed', lease_until = :lease, leased_by = :worker "
    "FROM due WHERE t.id = due.id "
    "RETURNING t.id, t.request_id, t.name, t.kind, t.occurrence, t.due_at"
)


def claim_due(
    conn: sa.Connection, *, now: datetime, worker: str, lease_until: datetime, limit: int
) -> list[ClaimedTimer]:
    """Atomically take up to `limit` due timers (and ones whose claimer's lease ran out).

    One statement, so two workers never take the same row: on SQLite inside the caller's
    BEGIN IMMEDIATE, on PostgreSQL with FOR UPDATE SKIP LOCKED. Times are bound through the
    column type, so both dialects compare stored values with the same representation."""
    postgres = conn.dialect.name == "postgresql"
    stmt = (
        (_CLAIM_POSTGRES if postgres else _CLAIM_SQLITE)
        .bindparams(
            sa.bindparam("now", type_=T.c.due_at.type),
            sa.bindparam("lease", type_=T.c.due_at.type),
        )
        .columns(
            sa.column("id", sa.Integer),
            sa.column("request_id", sa.Integer),
            sa.column("name", sa.String),
            sa.column("kind", sa.String),
            sa.column("occurrence", sa.Integer),
            sa.column("due_at", T.c.due_at.type),
        )
    )
    rows = conn.execute(stmt, {"now": now, "lease": lease_until, "worker": worker, "limit": limit})
    claimed = [ClaimedTimer(*r) for r in rows]
    claimed.sort(key=lambda c: (c.due_at, c.id))  # RETURNING order is not guaranteed
    return claimed


_FINISH = (
    "UPDATE timer SET status = {p}, fired_at = {p}, outcome = {p}, lease_until = NULL "
    "WHERE id = {p} AND status = 'claimed' AND leased_by = {p}"
)
_NOTE = "UPDATE timer SET outcome = {p} WHERE id = {p} AND status = 'claimed' AND leased_by = {p}"
_RELEASE = (
    "UPDATE timer SET status = 'pending', lease_until = NULL, leased_by = NULL "
    "WHERE status = 'claimed' AND leased_by = {p}"
)


def _cursor(conn: sa.Connection) -> tuple[Any, bool, str]:
    """The DBAPI cursor of the caller's transaction (the sweep writes these rows once per
    timer: SQLAlchemy Core's statement machinery costs more than the statement itself)."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    is_sqlite = conn.dialect.name == "sqlite"
    return dbapi.cursor(), is_sqlite, "?" if is_sqlite else "%s"


def finish(
    conn: sa.Connection, timer_id: int, *, worker: str, status: str, now: datetime, outcome: str
) -> bool:
    """Record what became of a claimed timer; False when this worker no longer holds it."""
    cur, is_sqlite, p = _cursor(conn)
    cur.execute(
        _FINISH.format(p=p),
        (status, driver_time(now, sqlite=is_sqlite), outcome, timer_id, worker),
    )
    changed = cur.rowcount
    cur.close()
    return bool(changed == 1)


def note(conn: sa.Connection, timer_id: int, *, worker: str, outcome: str) -> bool:
    """Write why a claimed timer could not be fired, leaving it claimed: when the lease runs
    out, a sweep (this one or another worker's) takes it again. False if no longer held."""
    cur, _is_sqlite, p = _cursor(conn)
    cur.execute(_NOTE.format(p=p), (outcome, timer_id, worker))
    changed = cur.rowcount
    cur.close()
    return bool(changed == 1)


def release_all(conn: sa.Connection, worker: str) -> int:
    """Hand back every timer still claimed by `worker` (a worker stopping): pending again,
    due at once for any sweep. Returns how many."""
    cur, _is_sqlite, p = _cursor(conn)
    cur.execute(_RELEASE.format(p=p), (worker,))
    changed = cur.rowcount
    cur.close()
    return int(changed or 0)
