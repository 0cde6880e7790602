"""The workflow's rules on a request's data: a transition's required fields and guards, and,
for an edit, the transitions by which the request left the states whose fields it changes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.operations.core import EngineCore
from storage.requests import HistoryRow
from workflows.definition import TransitionDef, WorkflowDefinition
from workflows.guard_api import GuardContext, RequestFacts

REQUIRED_GUARD = "required_fields"


def rule_failures(
    engine: EngineCore, transition: TransitionDef, data: Mapping[str, Any], facts: RequestFacts
) -> list[dict[str, str]]:
    """Reasons this transition may not fire (required fields and every guard)."""
    reasons = [
        {"guard": REQUIRED_GUARD, "field": name, "reason": f"'{name}' must be filled in first."}
        for name in transition.requires
        if data.get(name) in (None, "", [], {})
    ]
    for ref in transition.guards:
        spec = engine.registry.guards.get(ref.name)
        assert spec is not None  # checked at load time
        ctx = GuardContext(data, ref.params, engine.catalogues, facts)
        reasons.extend({"guard": ref.name, "reason": r} for r in spec.fn(ctx))
    return reasons


def guard_message(trigger: str, failures: list[dict[str, str]]) -> str:
    if not failures:
        return f"'{trigger}' cannot happen now"
    lines = "; ".join(f"[{f['guard']}] {f['reason']}" for f in failures)
    return f"'{trigger}' refused: {lines}"


def last_moves_out(
    history: Sequence[HistoryRow], current: str, definition: WorkflowDefinition
) -> dict[str, tuple[str, str]]:
    """State → (trigger, dest) of the last move out of it, for the states a request has left
    on its way to `current` (moves into and out of the hold state, and updates, do not count),
    named as in `definition` (a migrated request's older rows use its old names)."""
    hold = definition.hold_state()
    left: dict[str, tuple[str, str]] = {}
    for h in history:
        src, dst = definition.known_as(h.from_state or ""), definition.known_as(h.to_state)
        if src and dst and src != dst and hold not in (src, dst):
            left[src] = (h.trigger, dst)
    left.pop(current, None)
    return left
