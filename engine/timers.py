"""Timers as rows: armed, cancelled and moved in the transaction of the change that causes them.

A timer is live while its request is in one of its `states`: entering that set arms it (one
row per occurrence), leaving the set cancels what is still pending, and changing the date field
it hangs on moves its pending rows. Nothing here sends or fires: a sweep claims due rows later.

Late policy at arming: an occurrence whose moment has already passed when it is armed (a
request recorded after its event, dates moved into the past) is stored as `skipped` with the
reason in its `outcome`, never left for the sweep to fire at once — a "7 days before" reminder
or an overdue escalation about a past date helps nobody. An occurrence due at the very moment
it is armed (`at: {entered: 0}`) is not late: it fires.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engine.business_time import BusinessTime
from engine.events import DomainEvent, RequestAdvanced, RequestCreated, RequestUpdated
from engine.form_dates import parse_date
from storage import timers
from storage.models import timer_table
from storage.reads import emb_country  # the EMB's country, for timers addressed to it
from storage.timers import TimerRow
from workflows.definition import TimerDef, WorkflowDefinition


@dataclass(frozen=True)
class PlannedTimer:
    """One occurrence of a timer with its due moment (for the timeline)."""

    timer: TimerDef
    occurrence: int
    due_at: datetime
    status: str  # armed | projected


def addressed_to_emb(timer: TimerDef) -> bool:
    """A working-days timer whose messages go to the EMB's contacts counts on the EMB's
    calendar as well as Mexico's."""
    return timer.working_days and any("emb_contacts" in n.to for n in timer.notify)


def late_outcome(due_at: datetime, armed_at: datetime) -> str:
    """What a timer skipped at arming records (the sweep's late policy says it alike)."""
    return f"late policy: due {due_at.isoformat()}, already past when armed {armed_at.isoformat()}"


def skip(conn: sa.Connection, timer_id: int, due_at: datetime, now: datetime) -> None:
    """A pending timer whose date moved into the past: skipped, with its new due moment."""
    conn.execute(
        timer_table.update()
        .where(timer_table.c.id == timer_id, timer_table.c.status == "pending")
        .values(status="skipped", due_at=due_at, fired_at=now, outcome=late_outcome(due_at, now))
    )


def states_ahead(definition: WorkflowDefinition, state: str, held_from: str | None) -> set[str]:
    """The states a request in `state` may still reach by the workflow's transitions (a request
    on hold: those of the state it resumes to, that state included), itself excluded unless a
    way leads back to it. Timers of the other states belong to stages the request has left."""
    start = held_from if held_from and definition.states[state].hold else state
    edges: dict[str, set[str]] = {}
    for t in definition.transitions:
        if t.dest not in definition.states:  # `previous`: back where it was, nothing new
            continue
        for source in t.sources:
            edges.setdefault(source, set()).add(t.dest)
    seen: set[str] = {start} if start != state else set()
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


class TimerPlanner:
    """The engine's in-transaction listener for timers."""

    def __init__(self, business_time: BusinessTime) -> None:
        self.time = business_time

    # ------------------------------------------------------------------ due moments
    def due(
        self,
        timer: TimerDef,
        occurrence: int,
        data: dict[str, Any],
        entered_at: datetime,
        country: str | None = None,
    ) -> datetime | None:
        """When this occurrence is due, or None when its date field is not set. `country`: the
        EMB's, used when the timer counts working days and writes to the EMB's contacts (the
        due day is then a working day in Mexico and in that country)."""
        extra = occurrence * timer.repeat_every
        if timer.anchor_field is None:
            if timer.days == 0 and extra == 0:
                return entered_at
            start = self.time.local_date(entered_at)
        else:
            anchor = parse_date(data.get(timer.anchor_field))
            if anchor is None:
                return None
            start = anchor
        there = country if addressed_to_emb(timer) else None
        day = self.time.add_days(start, timer.days, working=timer.working_days, country=there)
        return self.time.at_hour(day + timedelta(days=extra))

    def occurrences(
        self,
        timer: TimerDef,
        data: dict[str, Any],
        entered_at: datetime,
        country: str | None = None,
    ) -> list[tuple[int, datetime]]:
        out = []
        for n in range(timer.repeat_times):
            when = self.due(timer, n, data, entered_at, country)
            if when is not None:
                out.append((n, when))
        return out

    # ------------------------------------------------------------------ listener
    def __call__(self, conn: sa.Connection, event: DomainEvent) -> None:
        definition = event.definition
        if not definition.timers:
            return
        request = event.request
        if isinstance(event, RequestCreated):
            self._arm_entering(conn, event, definition, previous=None)
        elif isinstance(event, RequestAdvanced):
            armed: set[str] = set()
            if event.from_state != request.state:
                self._cancel_left(conn, event, definition)
                armed = self._arm_entering(conn, event, definition, previous=event.from_state)
            if event.changes:  # dates the step itself set or moved
                self._follow_dates(conn, event, definition, armed=armed)
        elif isinstance(event, RequestUpdated):
            self._follow_dates(conn, event, definition)

    def _arm_entering(
        self,
        conn: sa.Connection,
        event: RequestCreated | RequestAdvanced,
        definition: WorkflowDefinition,
        previous: str | None,
    ) -> set[str]:
        """Arm the timers of the state entered; returns the names of those that got rows."""
        request = event.request
        rows = []
        armed: set[str] = set()
        for timer in definition.timers:
            if request.state not in timer.states or previous in timer.states:
                continue
            new = self._rows(conn, timer, event)
            if new:
                armed.add(timer.id)
                rows.extend(new)
        timers.arm(conn, rows)
        return armed

    def _country(self, conn: sa.Connection, timer: TimerDef, emb_code: str | None) -> str | None:
        return emb_country(conn, emb_code) if addressed_to_emb(timer) else None

    def _rows(
        self, conn: sa.Connection, timer: TimerDef, event: DomainEvent
    ) -> list[dict[str, Any]]:
        request = event.request
        request_id, state, data = request.id, request.state, request.data
        country = self._country(conn, timer, request.emb)
        rows = []
        for n, when in self.occurrences(timer, data, event.at, country):
            late = when < event.at
            rows.append(
                {
                    "key": f"{request_id}:{timer.id}:{event.history_id}:{n}",
                    "request_id": request_id,
                    "name": timer.id,
                    "kind": timer.kind,
                    "occurrence": n,
                    "armed_in": state,
                    "due_at": when,
                    "status": "skipped" if late else "pending",
                    "created_at": event.at,
                    "fired_at": event.at if late else None,
                    "outcome": late_outcome(when, event.at) if late else None,
                }
            )
        return rows

    def _cancel_left(
        self, conn: sa.Connection, event: RequestAdvanced, definition: WorkflowDefinition
    ) -> None:
        """Cancel the pending timers not live in the state entered (those of another state,
        and any of a timer the workflow no longer has)."""
        state = event.request.state
        timers.cancel_all_but(
            conn,
            event.request.id,
            sorted({t.id for t in definition.timers if state in t.states}),
            now=event.at,
            why=f"request left for '{state}' ({event.trigger})",
        )

    def _follow_dates(
        self,
        conn: sa.Connection,
        event: RequestUpdated | RequestAdvanced,
        definition: WorkflowDefinition,
        armed: Collection[str] = (),
    ) -> None:
        """A moved date moves the pending timers hanging on it (a cleared one cancels them);
        a date set for the first time arms the timers that were waiting for it. `armed`: the
        timers the caller has just armed by the new dates (not to be armed again)."""
        request = event.request
        if not any(
            t.anchor_field in event.changes and request.state in t.states for t in definition.timers
        ):
            return  # no date a live timer hangs on changed: nothing to move or arm
        pending = timers.pending_for_request(conn, request.id)
        by_name: dict[str, list[TimerRow]] = {}
        for row in pending:
            by_name.setdefault(row.name, []).append(row)
        new_rows = []
        for timer in definition.timers:
            if timer.anchor_field not in event.changes or request.state not in timer.states:
                continue
            rows = by_name.get(timer.id, [])
            old_value = event.changes[timer.anchor_field][0]
            if not rows and old_value is None:
                if timer.id not in armed:
                    new_rows.extend(self._rows(conn, timer, event))
                continue
            country = self._country(conn, timer, request.emb)
            for row in rows:
                when = self.due(timer, row.occurrence, request.data, row.due_at, country)
                if when is None:
                    timers.cancel(conn, [row.id], now=event.at, why="its date was cleared")
                elif when < event.at:  # moved into the past: the late policy, not a firing
                    skip(conn, row.id, when, event.at)
                elif when != row.due_at:  # a row already due then is left as it is
                    timers.move(conn, row.id, when)
        timers.arm(conn, new_rows)

    # ------------------------------------------------------------------ dry run
    def projected(
        self,
        definition: WorkflowDefinition,
        state: str,
        data: dict[str, Any],
        now: datetime,
        country: str | None = None,
        held_from: str | None = None,
    ) -> list[PlannedTimer]:
        """Timers of states the request has not reached but still can, whose dates are already
        known (`country`: the EMB's, see `due`; `held_from`: where a request on hold resumes).
        Nothing of the stages it has left: their timers were cancelled when it left them."""
        ahead = states_ahead(definition, state, held_from)
        out = []
        for timer in definition.timers:
            if state in timer.states or timer.anchor_field is None:
                continue
            if not ahead & set(timer.states):
                continue
            for n, when in self.occurrences(timer, data, now, country):
                if when > now:
                    out.append(PlannedTimer(timer, n, when, "projected"))
        return out
