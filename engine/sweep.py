"""The timer sweep: fire what is due, once, even with several workers and after downtime.

1. Claim due timers atomically, with a lease (a worker that dies leaves them to the next).
2. For each, in due order, one transaction: lock the request, re-check that the timer still
   applies (the request may have moved on), apply the late policy, then either record a
   history row and publish `TimerFired` (its messages are queued by the mail listener in the
   same transaction) or fire the deadline's trigger as the system; mark the timer done only if
   this worker still holds it. A crash anywhere rolls the whole step back.

Late policy (after downtime): a reminder more than `reminder_grace` late is skipped (a "7 days
before" that arrives after the date helps nobody) and recorded as such; escalations and
deadlines fire once, however late.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.actor import Actor
from engine.errors import CicieError
from engine.events import TimerFired
from engine.service import Engine
from storage import hot_path, timers
from storage.timers import ClaimedTimer

SYSTEM = Actor("system", "timer")


class _LostLease(Exception):
    """Another worker took this timer over: roll this step back."""


@dataclass
class SweepReport:
    reminders: int = 0
    escalations: int = 0
    transitions: int = 0
    skipped: int = 0
    cancelled: int = 0
    failed: int = 0
    fired: list[str] = field(default_factory=list)  # "request:timer#n", in firing order

    def to_dict(self) -> dict[str, object]:
        return {
            "reminders": self.reminders,
            "escalations": self.escalations,
            "transitions": self.transitions,
            "skipped": self.skipped,
            "cancelled": self.cancelled,
            "failed": self.failed,
            "fired": list(self.fired),
        }


class TimerSweep:
    def __init__(
        self,
        engine: Engine,
        *,
        worker: str,
        lease_seconds: int = 120,
        batch: int = 500,
        reminder_grace: timedelta = timedelta(hours=12),
    ) -> None:
        self.engine = engine
        self.worker = worker
        self.lease = timedelta(seconds=lease_seconds)
        self.batch = batch
        self.grace = reminder_grace

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
            for item in claimed:
                try:
                    self._fire(item, now, report)
                except _LostLease:
                    continue
            if report.fired:
                self.engine.committed()
            if len(claimed) < self.batch:
                return report

    def _fire(self, item: ClaimedTimer, now: datetime, report: SweepReport) -> None:
        engine = self.engine
        with engine.db.transaction() as conn:
            row = hot_path.lock_request(conn, item.request_id)
            wf = engine.registry.get(conn, row.programme, row.workflow_version) if row else None
            timer = (
                next((t for t in wf.definition.timers if t.id == item.name), None) if wf else None
            )
            if row is None or wf is None or timer is None or row.state not in timer.states:
                timers.finish(
                    conn,
                    item.id,
                    worker=self.worker,
                    status="cancelled",
                    now=now,
                    outcome="the request is no longer where this timer applies",
                )
                report.cancelled += 1
                return
            label = f"{item.request_id}:{item.name}#{item.occurrence}"
            if timer.kind == "reminder" and now - item.due_at > self.grace:
                if timers.finish(
                    conn,
                    item.id,
                    worker=self.worker,
                    status="skipped",
                    now=now,
                    outcome=f"late policy: due {item.due_at.isoformat()}, swept {now.isoformat()}",
                ):
                    report.skipped += 1
                return
            if timer.kind == "transition":
                assert timer.fire is not None
                try:
                    engine.advance_in(
                        conn,
                        row.id,
                        timer.fire,
                        SYSTEM,
                        comment=f"deadline '{timer.id}' due {item.due_at.isoformat()}",
                    )
                except CicieError as refused:
                    outcome = f"refused: {refused.message}"
                    if timers.finish(
                        conn, item.id, worker=self.worker, status="failed", now=now, outcome=outcome
                    ):
                        report.failed += 1
                    return
                if not timers.finish(
                    conn, item.id, worker=self.worker, status="fired", now=now, outcome=timer.fire
                ):
                    raise _LostLease  # another worker took it over: undo our transition
                report.transitions += 1
                report.fired.append(label)
                return
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
            for listener in engine.listeners:
                listener(conn, TimerFired(view, wf.definition, timer, history_id, now, item.due_at))
            if not timers.finish(
                conn, item.id, worker=self.worker, status="fired", now=now, outcome="sent"
            ):
                raise _LostLease
            if timer.kind == "reminder":
                report.reminders += 1
            else:
                report.escalations += 1
            report.fired.append(label)
