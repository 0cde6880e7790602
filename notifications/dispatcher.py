"""Delivering the outbox: claim due messages with a lease, send them outside any transaction
over a few reused SMTP connections, record each message's outcome as soon as the server has
answered it.

Why this shape (ARCHITECTURE § Mail): a transaction never waits on the network; a dispatcher
that dies after claiming only delays its messages until the lease expires; the lease is
checked before every send, so a message whose lease ran out is handed back untried instead of
racing the dispatcher that took it over. Database calls run in a thread so a dispatcher
sharing the web server's event loop never blocks it on SQLite's write lock.

On each connection, the outcome of a message is committed before the next message's data
goes out (its envelope, MAIL and RCPT, is sent while the commit runs), so a dispatcher killed
at any moment leaves at most one message per connection delivered but not recorded: only
those are sent again when their lease expires. The outcomes of the connections are committed
together (`_Recorder`): a transaction per round of messages rather than per message, and no
known outcome waits longer than its connection takes to send the next envelope — never for
the rest of its batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.clock import Clock
from notifications import attachments as delegate_documents
from notifications import stored
from notifications.smtp import Connection, Result, SmtpConfig, SmtpPool, send
from storage import outbox
from storage.db import Database
from storage.outbox import Claimed

log = logging.getLogger(__name__)

BASE_DELAY = 30.0  # seconds before the first retry (the ceiling of its jitter)
MAX_DELAY = 3600.0


@dataclass(frozen=True)
class DispatchReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            self.sent + other.sent, self.retrying + other.retrying, self.dead + other.dead
        )

    def to_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "retrying": self.retrying, "dead": self.dead}


def _calling_at(items: Iterator[Claimed], n: int, call: Callable[[], None]) -> Iterator[Claimed]:
    """`items`, calling `call` when the n-th is taken."""
    for i, item in enumerate(items, 1):
        if i == n:
            call()
        yield item


class _Recorder:
    """Commits outcomes a group at a time, one transaction at a time (on one connection kept
    for the pass), in the order they were handed over.

    A group is committed as soon as every connection has an outcome waiting, or a connection
    needs its outcome committed — it is about to send its next message's data — or the oldest
    outcome has waited `HOLD` seconds, whichever comes first: an outcome waits no longer than
    its connection takes to send the next envelope (and never more than `HOLD`), while the
    commits stay few: one per message over one connection, about one per round of messages
    over several."""

    HOLD = 0.05

    def __init__(self, dispatcher: Dispatcher, db: Database) -> None:
        self._dispatcher = dispatcher
        self._settler = outbox.Settler(db)
        self._queue: list[tuple[Claimed, Result]] = []
        self._done: asyncio.Future[None] | None = None  # when the queued outcomes are committed
        self._hold: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task[None] | None = None
        self._again = False  # commit the queue as soon as the running commit is over
        self.connections = 1  # how many connections hand outcomes over
        self.report = DispatchReport()
        self.failure: Exception | None = None  # the first commit that failed

    def record(self, claim: Claimed, result: Result) -> asyncio.Future[None]:
        """Hand an outcome over; the future is done once it is committed (or failed to be:
        see `failure`), and every outcome handed over before it with it."""
        self._queue.append((claim, result))
        if self._done is None:
            loop = asyncio.get_running_loop()
            self._done = loop.create_future()
            if self.connections > 1:
                self._hold = loop.call_later(self.HOLD, self._commit)
        done = self._done
        if len(self._queue) >= self.connections:
            self._commit()
        return done

    async def wait(self, done: asyncio.Future[None]) -> None:
        """Until the outcome `done` stands for is committed (or failed to be)."""
        if done.done():
            return
        if done is self._done:  # still waiting in the queue
            self._commit()
        await asyncio.shield(done)

    def _commit(self) -> None:
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        else:
            self._again = True

    async def _flush(self) -> None:
        try:
            while self._queue:
                group, self._queue = self._queue, []
                done, self._done = self._done, None
                hold, self._hold = self._hold, None
                if hold is not None:
                    hold.cancel()
                self._again = False
                try:
                    self.report += await asyncio.to_thread(
                        self._dispatcher._settle,
                        self._settler,
                        [c for c, _ in group],
                        [r for _, r in group],
                    )
                except Exception as exc:
                    if self.failure is None:
                        self.failure = exc
                finally:
                    if done is not None and not done.done():
                        done.set_result(None)
                if not self._again and len(self._queue) < self.connections:
                    break
        finally:
            self._flushing = None

    async def close(self) -> None:
        """Commit what is left, then give the connection back."""
        if self._done is not None:
            await self.wait(self._done)
        while self._flushing is not None:
            await asyncio.wait([self._flushing])
        await asyncio.to_thread(self._settler.close)


class Dispatcher:
    """One delivery worker. `worker` must be unique among running dispatchers (it owns the
    leases). Use `async with` (or `aclose()`) in the event loop that ran it, to close its
    SMTP connections."""

    def __init__(
        self,
        db: Database,
        config: SmtpConfig,
        *,
        clock: Clock,
        worker: str,
        connections: int,
        max_attempts: int,
        lease_seconds: int,
        batch: int = 200,
        rng: random.Random | None = None,
    ) -> None:
        if batch < 1 or max_attempts < 1 or lease_seconds <= 0:
            raise ValueError("batch, max_attempts and lease_seconds must be positive")
        self._db = db
        self._config = config
        self._clock = clock
        self.worker = worker
        self._connections = connections
        self._max_attempts = max_attempts
        self._lease = timedelta(seconds=lease_seconds)
        # stop starting sends this long before the lease ends: room for recording the outcome
        # and for clocks that differ between hosts
        self._margin = timedelta(seconds=min(lease_seconds * 0.1, 30.0))
        self._batch = batch
        self._rng = rng if rng is not None else random.Random()
        self._pool: SmtpPool | None = None
        self._unassembled = 0  # dead letters made while claiming, for this pass's report
        self._pool_loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> Dispatcher:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.aclose()

    # ------------------------------------------------------------ one pass
    async def run_once(self) -> DispatchReport:
        """Deliver everything due when the pass starts, a batch at a time. Retries the pass
        schedules (backoff of at least a second) are not picked up again by it."""
        loop = asyncio.get_running_loop()
        if self._pool is None or self._pool_loop is not loop:
            # connections belong to the loop that opened them (asyncio.run per pass in tests)
            self._pool = SmtpPool(self._config, self._connections)
            self._pool_loop = loop
        pool = self._pool
        pool.new_round()
        start = self._clock()
        recorder = _Recorder(self, self._db)
        batch = await self._claim(start)
        upcoming: asyncio.Task[tuple[datetime, list[Claimed]] | None] | None = None

        def claim_next() -> None:
            nonlocal upcoming
            upcoming = asyncio.create_task(self._claim(start))

        try:
            while batch is not None:
                claimed_at, claims = batch
                # a full batch: claim the next one while the end of this one is sent, so the
                # database never holds up the SMTP server (not sooner: its lease would run)
                more = claim_next if len(claims) == self._batch else None
                tried = await self._send_all(pool, claims, claimed_at + self._lease, recorder, more)
                batch, upcoming = (await upcoming if upcoming else None), None
                if batch is not None and tried == 0:
                    # nothing could be tried (the lease ran out): hand back the next batch too
                    await asyncio.to_thread(self._release, batch[1], "the lease ran out")
                    batch = None
        finally:
            # on an error, still record what was sent and hand back what was claimed
            await recorder.close()
            if upcoming is not None:
                extra = await upcoming
                if extra is not None:
                    await asyncio.to_thread(self._release, extra[1], "the pass failed")
        # messages that could not be assembled went to the dead letters as they were claimed
        unassembled, self._unassembled = self._unassembled, 0
        return recorder.report + DispatchReport(dead=unassembled)

    async def _claim(self, start: datetime) -> tuple[datetime, list[Claimed]] | None:
        """The next batch of messages due at `start` (the pass's own reschedules are later)."""
        claimed_at = self._clock()

        def claim() -> list[Claimed]:
            claims = outbox.claim_due(
                self._db,
                now=claimed_at,
                worker=self.worker,
                lease_seconds=self._lease.total_seconds(),
                limit=self._batch,
                due_by=start,
            )
            # the bytes of messages stored as their parts (since migration 0015), written
            # here, off the event loop; one that cannot be is a dead letter
            ready, dead = stored.ready(self._db, claims, worker=self.worker, now=claimed_at)
            self._unassembled += dead
            return ready

        claims = await asyncio.to_thread(claim)
        return (claimed_at, claims) if claims else None

    async def _send_all(
        self,
        pool: SmtpPool,
        claims: list[Claimed],
        lease_until: datetime,
        recorder: _Recorder,
        nearly_done: Callable[[], None] | None = None,
    ) -> int:
        """Send over every connection at once. A connection sends the envelope of its next
        message while the outcome of the previous one is being recorded, but not its data:
        that waits until the previous outcome is committed. Claims whose lease ran out before
        they could be sent are handed back untried; so is the rest of the batch once recording
        fails (the database is gone: whatever is delivered now could not be recorded).
        `nearly_done` is called once a quarter of the claims are left to take. Returns how
        many messages were tried."""
        pending = iter(claims)
        if nearly_done is not None:
            pending = _calling_at(pending, len(claims) - len(claims) // 4, nearly_done)
        untried: list[Claimed] = []
        sender = self._config.sender
        stop_at = lease_until - self._margin
        clock = self._clock

        async def work(conn: Connection) -> int:
            tried = 0
            recorded: asyncio.Future[None] | None = None  # this connection's last outcome

            async def previous_recorded() -> bool:
                """The gate before DATA: this connection's earlier outcomes are committed."""
                if recorded is not None:
                    await recorder.wait(recorded)
                return recorder.failure is None

            try:
                for c in pending:
                    left = (stop_at - clock()).total_seconds()
                    if left <= 0 or recorder.failure is not None:
                        untried.append(c)  # not ours for long enough any more: hand it back
                        continue
                    try:
                        async with asyncio.timeout(left):
                            # issue 15: a message whose row declares the delegates' documents
                            # gets its PDFs now (notifications/attachments.py); others as is
                            body = await delegate_documents.completed(self._db, clock, c.id, c.body)
                            result = await send(
                                conn, sender, c.to_addr, body, before_data=previous_recorded
                            )
                    except TimeoutError:
                        result = Result(
                            "ambiguous" if conn.payload_written else "temporary",
                            "the lease ran out while sending",
                        )
                    if result is None:  # held back before its data: recording failed
                        untried.append(c)
                        continue
                    tried += 1
                    recorded = recorder.record(c, result)
            finally:
                if recorded is not None:
                    await recorder.wait(recorded)
            return tried

        active = pool.connections[: min(len(claims), len(pool.connections))]
        recorder.connections = len(active)
        tried = sum(await asyncio.gather(*(work(conn) for conn in active)))
        failure = recorder.failure
        if untried:
            why = "the lease ran out" if failure is None else "recording an outcome failed"
            try:
                await asyncio.to_thread(self._release, untried, why)
            except Exception:
                if failure is None:
                    raise
                log.warning("could not hand back %s messages: their lease expires", len(untried))
        if failure is not None:
            raise failure
        return tried

    # ------------------------------------------------------------ bookkeeping
    def _settle(
        self, settler: outbox.Settler, claims: list[Claimed], results: list[Result]
    ) -> DispatchReport:
        """Record what the server said about each claim, in one short transaction."""
        now = self._clock()
        sent: list[tuple[int, str]] = []
        retry: list[outbox.Retry] = []
        dead: list[tuple[int, str]] = []
        for c, r in zip(claims, results, strict=True):
            if r.outcome == "sent":
                sent.append((c.id, r.reply))
            elif r.outcome == "permanent":
                dead.append((c.id, r.reply))
            elif r.outcome == "temporary":
                if c.attempts >= self._max_attempts:
                    dead.append((c.id, f"{r.reply} (gave up after {c.attempts} attempts)"))
                else:
                    retry.append(outbox.Retry(c.id, now + self._backoff(c.attempts), r.reply))
            elif c.ambiguous == 0:  # resend once, now, with the same bytes and Message-ID
                retry.append(
                    outbox.Retry(c.id, now, f"{r.reply} (outcome unknown: resending once)", 1)
                )
            else:
                dead.append(
                    (
                        c.id,
                        "delivery uncertain: the server may already have it "
                        f"(Message-ID {c.message_id}); last reply: {r.reply}",
                    )
                )
        settler.settle(worker=self.worker, now=now, sent=sent, retry=retry, dead=dead)
        for i, reply in dead:
            log.warning("outbox message %s is a dead letter: %s", i, reply)
        return DispatchReport(len(sent), len(retry), len(dead))

    def _release(self, claims: list[Claimed], why: str) -> None:
        """Hand back claims that were not tried (their attempt is not counted)."""
        outbox.settle(self._db, worker=self.worker, release=[c.id for c in claims])
        log.warning("%s outbox messages handed back untried: %s", len(claims), why)

    def _backoff(self, attempts: int) -> timedelta:
        """Exponential backoff with full jitter (so retries after an outage spread out), at
        least a second (so the pass that scheduled it never picks it up again)."""
        ceiling = min(MAX_DELAY, BASE_DELAY * 2 ** min(attempts - 1, 20))
        return timedelta(seconds=max(1.0, self._rng.uniform(0, ceiling)))

    # ------------------------------------------------------------ loop
    async def run_until_stopped(self, stop: asyncio.Event, interval: float) -> None:
        """Pass after pass until `stop` is set; a failing pass (database down) is logged and
        the next one tries again."""
        try:
            while not stop.is_set():
                try:
                    await self.run_once()
                except Exception:
                    log.exception("mail dispatch pass failed; trying again in %s s", interval)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)
        finally:
            await self.aclose()
