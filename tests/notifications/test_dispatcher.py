"""Delivery from the outbox to a real SMTP server, on SQLite and PostgreSQL. Every test looks
at what the server actually received; time moves by hand (ManualClock), never by sleeping."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP, Envelope, Session

from engine.clock import ManualClock
from notifications.dispatcher import Dispatcher, DispatchReport
from storage import outbox, requests
from storage.db import Database
from storage.models import outbox_table
from storage.outbox import OutboxRow
from tests.notifications import conftest as mail_fixtures
from tests.notifications.conftest import Queued, SmtpServer

Enqueue = Callable[..., list[Queued]]
MakeDispatcher = Callable[..., Dispatcher]
Dispatch = Callable[[Dispatcher], DispatchReport]


def row(db: Database, row_id: int) -> OutboxRow:
    with db.read() as conn:
        (found,) = [r for r in outbox.listing(conn) if r.id == row_id]
    return found


def test_a_due_message_is_delivered_once_and_marked_sent(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
    clock: ManualClock,
) -> None:
    (msg,) = enqueue(db, to_addr="ana@example.org")
    dispatcher = make_dispatcher(db)

    assert dispatch(dispatcher) == DispatchReport(sent=1)
    assert dispatch(dispatcher) == DispatchReport()

    (got,) = smtp_server.received
    assert got.message_id == msg.message_id
    assert got.rcpt_tos == ("ana@example.org",)
    assert got.mail_from == "cicie@cicie.test"
    sent = row(db, msg.id)
    assert (sent.status, sent.attempts, sent.sent_at) == ("sent", 1, clock())
    assert sent.last_reply is not None
    assert sent.last_reply.startswith("250")
    with db.read() as conn:
        assert outbox.counts(conn) == {"pending": 0, "sending": 0, "sent": 1, "dead": 0}


def test_enqueueing_the_same_key_twice_keeps_one_message(
    db: Database, enqueue: Enqueue, clock: ManualClock
) -> None:
    (first,) = enqueue(db)
    original = row(db, first.id)
    with db.transaction() as conn:
        again = outbox.insert(
            conn,
            key=original.key,
            request_id=None,
            history_id=None,
            template="test",
            language="en",
            to_addr=original.to_addr,
            to_name="",
            subject="again",
            message_id="<another@cicie.test>",
            body=b"Subject: again\r\n\r\nx\r\n",
            now=clock(),
        )
    assert again is None
    with db.read() as conn:
        assert [r.id for r in outbox.listing(conn)] == [first.id]


def test_a_server_that_is_down_gets_the_message_exactly_once_after_it_returns(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
    clock: ManualClock,
) -> None:
    (msg,) = enqueue(db)
    dispatcher = make_dispatcher(db)
    smtp_server.go_down()

    assert dispatch(dispatcher) == DispatchReport(retrying=1)
    waiting = row(db, msg.id)
    assert (waiting.status, waiting.attempts, waiting.ambiguous) == ("pending", 1, 0)
    assert clock() < waiting.next_attempt_at <= clock() + timedelta(seconds=30)
    assert waiting.last_reply
    assert "SMTPConnectError" in waiting.last_reply

    smtp_server.come_back()
    assert dispatch(dispatcher) == DispatchReport()  # not due yet
    clock.advance(timedelta(seconds=31))
    assert dispatch(dispatcher) == DispatchReport(sent=1)
    clock.advance(timedelta(hours=2))
    assert dispatch(dispatcher) == DispatchReport()
    assert smtp_server.message_ids() == [msg.message_id]


def test_an_outage_costs_one_connection_attempt_per_pass_not_one_per_message(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
) -> None:
    queued = enqueue(db, 20)
    smtp_server.go_down()
    assert dispatch(make_dispatcher(db, connections=2)) == DispatchReport(retrying=20)
    with db.read() as conn:
        assert {r.status for r in outbox.listing(conn)} == {"pending"}
    assert len(queued) == 20
    assert smtp_server.received == []


@pytest.mark.parametrize(
    "reply", ["421 4.3.2 Service shutting down", "451 4.3.0 Temporary local problem"]
)
def test_a_temporary_reply_to_data_is_retried_and_delivered_once(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
    clock: ManualClock,
    reply: str,
) -> None:
    (msg,) = enqueue(db)
    dispatcher = make_dispatcher(db)
    smtp_server.reply_data(reply)

    assert dispatch(dispatcher) == DispatchReport(retrying=1)
    assert row(db, msg.id).last_reply == reply
    assert smtp_server.received == []

    clock.advance(timedelta(hours=1))
    assert dispatch(dispatcher) == DispatchReport(sent=1)
    assert smtp_server.message_ids() == [msg.message_id]


def test_a_550_to_rcpt_makes_a_dead_letter_that_is_never_retried(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
    clock: ManualClock,
) -> None:
    (msg,) = enqueue(db)
    dispatcher = make_dispatcher(db)
    smtp_server.reply_rcpt("550 5.1.1 No such user here")

    assert dispatch(dispatcher) == DispatchReport(dead=1)
    clock.advance(timedelta(days=3))
    assert dispatch(dispatcher) == DispatchReport()

    assert smtp_server.received == []
    with db.read() as conn:
        (dead,) = outbox.listing(conn, status="dead")
        assert outbox.counts(conn)["dead"] == 1
    assert (dead.id, dead.attempts) == (msg.id, 1)
    assert dead.last_reply == "550 5.1.1 No such user here"


def test_a_552_to_rcpt_is_temporary_as_rfc_5321_says(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
    clock: ManualClock,
) -> None:
    (msg,) = enqueue(db)
    dispatcher = make_dispatcher(db)
    smtp_server.reply_rcpt("552 Mailbox full")

    assert dispatch(dispatcher) == DispatchReport(retrying=1)
    clock.advance(timedelta(hours=1))
    assert dispatch(dispatcher) == DispatchReport(sent=1)
    assert smtp_server.message_ids() == [msg.message_id]


def test_a_dead_letter_put_back_by_a_coordinator_is_delivered(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
    clock: ManualClock,
) -> None:
    (msg,) = enqueue(db)
    dispatcher = make_dispatcher(db)
    smtp_server.reply_rcpt("550 5.7.1 Relaying denied")
    assert dispatch(dispatcher) == DispatchReport(dead=1)

    clock.advance(timedelta(days=1))
    assert outbox.retry(db, msg.id, clock()) is True
    assert outbox.retry(db, msg.id, clock()) is False  # no longer a dead letter
    assert dispatch(dispatcher) == DispatchReport(sent=1)

    assert smtp_server.message_ids() == [msg.message_id]
    assert (row(db, msg.id).status, row(db, msg.id).attempts) == ("sent", 1)


def test_temporary_failures_back_off_and_give_up_after_max_attempts(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
    clock: ManualClock,
) -> None:
    (msg,) = enqueue(db)
    dispatcher = make_dispatcher(db, max_attempts=3)
    smtp_server.go_down()

    for attempt, ceiling in ((1, 30), (2, 60)):
        assert dispatch(dispatcher) == DispatchReport(retrying=1)
        waiting = row(db, msg.id)
        assert waiting.attempts == attempt
        assert clock() < waiting.next_attempt_at <= clock() + timedelta(seconds=ceiling)
        clock.set(waiting.next_attempt_at)
    assert dispatch(dispatcher) == DispatchReport(dead=1)

    dead = row(db, msg.id)
    assert dead.status == "dead"
    assert dead.last_reply
    assert dead.last_reply.endswith("(gave up after 3 attempts)")
    smtp_server.come_back()
    clock.advance(timedelta(days=1))
    assert dispatch(dispatcher) == DispatchReport()
    assert smtp_server.received == []


def test_a_dispatcher_that_died_after_claiming_is_taken_over_when_its_lease_expires(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
    clock: ManualClock,
) -> None:
    (msg,) = enqueue(db)
    claimed = outbox.claim_due(db, now=clock(), worker="ghost", lease_seconds=120, limit=10)
    assert [c.id for c in claimed] == [msg.id]  # …and "ghost" dies without sending

    live = make_dispatcher(db, worker="live")
    assert dispatch(live) == DispatchReport()  # the lease still holds
    clock.advance(timedelta(seconds=121))
    assert dispatch(live) == DispatchReport(sent=1)

    # the ghost's late bookkeeping cannot touch a row it no longer holds
    outbox.mark_sent(db, [(msg.id, "250 from the ghost")], clock(), worker="ghost")
    taken = row(db, msg.id)
    assert (taken.status, taken.leased_by, taken.attempts) == ("sent", "live", 2)
    assert taken.last_reply != "250 from the ghost"
    assert smtp_server.message_ids() == [msg.message_id]


class LeaseEatingClock:
    """Every reading is a lease and a second later than the one before."""

    def __init__(self, start: datetime, lease_seconds: int) -> None:
        self._now = start
        self._step = timedelta(seconds=lease_seconds + 1)

    def __call__(self) -> datetime:
        now = self._now
        self._now += self._step
        return now


def test_a_dispatcher_never_sends_a_message_whose_lease_ran_out(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
    clock: ManualClock,
) -> None:
    (msg,) = enqueue(db)
    slow = make_dispatcher(db, lease_seconds=60, clock_=LeaseEatingClock(clock(), 60))

    assert dispatch(slow) == DispatchReport()
    assert smtp_server.received == []
    handed_back = row(db, msg.id)
    assert (handed_back.status, handed_back.attempts, handed_back.leased_by) == (
        "pending",
        0,
        None,
    )
    assert dispatch(make_dispatcher(db)) == DispatchReport(sent=1)
    assert smtp_server.message_ids() == [msg.message_id]


def test_an_ambiguous_timeout_after_data_resends_once_with_the_same_message_id(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
) -> None:
    (msg,) = enqueue(db)
    smtp_server.stall_after_data(10.0)  # keeps the message, answers too late

    dispatcher = make_dispatcher(db, timeout=0.5)

    assert dispatch(dispatcher) == DispatchReport(retrying=1)
    assert row(db, msg.id).status == "pending"  # due again at once: resent by the next pass
    assert dispatch(dispatcher) == DispatchReport(sent=1)
    first, second = smtp_server.received
    assert first.message_id == second.message_id == msg.message_id
    assert first.content == second.content
    done = row(db, msg.id)
    assert (done.status, done.ambiguous, done.attempts) == ("sent", 1, 2)


def test_a_connection_dropped_after_data_is_ambiguous_too(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
) -> None:
    (msg,) = enqueue(db)
    smtp_server.drop_after_data()

    dispatcher = make_dispatcher(db)
    assert dispatch(dispatcher) == DispatchReport(retrying=1)
    assert dispatch(dispatcher) == DispatchReport(sent=1)
    assert smtp_server.message_ids() == [msg.message_id, msg.message_id]
    assert row(db, msg.id).ambiguous == 1


def test_a_second_ambiguous_failure_makes_a_dead_letter_saying_delivery_is_uncertain(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
    clock: ManualClock,
) -> None:
    (msg,) = enqueue(db)
    smtp_server.stall_after_data(10.0)
    smtp_server.drop_after_data()
    dispatcher = make_dispatcher(db, timeout=0.5)

    assert dispatch(dispatcher) == DispatchReport(retrying=1)
    assert dispatch(dispatcher) == DispatchReport(dead=1)
    clock.advance(timedelta(days=1))
    assert dispatch(dispatcher) == DispatchReport()

    assert smtp_server.message_ids() == [msg.message_id, msg.message_id]
    dead = row(db, msg.id)
    assert dead.status == "dead"
    assert dead.last_reply is not None
    assert dead.last_reply.startswith(
        f"delivery uncertain: the server may already have it (Message-ID {msg.message_id})"
    )


def test_a_server_silent_before_354_is_retried_not_counted_as_ambiguous(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
    clock: ManualClock,
) -> None:
    (msg,) = enqueue(db)
    smtp_server.stall_before_data(10.0)
    dispatcher = make_dispatcher(db, timeout=0.5)

    assert dispatch(dispatcher) == DispatchReport(retrying=1)
    waiting = row(db, msg.id)
    assert (waiting.status, waiting.ambiguous) == ("pending", 0)
    assert waiting.last_reply
    assert "SMTPReadTimeoutError" in waiting.last_reply
    assert smtp_server.received == []

    clock.advance(timedelta(hours=1))
    assert dispatch(dispatcher) == DispatchReport(sent=1)
    assert smtp_server.message_ids() == [msg.message_id]


def test_a_connection_dropped_before_data_is_retried_later(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
    clock: ManualClock,
) -> None:
    (msg,) = enqueue(db)
    smtp_server.drop_before_data()
    dispatcher = make_dispatcher(db)

    assert dispatch(dispatcher) == DispatchReport(retrying=1)
    assert row(db, msg.id).ambiguous == 0
    clock.advance(timedelta(hours=1))
    assert dispatch(dispatcher) == DispatchReport(sent=1)
    assert smtp_server.message_ids() == [msg.message_id]


def test_a_reused_session_the_server_closed_is_reopened_within_the_same_pass(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
) -> None:
    first, second = enqueue(db, 2)
    dispatcher = make_dispatcher(db, connections=1)

    async def two_passes() -> tuple[DispatchReport, DispatchReport]:
        async with dispatcher:
            one = await dispatcher.run_once()
            smtp_server.drop_before_data()  # the server ends the idle session at next MAIL
            enqueue(db)
            return one, await dispatcher.run_once()

    before, after = asyncio.run(two_passes())
    assert before == DispatchReport(sent=2)
    assert after == DispatchReport(sent=1)
    assert len(smtp_server.received) == 3
    assert smtp_server.message_ids()[:2] == [first.message_id, second.message_id]


def test_messages_are_grouped_by_the_history_entry_that_caused_them(
    db: Database, enqueue: Enqueue, clock: ManualClock
) -> None:
    with db.transaction() as conn:
        request_id = requests.insert(
            conn,
            programme="seminar",
            workflow_version=1,
            emb_id=None,
            title="A seminar",
            state="intake",
            data={},
            now=clock(),
        )
        history_id = requests.append_history(
            conn,
            request_id=request_id,
            version=1,
            at=clock(),
            actor_role="coordinator",
            actor_name="ana",
            trigger="create",
            from_state=None,
            to_state="intake",
        )
    two = enqueue(db, 2, request_id=request_id, history_id=history_id)
    enqueue(db)  # another request's message

    with db.read() as conn:
        grouped = outbox.by_history(conn, request_id)
    assert list(grouped) == [history_id]
    assert [r.message_id for r in grouped[history_id]] == [q.message_id for q in two]


def test_two_dispatchers_at_once_deliver_each_message_exactly_once(
    database_url: str,
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
) -> None:
    queued = enqueue(db, 300)
    other_db = Database(database_url)
    one = make_dispatcher(db, worker="one", connections=2, batch=20)
    two = make_dispatcher(other_db, worker="two", connections=2, batch=20)

    async def race() -> list[DispatchReport]:
        async with one, two:
            return list(await asyncio.gather(one.run_once(), two.run_once()))

    try:
        reports = asyncio.run(race())
    finally:
        other_db.dispose()

    assert sum(r.sent for r in reports) == 300
    assert all(r.sent > 0 for r in reports)  # both really took part
    assert all(r.retrying == r.dead == 0 for r in reports)
    received = Counter(smtp_server.message_ids())
    assert set(received) == {q.message_id for q in queued}
    assert set(received.values()) == {1}
    with db.read() as conn:
        assert outbox.counts(conn)["sent"] == 300


def test_one_pass_drains_every_batch_and_records_each_outcome(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
) -> None:
    queued = enqueue(db, 7)
    smtp_server.reply_rcpt("550 5.1.1 No such user here")  # the first message only

    report = dispatch(make_dispatcher(db, connections=1, batch=3))

    assert report == DispatchReport(sent=6, dead=1)
    assert smtp_server.message_ids() == [q.message_id for q in queued[1:]]
    with db.read() as conn:
        assert outbox.counts(conn) == {"pending": 0, "sending": 0, "sent": 6, "dead": 1}
        assert [r.id for r in outbox.listing(conn, status="dead")] == [queued[0].id]


# ---------------------------------------------------------------- recording as the server answers
def sent_message_ids(db: Database) -> set[str]:
    o = outbox_table
    with db.read() as conn:
        return set(conn.execute(sa.select(o.c.message_id).where(o.c.status == "sent")).scalars())


def watch_arrivals(
    monkeypatch: pytest.MonkeyPatch, db: Database, smtp_server: SmtpServer
) -> list[set[str]]:
    """At each message the server keeps (before it answers), the Message-IDs it holds that the
    database does not have as `sent`: delivered but not recorded."""
    unrecorded: list[set[str]] = []
    handle_data = mail_fixtures._Handler.handle_DATA

    async def looking(
        handler: mail_fixtures._Handler, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        reply = await handle_data(handler, server, session, envelope)
        unrecorded.append(set(smtp_server.message_ids()) - sent_message_ids(db))
        return reply

    monkeypatch.setattr(mail_fixtures._Handler, "handle_DATA", looking)
    return unrecorded


def test_each_message_is_recorded_sent_before_the_next_one_is_delivered(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queued = enqueue(db, 6)
    unrecorded = watch_arrivals(monkeypatch, db, smtp_server)

    assert dispatch(make_dispatcher(db, connections=1, batch=6)) == DispatchReport(sent=6)

    # one batch of six: when the last message arrives, the first five are already `sent`
    # (killed at that moment, the dispatcher would leave only the sixth to be sent again)
    assert smtp_server.message_ids() == [q.message_id for q in queued]
    assert unrecorded == [{q.message_id} for q in queued]


def test_delivered_but_unrecorded_messages_never_outnumber_the_connections(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enqueue(db, 60)
    unrecorded = watch_arrivals(monkeypatch, db, smtp_server)

    report = dispatch(make_dispatcher(db, connections=3, batch=60))

    assert report == DispatchReport(sent=60)
    assert len(unrecorded) == 60
    assert max(len(u) for u in unrecorded) <= 3, [len(u) for u in unrecorded]
    assert sent_message_ids(db) == set(smtp_server.message_ids())


def test_a_message_sent_is_recorded_at_once_even_while_the_other_connections_are_slow(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (fast,) = enqueue(db, to_addr="fast@example.org")
    enqueue(db, 2, to_addr="slow@example.org")  # each connection gets one after `fast`
    seen: list[set[str]] = []
    handle_rcpt = mail_fixtures._Handler.handle_RCPT

    async def slow(
        handler: mail_fixtures._Handler,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        if address.startswith("slow"):
            await asyncio.sleep(0.5)
            seen.append(sent_message_ids(db))
        return await handle_rcpt(handler, server, session, envelope, address, options)

    monkeypatch.setattr(mail_fixtures._Handler, "handle_RCPT", slow)
    assert dispatch(make_dispatcher(db, connections=2)) == DispatchReport(sent=3)

    # while both connections wait on the server, `fast` is already recorded
    assert len(seen) == 2
    assert all(fast.message_id in ids for ids in seen)


def test_a_dispatcher_that_cannot_record_an_outcome_stops_delivering(
    db: Database,
    smtp_server: SmtpServer,
    enqueue: Enqueue,
    make_dispatcher: MakeDispatcher,
    dispatch: Dispatch,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, *rest = enqueue(db, 5)
    settle = outbox.Settler.settle

    def database_gone(settler: outbox.Settler, **outcomes: object) -> None:
        raise sa.exc.OperationalError("UPDATE outbox", {}, Exception("database gone"))

    monkeypatch.setattr(outbox.Settler, "settle", database_gone)
    with pytest.raises(sa.exc.OperationalError):
        dispatch(make_dispatcher(db, connections=1, batch=5))

    # the next message's data was held back: only the unrecorded one can ever arrive twice
    assert smtp_server.message_ids() == [first.message_id]
    unknown = row(db, first.id)
    assert (unknown.status, unknown.leased_by) == ("sending", "test-worker")
    for q in rest:  # handed back untried: due at once, the attempt not counted
        back = row(db, q.id)
        assert (back.status, back.attempts, back.leased_by) == ("pending", 0, None)

    monkeypatch.setattr(outbox.Settler, "settle", settle)  # the database is back
    clock.advance(timedelta(seconds=121))  # the lease on the unrecorded one runs out
    assert dispatch(make_dispatcher(db, worker="next")) == DispatchReport(sent=5)
    assert Counter(smtp_server.message_ids()) == {first.message_id: 2} | {
        q.message_id: 1 for q in rest
    }


def test_recording_outcomes_leaves_the_connection_as_the_pool_lent_it(
    db: Database, enqueue: Enqueue, clock: ManualClock
) -> None:
    """On PostgreSQL an outcome is committed without waiting for the WAL flush, in that
    transaction only: whatever else later runs on the connection commits as usual."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL: synchronous_commit")
    one, two = enqueue(db, 2)
    claimed = outbox.claim_due(db, now=clock(), worker="w", lease_seconds=60, limit=2)
    assert [c.id for c in claimed] == [one.id, two.id]
    settler = outbox.Settler(db)
    try:
        settler.settle(worker="w", now=clock(), sent=[(one.id, "250 OK")])
        settler.settle(worker="w", now=clock(), retry=[outbox.Retry(two.id, clock(), "451")])
        conn = settler._conn
        assert conn is not None
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    finally:
        settler.close()
    assert (row(db, one.id).status, row(db, two.id).status) == ("sent", "pending")
    with db.transaction() as conn:
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
        assert conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"
        assert conn.connection.dbapi_connection.autocommit is False  # type: ignore[union-attr]
