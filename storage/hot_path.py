"""The three statements of a transition, run on the DBAPI cursor of the current transaction.

SQLAlchemy Core costs ~200 µs per statement here (LIBRARY-NOTES measured the ORM at 550 µs
per transition, Core at 130 µs, raw sqlite3 at 65 µs); a transition is read-lock, versioned
update and history insert, so this module writes those three by hand for SQLite and
PostgreSQL. Everything else goes through Core (`storage.requests`). The transaction itself
(BEGIN IMMEDIATE / COMMIT / ROLLBACK) stays SQLAlchemy's, so listeners can add their rows to
it with Core as usual.

Values are stored exactly as SQLAlchemy's types store them (naive UTC text on SQLite, JSON
text / JSONB), so both paths read each other's rows; `tests/storage/test_hot_path.py` pins it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from storage import derived, embs
from storage.requests import RequestRow

_SELECT = (
    "SELECT r.id, r.programme, r.workflow_version, r.emb_id, e.code, r.title, r.state, "
    "r.held_from, r.data, r.version, r.created_at, r.updated_at "
    "FROM request r LEFT OUTER JOIN emb e ON e.id = r.emb_id WHERE r.id = {p}"
)
_UPDATE = (
    "UPDATE request SET state = {p}, held_from = {p}, version = {p}, updated_at = {p}{data} "
    "WHERE id = {p} AND version = {p}"
)
_INSERT = (
    'INSERT INTO history (request_id, version, at, actor_role, actor_name, "trigger", '
    "from_state, to_state, comment, data_diff) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {j})"
)


class _Dialect:
    def __init__(self, name: str) -> None:
        self.sqlite = name == "sqlite"
        p = "?" if self.sqlite else "%s"
        j = p if self.sqlite else "%s::jsonb"
        self.select = _SELECT.format(p=p) + ("" if self.sqlite else " FOR UPDATE OF r")
        self.update = _UPDATE.format(p=p, data="")
        self.update_data = _UPDATE.format(p=p, data=f", data = {j}")
        self.insert = _INSERT.format(p=p, j=j) + ("" if self.sqlite else " RETURNING id")

    def time_in(self, value: datetime) -> Any:
        return driver_time(value, sqlite=self.sqlite)

    def time_out(self, value: Any) -> datetime:
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_DIALECTS = {"sqlite": _Dialect("sqlite"), "postgresql": _Dialect("postgresql")}
_SAVEPOINT_NAME = re.compile(r"[a-z_][a-z0-9_]{0,40}")


def driver_time(value: datetime, *, sqlite: bool) -> Any:
    """An aware datetime as SQLAlchemy's DateTime stores it: naive UTC text on SQLite (so rows
    written by hand and through Core compare), the datetime itself on PostgreSQL."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the database; use an aware UTC time")
    if sqlite:
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def _cursor(conn: sa.Connection) -> tuple[Any, _Dialect]:
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    return dbapi.cursor(), _DIALECTS[conn.dialect.name]


def lock_request(conn: sa.Connection, request_id: int) -> RequestRow | None:
    """Read one request and hold it until the transaction ends."""
    cur, d = _cursor(conn)
    cur.execute(d.select, (request_id,))
    row = cur.fetchone()
    cur.close()
    if row is None:
        return None
    data = row[8]
    return RequestRow(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        json.loads(data) if isinstance(data, str | bytes) else data,
        row[9],
        d.time_out(row[10]),
        d.time_out(row[11]),
    )


@contextmanager
def savepoint(conn: sa.Connection, name: str) -> Iterator[None]:
    """A SAVEPOINT of the current transaction on the DBAPI cursor: released when the block
    ends, rolled back to (then released) when it raises, the exception propagating. Costs a
    few µs where SQLAlchemy's `begin_nested` costs ~0.2 ms a pair; SQLAlchemy does not roll a
    transaction back on a statement error, so Core statements may run inside it."""
    if not _SAVEPOINT_NAME.fullmatch(name):
        raise ValueError(f"not a savepoint name: {name!r}")
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cur = dbapi.cursor()
    try:
        cur.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            cur.execute(f"ROLLBACK TO SAVEPOINT {name}")
            cur.execute(f"RELEASE SAVEPOINT {name}")
            raise
        cur.execute(f"RELEASE SAVEPOINT {name}")
    finally:
        cur.close()


def lock_requests(conn: sa.Connection, request_ids: Sequence[int]) -> None:
    """Hold several requests until the transaction ends, taking the locks in id order (the
    timer sweep, before a batch): two transactions that each lock many rows, in the same order,
    cannot deadlock. On SQLite the write transaction (BEGIN IMMEDIATE) already holds them all."""
    if conn.dialect.name == "sqlite" or not request_ids:
        return
    cur, _d = _cursor(conn)
    cur.execute(
        "SELECT id FROM request WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
        (sorted(set(request_ids)),),
    )
    cur.fetchall()
    cur.close()


def record_transition(
    conn: sa.Connection,
    *,
    request_id: int,
    expected_version: int,
    state: str,
    held_from: str | None,
    data: dict[str, Any] | None,
    now: datetime,
    actor_role: str,
    actor_name: str,
    trigger: str,
    from_state: str,
    comment: str | None,
    changes: dict[str, Any] | None,
    locked: RequestRow | None = None,
) -> int | None:
    """Versioned update + history row; returns the history id, or None on a version clash.
    `locked`: the row as `lock_request` read it in this transaction, whose title, programme,
    organisation and creation the derived values then take instead of reading them again."""
    cur, d = _cursor(conn)
    at = d.time_in(now)
    if data is None:
        cur.execute(
            d.update,
            (state, held_from, expected_version + 1, at, request_id, expected_version),
        )
    else:
        cur.execute(
            d.update_data,
            (
                state,
                held_from,
                expected_version + 1,
                at,
                json.dumps(data),
                request_id,
                expected_version,
            ),
        )
    if cur.rowcount != 1:
        cur.close()
        return None
    # the dashboard's filters and the search follow, in this transaction (storage/derived)
    derived.after_transition(
        conn,
        request_id,
        state,
        data,
        from_state=from_state,
        changes=changes,
        known=None
        if locked is None
        else (locked.title, locked.programme, locked.emb_id, locked.created_at),
    )
    cur.execute(
        d.insert,
        (
            request_id,
            expected_version + 1,
            at,
            actor_role,
            actor_name,
            trigger,
            from_state,
            state,
            comment,
            json.dumps(changes) if changes else None,
        ),
    )
    history_id = cur.lastrowid if d.sqlite else cur.fetchone()[0]
    cur.close()
    return int(history_id)


def emb_and_epoch(
    conn: sa.Connection, request_id: int, emb_code: str | None
) -> tuple[embs.EmbRow | None, int]:
    """The request's organisation (None without one) and its links epoch, in one statement on
    the DBAPI cursor: what the mail of every transition reads (two Core queries cost ~0.3 ms).
    The organisation's columns are `storage.embs`'s own, converted as Core converts them."""
    cur, d = _cursor(conn)
    cols = embs._COLS  # the columns EmbRow is made of, in its order
    p = "?" if d.sqlite else "%s"
    cur.execute(
        f"SELECT r.links_epoch, {', '.join('e.' + c.name for c in cols)} FROM request r "
        f"LEFT OUTER JOIN emb e ON e.code = {p} WHERE r.id = {p}",
        (emb_code, request_id),
    )
    row = cur.fetchone()
    cur.close()
    if row is None:
        return None, 0
    epoch = int(row[0] or 0)
    if not emb_code or row[1] is None:
        return None, epoch
    values: list[Any] = [
        bool(v) if isinstance(c.type, sa.Boolean) and v is not None else v
        for c, v in zip(cols, row[1:], strict=True)
    ]
    return embs.EmbRow(*values), epoch


def request_states(conn: sa.Connection) -> dict[tuple[str, int], list[tuple[int, str]]]:
    """(programme, workflow version) → [(id, state)] of every request, for list views.

    Two narrow queries beat one wide one: fetching the programme name with every row doubled
    the cost at 2,000 rows, and SQLAlchemy's result machinery would triple it again."""
    cur, d = _cursor(conn)
    cur.execute("SELECT DISTINCT programme, workflow_version FROM request")
    groups = cur.fetchall()
    out: dict[tuple[str, int], list[tuple[int, str]]] = {}
    if len(groups) == 1:
        cur.execute("SELECT id, state FROM request")
        out[(groups[0][0], groups[0][1])] = cur.fetchall()
    else:
        p = "?" if d.sqlite else "%s"
        for programme, version in groups:
            cur.execute(
                f"SELECT id, state FROM request WHERE programme = {p} AND workflow_version = {p}",
                (programme, version),
            )
            out[(programme, version)] = cur.fetchall()
    cur.close()
    return out
