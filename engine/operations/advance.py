"""Move a request by a trigger — the hot path.

Lock the row and check its version → validate the step's data → evaluate every guard of every
candidate transition (so all broken rules are reported) → let the shared machine, fired on a
transient `Subject`, pick the transition → write state, version + 1, data and one history row
→ publish `RequestAdvanced` to the in-transaction listeners (reminders, mail). `advance` is
its own transaction; `advance_in` runs inside the caller's (the timer sweep, report upload).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import sqlalchemy as sa

from engine.actor import Actor
from engine.compiler import CompiledWorkflow, Subject
from engine.errors import GuardFailed, NotAllowed, VersionConflict
from engine.events import RequestAdvanced
from engine.operations.core import EngineCore
from engine.operations.locking import lock_request
from engine.operations.request_view import request_view
from engine.operations.rules import Failure, add_failures, guard_message, rule_failures
from engine.operations.validation import merge, validated_patch
from engine.views import RequestView
from i18n import Text, say
from storage import hot_path
from storage.requests import RequestRow
from workflows.guard_api import RequestFacts


def advance(
    engine: EngineCore,
    request_id: int,
    trigger: str,
    actor: Actor,
    *,
    data: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    comment: str | None = None,
) -> RequestView:
    with engine.db.transaction() as conn:
        view = advance_in(
            engine,
            conn,
            request_id,
            trigger,
            actor,
            data=data,
            expected_version=expected_version,
            comment=comment,
        )
    engine.committed()
    return view


def advance_in(
    engine: EngineCore,
    conn: sa.Connection,
    request_id: int,
    trigger: str,
    actor: Actor,
    *,
    data: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    comment: str | None = None,
) -> RequestView:
    """`advance` inside the caller's transaction (the timer sweep fires deadlines so)."""
    row = lock_request(conn, request_id, expected_version)
    wf = engine.registry.get(conn, row.programme, row.workflow_version)
    candidates, collectable = wf.step(row.state, trigger, actor.role)
    if not candidates:
        _refuse(wf, row, trigger, actor)
    clean = validated_patch(wf, data or {}, collectable)
    merged, changes = merge(row.data, clean)
    subject = Subject(state=row.state, held_from=row.held_from)
    failures: list[Failure] = []
    today = engine.business_time.local_date(engine.clock())
    facts = RequestFacts(row.id, row.programme, row.state, row.emb_code, today=today)
    fields = wf.definition.fields
    for cand in candidates:
        if cand.needs_held_from is not None and cand.needs_held_from != row.held_from:
            continue
        reasons = rule_failures(engine, cand.transition, merged, facts, fields)
        subject.verdicts[cand.key] = not reasons
        add_failures(failures, reasons)
    if not wf.fire(subject, trigger):
        raise GuardFailed(guard_message(candidates[0].transition.label, failures), failures)
    chosen = next(c for c in candidates if subject.verdicts.get(c.key))
    new_state = subject.state
    hold = wf.hold_state
    held_from = row.state if new_state == hold and row.state != hold else None
    now = engine.clock()
    history_id = hot_path.record_transition(
        conn,
        request_id=row.id,
        expected_version=row.version,
        state=new_state,
        held_from=held_from,
        data=merged if changes else None,
        now=now,
        actor_role=actor.role,
        actor_name=actor.name,
        trigger=trigger,
        from_state=row.state,
        comment=comment,
        changes=changes or None,
        locked=row,
    )
    if history_id is None:  # pragma: no cover - the row lock makes this unreachable
        raise VersionConflict(f"request {request_id} changed during the transition")
    view = request_view(
        engine,
        wf,
        row.id,
        row.programme,
        row.emb_code,
        row.title,
        new_state,
        held_from,
        merged,
        row.version + 1,
        row.created_at,
        now,
    )
    engine.publish(
        conn,
        RequestAdvanced(
            view,
            wf.definition,
            row.state,
            trigger,
            chosen.transition,
            history_id,
            actor,
            now,
            changes,
            comment,
        ),
    )
    return view


class ActionName:
    """A trigger as a person names it — its label — with the code one types after it."""

    def __init__(self, label: Any, trigger: str) -> None:
        self.label, self.trigger = label, trigger

    def get(self, language: str) -> str:
        return f"{say(self.label, language)} ({self.trigger})"


def _refuse(wf: CompiledWorkflow, row: RequestRow, trigger: str, actor: Actor) -> NoReturn:
    """Why `actor` may take no transition of `trigger` from the request's state: the state has
    none (and what it has), or none the actor's role may fire (and whose it is)."""
    definition = wf.definition
    found = wf.candidates.get((row.state, trigger))
    if not found:
        possible = [
            ActionName(wf.candidates[(row.state, t)][0].transition.label, t)
            for t in wf.triggers_by_state.get(row.state, ())
        ]
        message = (
            Text(
                "%(trigger)s is not possible while request %(id)s is in “%(state)s”; possible "
                "now: %(possible)s.",
                trigger=repr(trigger),
                id=row.id,
                state=definition.states[row.state].label,
                possible=possible,
            )
            if possible
            else Text(
                "%(trigger)s is not possible while request %(id)s is in “%(state)s”; nothing "
                "can be done in this state.",
                trigger=repr(trigger),
                id=row.id,
                state=definition.states[row.state].label,
            )
        )
        raise NotAllowed(message, [{"trigger": trigger, "state": row.state}])
    roles = sorted({r for c in found for r in c.transition.roles})
    raise NotAllowed(
        Text(
            "The role %(role)s may not “%(action)s” (allowed: %(roles)s).",
            role=actor.role,
            action=found[0].transition.label,
            roles=", ".join(roles),
        ),
        [{"trigger": trigger, "role": actor.role, "allowed_roles": roles}],
    )
