"""The timer sweep: fire what is due, once, even with several workers and after downtime.

1. Claim due timers atomically, with a lease (a worker that dies leaves them to the next).
2. Fire them in due order, `chunk` timers per transaction: the transaction first locks the
   chunk's requests (in id order, so two sweeps cannot deadlock), then each timer runs in its
   own SAVEPOINT: re-lock and re-read its request, re-check that the timer still applies (the
   request may have moved on), apply the late policy, then either record a history row and
   publish `TimerFired` (its messages are queued by the mail listener in the same transaction)
   or fire the deadline's trigger as the system; mark the timer done only if this worker still
   holds it. A timer that fails (a template that raises, say) is rolled back to its savepoint
   alone: it stays claimed, with the error written in its `outcome`, and is taken again when its
   lease runs out; the others of the chunk commit. A crash rolls the whole chunk back, and its
   timers pass to the next sweep when their lease runs out.

One transaction per chunk rather than per timer is what makes a burst fast (issue 4: 10,000
simultaneously due reminders); the savepoints keep each timer all-or-nothing within it.

Late policy (after downtime): a reminder more than `reminder_grace` late is skipped (a "7 days
before" that arrives after the date helps nobody) and recorded as such; escalations and
deadlines fire once, however late.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa

from engine.actor import Actor
from engine.errors import CicieError
from engine.events import TimerFired
from engine.service import Engine
from storage import hot_path, timers
from storage.timers import ClaimedTimer

SYSTEM = Actor("system", "timer")
MAX_OUTCOME = 500  # characters of an error kept in the timer's `outcome`

log = logging.getLogger(__name__)

Result = Literal["reminder", "escalation", "transition", "skipped", "cancelled", "failed"]


class _LostLease(Exception):
    """Another worker took this timer over: roll this timer back."""


@dataclass
class SweepReport:
    reminders: int = 0
    escalations: int = 0
    transitions: int = 0
    skipped: int = 0
    cancelled: int = 0
    failed: int = 0  # deadlines whose transition was refused (recorded, not retried)
    errors: int = 0  # timers that raised: left claimed, retried when their lease runs out
    fired: list[str] = field(default_factory=list)  # "request:timer#n", in firing order

    def to_dict(self) -> dict[str, object]:
        return {
            "reminders": self.reminders,
            "escalations": self.escalations,
            "transitions": self.transitions,
            "skipped": self.skipped,
            "cancelled": self.cancelled,
            "failed": self.failed,
            "errors": self.errors,
            "fired": list(self.fired),
        }

    def add(self, other: SweepReport) -> None:
        self.reminders += other.reminders
        self.escalations += other.escalations
        self.transitions += other.transitions
        self.skipped += other.skipped
        self.cancelled += other.cancelled
        self.failed += other.failed
        self.errors += other.errors
        self.fired.extend(other.fired)


class TimerSweep:
    def __init__(
        self,
        engine: Engine,
        *,
        worker: str,
        lease_seconds: int = 120,
        batch: int = 500,
        chunk: int = 100,
        reminder_grace: timedelta = timedelta(hours=12),
    ) -> None:
        self.engine = engine
        self.worker = worker
        self.lease = timedelta(seconds=lease_seconds)
        self.batch = batch
        self.chunk = max(1, chunk)
        self.grace = reminder_grace
        self._conn: sa.Connection | None = None  # the chunk's transaction, while it runs
        self._in_savepoint = False

    def run_once(self) -> SweepReport:
        """Fire everything due at the engine's clock's "now", a batch at a time."""
        report = SweepReport()
        now = self.engine.clock()
        while True:
            with self.engine.db.transaction() as conn:
                claimed = timers.claim_due(
                    conn,
                    now=now,
                    worker=self.worker,
                    lease_until=now + self.lease,
                    limit=self.batch,
                )
            for start in range(0, len(claimed), self.chunk):
                self._fire_chunk(claimed[start : start + self.chunk], now, report)
            if len(claimed) < self.batch:
                return report

    def _fire_chunk(self, items: list[ClaimedTimer], now: datetime, report: SweepReport) -> None:
        """One transaction for `items`. `_fire` is called for each; an exception raised outside
        a timer's savepoint (a subclass stopping the sweep before a timer, say) commits the
        timers already fired, then propagates; one raised inside it rolls the chunk back."""
        done = SweepReport()
        interrupted: BaseException | None = None
        with self.engine.db.transaction() as conn:
            hot_path.lock_requests(conn, [item.request_id for item in items])
            self._conn = conn
            try:
                for item in items:
                    try:
                        self._fire(item, now, done)
                    except BaseException as exc:
                        if self._in_savepoint:
                            raise  # the timer may be half written: nothing of the chunk commits
                        interrupted = exc
                        break
            finally:
                self._conn = None
                self._in_savepoint = False
        report.add(done)
        if done.fired:
            self.engine.committed()  # e.g. wake the mail dispatcher
        if interrupted is not None:
            raise interrupted

    def _fire(self, item: ClaimedTimer, now: datetime, report: SweepReport) -> None:
        """Fire one claimed timer in its own savepoint of the chunk's transaction."""
        conn = self._conn
        assert conn is not None, "_fire runs inside _fire_chunk"
        self._in_savepoint = True
        try:
            with hot_path.savepoint(conn, "cicie_timer"):  # rolled back on any exception
                result = self._fire_in(conn, item, now)
        except _LostLease:
            result = None
        except Exception as exc:
            problem = f"error: {type(exc).__name__}: {exc}"[:MAX_OUTCOME]
            log.exception("timer %s (%s of request %s) failed", item.id, item.name, item.request_id)
            timers.note(conn, item.id, worker=self.worker, outcome=problem)
            report.errors += 1
            result = None
        self._in_savepoint = False
        if result is None:
            return
        if result == "reminder":
            report.reminders += 1
        elif result == "escalation":
            report.escalations += 1
        elif result == "transition":
            report.transitions += 1
        elif result == "skipped":
            report.skipped += 1
        elif result == "cancelled":
            report.cancelled += 1
        else:
            report.failed += 1
        if result in ("reminder", "escalation", "transition"):
            report.fired.append(f"{item.request_id}:{item.name}#{item.occurrence}")

    def _fire_in(self, conn: sa.Connection, item: ClaimedTimer, now: datetime) -> Result | None:
        """What became of the timer (None: not ours any more, nothing to count)."""
        engine = self.engine
        row = hot_path.lock_request(conn, item.request_id)
        wf = engine.registry.get(conn, row.programme, row.workflow_version) if row else None
        timer = next((t for t in wf.definition.timers if t.id == item.name), None) if wf else None
        if row is None or wf is None or timer is None or row.state not in timer.states:
            if not timers.finish(
                conn,
                item.id,
                worker=self.worker,
                status="cancelled",
                now=now,
                outcome="the request is no longer where this timer applies",
            ):
                raise _LostLease
            return "cancelled"
        if timer.kind == "reminder" and now - item.due_at > self.grace:
            if not timers.finish(
                conn,
                item.id,
                worker=self.worker,
                status="skipped",
                now=now,
                outcome=f"late policy: due {item.due_at.isoformat()}, swept {now.isoformat()}",
            ):
                raise _LostLease
            return "skipped"
        if timer.kind == "transition":
            assert timer.fire is not None
            try:
                with hot_path.savepoint(conn, "cicie_deadline"):  # refused: nothing of it
                    engine.advance_in(
                        conn,
                        row.id,
                        timer.fire,
                        SYSTEM,
                        comment=f"deadline '{timer.id}' due {item.due_at.isoformat()}",
                    )
            except CicieError as refused:
                outcome = f"refused: {refused.message}"
                if not timers.finish(
                    conn, item.id, worker=self.worker, status="failed", now=now, outcome=outcome
                ):
                    raise _LostLease from None
                return "failed"
            if not timers.finish(
                conn, item.id, worker=self.worker, status="fired", now=now, outcome=timer.fire
            ):
                raise _LostLease  # another worker took it over: undo our transition
            return "transition"
        history_id = hot_path.record_transition(
            conn,
            request_id=row.id,
            expected_version=row.version,
            state=row.state,
            held_from=row.held_from,
            data=None,
            now=now,
            actor_role=SYSTEM.role,
            actor_name=SYSTEM.name,
            trigger=f"timer:{timer.id}",
            from_state=row.state,
            comment=f"{timer.kind} due {item.due_at.isoformat()}",
            changes=None,
        )
        assert history_id is not None  # the row is locked
        view = engine.view_of_row(conn, row, version=row.version + 1, updated_at=now)
        engine.publish(conn, TimerFired(view, wf.definition, timer, history_id, now, item.due_at))
        if not timers.finish(
            conn, item.id, worker=self.worker, status="fired", now=now, outcome="sent"
        ):
            raise _LostLease
        return "reminder" if timer.kind == "reminder" else "escalation"
