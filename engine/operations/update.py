"""Change a request's data without moving it: one transaction with the new data, version + 1,
one history row (trigger `update`) and the `RequestUpdated` event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.actor import Actor
from engine.errors import GuardFailed, NotAllowed, VersionConflict
from engine.events import RequestUpdated
from engine.operations.core import EngineCore
from engine.operations.locking import lock_request
from engine.operations.request_view import request_view, stored_view
from engine.operations.rules import (
    Failure,
    add_failures,
    last_moves_out,
    rule_failures,
    update_message,
)
from engine.operations.validation import merge, validated_patch
from engine.views import RequestView
from i18n import Text
from storage import hot_path, requests
from workflows.guard_api import RequestFacts

UPDATE_TRIGGER = "update"
UPDATE_ROLES = ("coordinator", "admin")


def update(
    engine: EngineCore,
    request_id: int,
    actor: Actor,
    *,
    data: Mapping[str, Any],
    expected_version: int | None = None,
    comment: str | None = None,
) -> RequestView:
    """Change a request's data without moving it (the event postponed, a speaker replaced).

    Fields the current state collects may change freely (they are checked when the request
    leaves it). Fields of a state already left are checked again against the rules of the
    transition that left it, so an edit can never break a rule that was enforced. One
    history row (trigger `update`); `on_change` rules of the workflow may send mail."""
    if actor.role not in UPDATE_ROLES:
        raise NotAllowed(
            Text("The role %(role)s may not change a request's data.", role=actor.role)
        )
    with engine.db.transaction() as conn:
        row = lock_request(conn, request_id, expected_version)
        wf = engine.registry.get(conn, row.programme, row.workflow_version)
        definition = wf.definition
        if definition.states[row.state].final:
            raise NotAllowed(
                Text("Request %(id)s is closed: its data can no longer change.", id=request_id)
            )
        hold = definition.hold_state()
        current = row.held_from if row.state == hold and row.held_from else row.state
        left = last_moves_out(requests.history(conn, row.id), current, definition)
        editable = set(definition.states[current].collects)
        for state in left:
            editable.update(definition.states[state].collects)
        clean = validated_patch(wf, data, tuple(editable))
        merged, changes = merge(row.data, clean)
        if not changes:
            return stored_view(engine, conn, row)
        facts = RequestFacts(row.id, row.programme, row.state, row.emb_code)
        failures: list[Failure] = []
        for state, (trigger, dest) in left.items():
            if not set(changes) & set(definition.states[state].collects):
                continue
            for cand in wf.candidates.get((state, trigger), ()):
                if cand.dest == dest:
                    found = rule_failures(engine, cand.transition, merged, facts, definition.fields)
                    add_failures(failures, found)
                    break
        if failures:
            raise GuardFailed(update_message(failures), failures)
        now = engine.clock()
        history_id = hot_path.record_transition(
            conn,
            request_id=row.id,
            expected_version=row.version,
            state=row.state,
            held_from=row.held_from,
            data=merged,
            now=now,
            actor_role=actor.role,
            actor_name=actor.name,
            trigger=UPDATE_TRIGGER,
            from_state=row.state,
            comment=comment,
            changes=changes,
        )
        if history_id is None:  # pragma: no cover - the row lock makes this unreachable
            raise VersionConflict(f"request {request_id} changed during the update")
        view = request_view(
            engine,
            wf,
            row.id,
            row.programme,
            row.emb_code,
            row.title,
            row.state,
            row.held_from,
            merged,
            row.version + 1,
            row.created_at,
            now,
        )
        engine.publish(
            conn,
            RequestUpdated(view, definition, history_id, actor, now, changes, comment),
        )
    engine.committed()
    return view
