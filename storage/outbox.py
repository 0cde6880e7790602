"""Queries on the outbox: enqueue a rendered message, claim due messages with a lease, record
what the SMTP server said.

The claim is one statement per database, because anything else double-claims under
concurrency (LIBRARY-NOTES): on SQLite an `UPDATE … WHERE id IN (SELECT … LIMIT n)
RETURNING …` inside `BEGIN IMMEDIATE`; on PostgreSQL a `FOR UPDATE SKIP LOCKED` CTE feeding
the UPDATE. Enqueueing (once per message, inside the transaction that causes it), claiming
(once per batch) and settling (as the SMTP server answers: one message, or the few whose
answers came together) run on the DBAPI cursor, like `storage.hot_path`, so the per-message
cost stays a few microseconds; reads for screens go through SQLAlchemy Core. Every settle
statement carries `leased_by = worker AND status = 'sending'`: a dispatcher whose lease was
taken over cannot overwrite the new owner.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from storage.db import Database
from storage.hot_path import driver_time
from storage.models import outbox_table

O = outbox_table  # noqa: E741
STATUSES = ("pending", "sending", "sent", "dead")


@dataclass(frozen=True)
class Content:
    """A rendering shared by the recipients of one notification (table `outbox_content`)."""

    id: int
    sender: str
    text: str
    html: str
    name_mark: str | None
    link_mark: str | None
    invitation: dict[str, Any] | None


@dataclass(frozen=True)
class Parts:
    """What a message is assembled from when it is sent (rows written since migration 0015)."""

    to_name: str
    subject: str
    language: str
    created_at: datetime
    link: str | None
    attachments: list[dict[str, Any]] | None
    content: Content


@dataclass(frozen=True)
class Claimed:
    """What the dispatcher needs to send one message it holds the lease on: its bytes, or —
    for a row written since migration 0015 — the parts its bytes are assembled from
    (`parts`; `body` is empty until notifications.stored assembles it)."""

    id: int
    to_addr: str
    message_id: str
    body: bytes
    attempts: int  # including the attempt this claim starts
    ambiguous: int
    parts: Parts | None = None


@dataclass(frozen=True)
class OutboxRow:
    """An outbox row for screens and the CLI (without the message bytes)."""

    id: int
    key: str
    request_id: int | None
    history_id: int | None
    template: str
    language: str
    to_addr: str
    to_name: str
    subject: str
    message_id: str
    status: str
    attempts: int
    ambiguous: int
    next_attempt_at: datetime
    lease_until: datetime | None
    leased_by: str | None
    last_reply: str | None
    created_at: datetime
    sent_at: datetime | None
    wanted_language: str | None = None  # the recipient's own, when the mail was queued

    @property
    def fell_back(self) -> bool:
        """Written in another language than the recipient's own (the catalogue lacked it)."""
        return self.wanted_language is not None and self.wanted_language != self.language


@dataclass(frozen=True)
class Retry:
    id: int
    next_attempt_at: datetime
    reply: str
    ambiguous_increment: int = 0


# ---------------------------------------------------------------- raw statements
# what a message is sent from (`_claimed` reads them in this order)
_SENDING = (
    "id",
    "to_addr",
    "message_id",
    "body",
    "attempts",
    "ambiguous",
    "to_name",
    "subject",
    "language",
    "created_at",
    "link",
    "attachments",
    "content_id",
)
_CLAIM_SQLITE = (
    "UPDATE outbox SET status = 'sending', lease_until = ?, leased_by = ?, "
    "attempts = attempts + 1 "
    "WHERE id IN (SELECT id FROM outbox "
    "WHERE (status = 'pending' AND next_attempt_at <= ?) "
    "OR (status = 'sending' AND lease_until < ?) "
    "ORDER BY next_attempt_at, id LIMIT ?) "
    "RETURNING " + ", ".join(_SENDING)
)
_CLAIM_POSTGRES = (
    "WITH c AS (SELECT id FROM outbox "
    "WHERE (status = 'pending' AND next_attempt_at <= %s) "
    "OR (status = 'sending' AND lease_until < %s) "
    "ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED) "
    "UPDATE outbox o SET status = 'sending', lease_until = %s, leased_by = %s, "
    "attempts = o.attempts + 1 FROM c WHERE o.id = c.id "
    "RETURNING " + ", ".join(f"o.{column}" for column in _SENDING)
)
_MINE = " WHERE id = {p} AND leased_by = {p} AND status = 'sending'"
_ALL_MINE = " WHERE status = 'sending' AND leased_by = {p}"
_SENT = "UPDATE outbox SET status = 'sent', sent_at = {p}, last_reply = {p}, lease_until = NULL"
_RETRY = (
    "UPDATE outbox SET status = 'pending', next_attempt_at = {p}, last_reply = {p}, "
    "ambiguous = ambiguous + {p}, lease_until = NULL, leased_by = NULL"
)
_SENT_POSTGRES = (
    "UPDATE outbox SET status = 'sent', sent_at = %s, last_reply = v.reply, lease_until = NULL "
    "FROM unnest(%s::integer[], %s::text[]) AS v(id, reply) "
    "WHERE outbox.id = v.id AND outbox.leased_by = %s AND outbox.status = 'sending'"
)
_ASYNC_COMMIT = "SET LOCAL synchronous_commit TO off"
# the same as _SENT_POSTGRES, as a transaction of its own (autocommit) that sets its own commit
# asynchronous: one round trip
_SENT_POSTGRES_ALONE = (
    "UPDATE outbox SET status = 'sent', sent_at = %s, last_reply = v.reply, lease_until = NULL "
    "FROM unnest(%s::integer[], %s::text[]) AS v(id, reply), "
    "(SELECT set_config('synchronous_commit', 'off', true)) AS async_commit "
    "WHERE outbox.id = v.id AND outbox.leased_by = %s AND outbox.status = 'sending'"
)
_DEAD = "UPDATE outbox SET status = 'dead', last_reply = {p}, lease_until = NULL"
_RELEASE = (
    "UPDATE outbox SET status = 'pending', attempts = attempts - 1, lease_until = NULL, "
    "leased_by = NULL"
)
_INSERT = (
    'INSERT INTO outbox ("key", request_id, history_id, template, language, wanted_language, '
    "to_addr, to_name, subject, message_id, body, attachments, content_id, link, status, "
    "attempts, ambiguous, next_attempt_at, created_at) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {j}, {p}, {p}, 'pending', "
    '0, 0, {p}, {p}) ON CONFLICT ("key") DO NOTHING RETURNING id'
)
_INSERT_CONTENT = (
    "INSERT INTO outbox_content (sender, text, html, name_mark, link_mark, invitation, "
    "created_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}) RETURNING id"
)
_CONTENTS = (
    "SELECT id, sender, text, html, name_mark, link_mark, invitation FROM outbox_content "
    "WHERE id IN ({ids})"
)
_REVIVE = (
    "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = {p}, "
    "lease_until = NULL, leased_by = NULL WHERE id = {p} AND status = 'dead'"
)


class _Dialect:
    def __init__(self, name: str) -> None:
        self.sqlite = name == "sqlite"
        p = "?" if self.sqlite else "%s"
        self.sent = (_SENT + _MINE).format(p=p)
        self.retry = (_RETRY + _MINE).format(p=p)
        self.dead = (_DEAD + _MINE).format(p=p)
        self.release = (_RELEASE + _MINE).format(p=p)
        self.release_all = (_RELEASE + _ALL_MINE).format(p=p)
        self.revive = _REVIVE.format(p=p)
        self.insert = _INSERT.format(p=p, j=p if self.sqlite else "%s::jsonb")
        self.insert_many = self.insert.removesuffix(" RETURNING id")
        self.insert_content = _INSERT_CONTENT.format(p=p)
        self.p = p

    def time_in(self, value: datetime) -> Any:
        return driver_time(value, sqlite=self.sqlite)


_DIALECTS = {"sqlite": _Dialect("sqlite"), "postgresql": _Dialect("postgresql")}


def _cursor(conn: sa.Connection) -> tuple[Any, _Dialect]:
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    return dbapi.cursor(), _DIALECTS[conn.dialect.name]


# ---------------------------------------------------------------- enqueue
@dataclass(frozen=True)
class NewContent:
    """A rendering to store once for the messages that share it (`insert_many`)."""

    sender: str
    text: str
    html: str
    name_mark: str | None = None
    link_mark: str | None = None
    invitation: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class NewMessage:
    """A rendered message to enqueue (`insert_many`): its MIME bytes (`body`), or the index of
    its rendering among the contents given with it (`content`) and its own `link`."""

    key: str
    request_id: int | None
    history_id: int | None
    template: str
    language: str
    to_addr: str
    to_name: str
    subject: str
    message_id: str
    body: bytes | None = None
    wanted_language: str | None = None
    # the documents the dispatcher attaches when it sends (notifications/attachments.py)
    attachments: Sequence[Mapping[str, Any]] | None = None
    content: int | None = None
    link: str | None = None


def _values(m: NewMessage, at: Any, content_id: int | None = None) -> tuple[Any, ...]:
    # JSON as the column's type stores it (SQLAlchemy's JSON: json.dumps)
    documents = json.dumps(list(m.attachments)) if m.attachments else None
    return (
        m.key,
        m.request_id,
        m.history_id,
        m.template,
        m.language,
        m.wanted_language,
        m.to_addr,
        m.to_name,
        m.subject,
        m.message_id,
        m.body,
        documents,
        content_id,
        m.link,
        at,
        at,
    )


def insert(
    conn: sa.Connection,
    *,
    key: str,
    request_id: int | None,
    history_id: int | None,
    template: str,
    language: str,
    to_addr: str,
    to_name: str,
    subject: str,
    message_id: str,
    body: bytes,
    now: datetime,
    wanted_language: str | None = None,
    attachments: Sequence[Mapping[str, Any]] | None = None,
) -> int | None:
    """Enqueue a rendered message in the caller's transaction; None if `key` is already there
    (so replaying the change that caused it never mails twice)."""
    message = NewMessage(
        key,
        request_id,
        history_id,
        template,
        language,
        to_addr,
        to_name,
        subject,
        message_id,
        body,
        wanted_language,
        attachments,
    )
    cur, d = _cursor(conn)
    cur.execute(d.insert, _values(message, d.time_in(now)))
    found = cur.fetchone()
    cur.close()
    return None if found is None else int(found[0])


def insert_many(
    conn: sa.Connection,
    messages: Sequence[NewMessage],
    now: datetime,
    contents: Sequence[NewContent] = (),
) -> None:
    """`insert` for the messages of one change, in one statement run for each (a message
    whose key is already there is skipped, as with `insert`), after the renderings they share
    (`contents`, which `NewMessage.content` indexes)."""
    if not messages:
        return
    cur, d = _cursor(conn)
    at = d.time_in(now)
    ids: list[int] = []
    for c in contents:
        invitation = json.dumps(dict(c.invitation), sort_keys=True) if c.invitation else None
        cur.execute(
            d.insert_content,
            (c.sender, c.text, c.html, c.name_mark, c.link_mark, invitation, at),
        )
        ids.append(int(cur.fetchone()[0]))
    cur.executemany(
        d.insert_many,
        [_values(m, at, None if m.content is None else ids[m.content]) for m in messages],
    )
    if ids and cur.rowcount != len(messages):  # some were there already: replayed
        _drop_unused(cur, d, ids, [m.key for m in messages])
    cur.close()


def _drop_unused(cur: Any, d: _Dialect, ids: list[int], keys: list[str]) -> None:
    """Drop the contents just written that none of the messages (by key) uses: those whose
    messages were already queued (a replay writes no message twice, nor their content)."""
    cur.execute(
        f'SELECT content_id FROM outbox WHERE "key" IN ({", ".join([d.p] * len(keys))})', keys
    )
    used = {r[0] for r in cur.fetchall()}
    unused = [i for i in ids if i not in used]
    if unused:
        cur.execute(
            f"DELETE FROM outbox_content WHERE id IN ({', '.join([d.p] * len(unused))})", unused
        )


# ---------------------------------------------------------------- delivery
def claim_due(
    db: Database,
    *,
    now: datetime,
    worker: str,
    lease_seconds: float,
    limit: int,
    due_by: datetime | None = None,
) -> list[Claimed]:
    """Atomically lease up to `limit` messages that are due (or whose lease expired) to
    `worker` until `now + lease_seconds`, counting the attempt. `due_by` (default `now`) lets a
    dispatcher's pass ignore messages it has itself rescheduled during the pass."""
    lease_until = now + timedelta(seconds=lease_seconds)
    cutoff = due_by or now
    with db.transaction() as conn:
        cur, d = _cursor(conn)
        if d.sqlite:
            cur.execute(
                _CLAIM_SQLITE,
                (d.time_in(lease_until), worker, d.time_in(cutoff), d.time_in(now), limit),
            )
        else:
            cur.execute(_CLAIM_POSTGRES, (cutoff, now, limit, lease_until, worker))
        rows = cur.fetchall()
        contents = _contents(cur, d, {r[12] for r in rows if r[3] is None and r[12] is not None})
        cur.close()
    rows.sort(key=lambda r: r[0])
    return [_claimed(r, contents) for r in rows]


def _contents(cur: Any, d: _Dialect, ids: set[int]) -> dict[int, Content]:
    if not ids:
        return {}
    cur.execute(_CONTENTS.format(ids=", ".join([d.p] * len(ids))), tuple(sorted(ids)))
    return {
        int(r[0]): Content(
            int(r[0]), r[1], r[2], r[3], r[4], r[5], json.loads(r[6]) if r[6] else None
        )
        for r in cur.fetchall()
    }


def _claimed(r: Sequence[Any], contents: Mapping[int, Content]) -> Claimed:
    """A row of `_SENDING`'s columns with its content."""
    if r[3] is not None:
        return Claimed(r[0], r[1], r[2], bytes(r[3]), r[4], r[5])
    content = contents.get(r[12]) if r[12] is not None else None
    if content is None:  # a row with neither bytes nor content: nothing can be sent
        content = Content(-1, "", "", "", None, None, None)
    created = r[9]
    if isinstance(created, str):  # SQLite: naive UTC text
        created = datetime.fromisoformat(created)
    created = created.replace(tzinfo=UTC) if created.tzinfo is None else created.astimezone(UTC)
    documents = json.loads(r[11]) if isinstance(r[11], str) else r[11]
    parts = Parts(r[6] or "", r[7], r[8], created, r[10], documents or None, content)
    return Claimed(r[0], r[1], r[2], b"", r[4], r[5], parts)


def settle(
    db: Database,
    *,
    worker: str,
    now: datetime | None = None,
    sent: Sequence[tuple[int, str]] = (),
    retry: Sequence[Retry] = (),
    dead: Sequence[tuple[int, str]] = (),
    release: Sequence[int] = (),
) -> None:
    """Record outcomes in one short transaction (one statement or executemany per kind). Rows
    no longer leased by `worker` are left alone. `release` hands back claims that were not
    tried (their attempt is not counted).

    On PostgreSQL the commit does not wait for the WAL flush (`synchronous_commit = off` for
    this transaction only), as SQLite's `synchronous=NORMAL` does not: an outcome is safe the
    moment the server has it, whatever happens to the dispatcher; only a crash of the database
    server itself could lose the last fraction of a second of outcomes, whose messages would
    then be sent again with the same Message-ID. Waiting for the flush would put a disk sync
    between every message and the next on a connection."""
    with db.transaction() as conn:
        _settle(conn, worker, now, sent, retry, dead, release)


class Settler:
    """`settle` for a dispatcher's pass, which records outcomes one message (or a few) at a
    time, on one connection kept for the pass: no pool checkout and reset each time, and on
    PostgreSQL messages sent are marked by a single statement that is its own transaction (one
    round trip instead of four; the rarer failures take a transaction as in `settle`). Same
    effect as `settle`. One call at a time (from any thread); `close()` after."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: sa.Connection | None = None

    def settle(
        self,
        *,
        worker: str,
        now: datetime | None = None,
        sent: Sequence[tuple[int, str]] = (),
        retry: Sequence[Retry] = (),
        dead: Sequence[tuple[int, str]] = (),
        release: Sequence[int] = (),
    ) -> None:
        if self._db.is_sqlite:
            with self._connection() as conn, conn.begin():
                _settle(conn, worker, now, sent, retry, dead, release)
            return
        if retry or dead or release:
            settle(self._db, worker=worker, now=now, retry=retry, dead=dead, release=release)
        if sent:
            if now is None:
                raise ValueError("settle needs `now` to record when messages were sent")
            ids, replies = zip(*sent, strict=True)
            with self._connection() as conn:
                cur, _d = _cursor(conn)
                cur.execute(_SENT_POSTGRES_ALONE, (now, list(ids), list(replies), worker))
                cur.close()

    @contextmanager
    def _connection(self) -> Iterator[sa.Connection]:
        if self._conn is None:
            self._conn = self._db.engine.connect()
            if not self._db.is_sqlite:  # reset when the connection goes back to the pool
                self._conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield self._conn
        except BaseException:
            self.close()  # the connection may be broken: the next call takes a fresh one
            raise

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _settle(
    conn: sa.Connection,
    worker: str,
    now: datetime | None,
    sent: Sequence[tuple[int, str]],
    retry: Sequence[Retry],
    dead: Sequence[tuple[int, str]],
    release: Sequence[int],
) -> None:
    cur, d = _cursor(conn)
    if not d.sqlite:
        cur.execute(_ASYNC_COMMIT)
    if sent:
        if now is None:
            raise ValueError("settle needs `now` to record when messages were sent")
        at = d.time_in(now)
        if d.sqlite:  # in-process: executemany is as cheap as it gets
            cur.executemany(d.sent, [(at, reply, i, worker) for i, reply in sent])
        else:  # one round trip for the whole batch (executemany: 20 ms per 200 rows)
            ids, replies = zip(*sent, strict=True)
            cur.execute(_SENT_POSTGRES, (at, list(ids), list(replies), worker))
    if retry:
        cur.executemany(
            d.retry,
            [
                (d.time_in(r.next_attempt_at), r.reply, r.ambiguous_increment, r.id, worker)
                for r in retry
            ],
        )
    if dead:
        cur.executemany(d.dead, [(reply, i, worker) for i, reply in dead])
    if release:
        cur.executemany(d.release, [(i, worker) for i in release])
    cur.close()


def release_all(conn: sa.Connection, worker: str) -> int:
    """Hand back every message still being sent by `worker` (a worker stopping): pending
    again, due at once for any dispatcher, the attempt not counted. Returns how many."""
    cur, d = _cursor(conn)
    cur.execute(d.release_all, (worker,))
    changed = cur.rowcount
    cur.close()
    return int(changed or 0)


def mark_sent(
    db: Database, ids_with_replies: Iterable[tuple[int, str]], now: datetime, *, worker: str
) -> None:
    settle(db, worker=worker, now=now, sent=list(ids_with_replies))


def retry(db: Database, id: int, now: datetime) -> bool:
    """A coordinator sends a dead letter again: back to pending, due now, attempts reset.
    `ambiguous` is kept, so a message whose delivery was uncertain is not resent blindly twice
    more. False if the row is not a dead letter."""
    with db.transaction() as conn:
        cur, d = _cursor(conn)
        cur.execute(d.revive, (d.time_in(now), id))
        changed = cur.rowcount
        cur.close()
    return bool(changed == 1)


# ---------------------------------------------------------------- reads
_ROW_COLUMNS = (
    O.c.id,
    O.c.key,
    O.c.request_id,
    O.c.history_id,
    O.c.template,
    O.c.language,
    O.c.to_addr,
    O.c.to_name,
    O.c.subject,
    O.c.message_id,
    O.c.status,
    O.c.attempts,
    O.c.ambiguous,
    O.c.next_attempt_at,
    O.c.lease_until,
    O.c.leased_by,
    O.c.last_reply,
    O.c.created_at,
    O.c.sent_at,
    O.c.wanted_language,
)


def _row(r: Any) -> OutboxRow:
    return OutboxRow(*r)


def listing(
    conn: sa.Connection, status: str | None = None, request_id: int | None = None
) -> list[OutboxRow]:
    stmt = sa.select(*_ROW_COLUMNS).order_by(O.c.id)
    if status is not None:
        stmt = stmt.where(O.c.status == status)
    if request_id is not None:
        stmt = stmt.where(O.c.request_id == request_id)
    return [_row(r) for r in conn.execute(stmt)]


def by_history(conn: sa.Connection, request_id: int) -> dict[int | None, list[OutboxRow]]:
    """The messages of a request grouped by the history entry that caused them (for the
    request's timeline)."""
    grouped: dict[int | None, list[OutboxRow]] = {}
    for row in listing(conn, request_id=request_id):
        grouped.setdefault(row.history_id, []).append(row)
    return grouped


def counts(conn: sa.Connection) -> dict[str, int]:
    """Messages per status, every status present (for health pages and metrics)."""
    found = dict.fromkeys(STATUSES, 0)
    for status, n in conn.execute(sa.select(O.c.status, sa.func.count()).group_by(O.c.status)):
        found[status] = int(n)
    return found


_MESSAGE = "SELECT " + ", ".join(_SENDING) + " FROM outbox WHERE id = {p}"


def message(conn: sa.Connection, id: int) -> Claimed | None:
    """A message as the dispatcher would take it, without claiming it (to show it as it would
    be sent: notifications.stored assembles its bytes)."""
    cur, d = _cursor(conn)
    cur.execute(_MESSAGE.format(p=d.p), (id,))
    row = cur.fetchone()
    if row is None:
        cur.close()
        return None
    contents = _contents(cur, d, {row[12]} if row[3] is None and row[12] is not None else set())
    cur.close()
    return _claimed(row, contents)
