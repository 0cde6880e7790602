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
those are sent again when their lease expires. Outcomes that come in while a commit runs (from
the other connections) are committed together in the next transaction — a group commit, so
recording each message as it is answered costs little throughput — and no known outcome ever
waits for the rest of its batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.clock import Clock
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


class _Recorder:
    """Commits outcomes as they come, a group at a time. `record` returns once the outcome is
    committed; outcomes handed over while a transaction runs go into the next one. One
    transaction at a time, so the dispatcher's records never wait on each other for SQLite's
    write lock."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher
        self._queue: list[tuple[Claimed, Result, asyncio.Future[None]]] = []
        self._flushing: asyncio.Task[None] | None = None
        self.report = DispatchReport()

    async def record(self, claim: Claimed, result: Result) -> None:
        done = asyncio.get_running_loop().create_future()
        self._queue.append((claim, result, done))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        await done

    async def _flush(self) -> None:
        try:
            while self._queue:
                group, self._queue = self._queue, []
                claims = [c for c, _, _ in group]
                results = [r for _, r, _ in group]
                try:
                    self.report += await asyncio.to_thread(
                        self._dispatcher._settle, claims, results
                    )
                except BaseException as exc:
                    for _, _, done in group:
                        if not done.done():
                            done.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for _, _, done in group:
                    if not done.done():
                        done.set_result(None)
        finally:
            self._flushing = None

    async def wait(self) -> None:
        """Until every outcome handed over is committed (or has failed)."""
        while self._flushing is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._flushing)


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
        recorder = _Recorder(self)
        batch = await self._claim(start)
        upcoming: asyncio.Task[tuple[datetime, list[Claimed]] | None] | None = None
        try:
            while batch is not None:
                claimed_at, claims = batch
                # a full batch: claim the next one while this one is sent, so the database
                # never holds up the SMTP server
                if len(claims) == self._batch:
                    upcoming = asyncio.create_task(self._claim(start))
                tried = await self._send_all(pool, claims, claimed_at + self._lease, recorder)
                batch, upcoming = (await upcoming if upcoming else None), None
                if batch is not None and tried == 0:
                    # nothing could be tried (the lease ran out): hand back the next batch too
                    await asyncio.to_thread(self._release, batch[1], "the lease ran out")
                    batch = None
        finally:
            # on an error, still record what was sent and hand back what was claimed
            await recorder.wait()
            if upcoming is not None:
                extra = await upcoming
                if extra is not None:
                    await asyncio.to_thread(self._release, extra[1], "the pass failed")
        return recorder.report

    async def _claim(self, start: datetime) -> tuple[datetime, list[Claimed]] | None:
        """The next batch of messages due at `start` (the pass's own reschedules are later)."""
        claimed_at = self._clock()
        claims = await asyncio.to_thread(
            outbox.claim_due,
            self._db,
            now=claimed_at,
            worker=self.worker,
            lease_seconds=self._lease.total_seconds(),
            limit=self._batch,
            due_by=start,
        )
        return (claimed_at, claims) if claims else None

    async def _send_all(
        self, pool: SmtpPool, claims: list[Claimed], lease_until: datetime, recorder: _Recorder
    ) -> int:
        """Send over every connection at once. A connection sends the envelope of its next
        message while the outcome of the previous one is being recorded, but not its data:
        that waits until the previous outcome is committed. Claims whose lease ran out before
        they could be sent are handed back untried; so is the rest of the batch once recording
        fails (the database is gone: whatever is delivered now could not be recorded). Returns
        how many messages were tried."""
        pending = iter(claims)
        untried: list[Claimed] = []
        failed: list[BaseException] = []
        sender = self._config.sender
        stop_at = lease_until - self._margin
        clock = self._clock

        async def record(c: Claimed, result: Result) -> None:
            try:
                await recorder.record(c, result)
            except Exception as exc:
                failed.append(exc)

        async def work(conn: Connection) -> int:
            tried = 0
            recording: list[asyncio.Task[None]] = []  # this connection's outcomes not yet committed

            async def recorded() -> bool:
                """The gate before DATA: every earlier outcome of this connection committed."""
                if recording:
                    await asyncio.wait(recording)
                    recording.clear()
                return not failed

            try:
                for c in pending:
                    left = (stop_at - clock()).total_seconds()
                    if left <= 0 or failed:
                        untried.append(c)  # not ours for long enough any more: hand it back
                        continue
                    try:
                        async with asyncio.timeout(left):
                            result = await send(
                                conn, sender, c.to_addr, c.body, before_data=recorded
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
                    recording.append(asyncio.create_task(record(c, result)))
            finally:
                if recording:
                    await asyncio.wait(recording)
            return tried

        active = pool.connections[: min(len(claims), len(pool.connections))]
        tried = sum(await asyncio.gather(*(work(conn) for conn in active)))
        if untried:
            why = "recording an outcome failed" if failed else "the lease ran out"
            try:
                await asyncio.to_thread(self._release, untried, why)
            except Exception:
                if not failed:
                    raise
                log.warning("could not hand back %s messages: their lease expires", len(untried))
        if failed:
            raise failed[0]
        return tried

    # ------------------------------------------------------------ bookkeeping
    def _settle(self, claims: list[Claimed], results: list[Result]) -> DispatchReport:
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
        outbox.settle(self._db, worker=self.worker, now=now, sent=sent, retry=retry, dead=dead)
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
