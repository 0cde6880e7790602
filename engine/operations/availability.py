"""For each trigger of a request's state, whether an actor may fire it now, and if not, why
(its role, or the rules its data breaks): what a request's page offers."""

from __future__ import annotations

from engine.actor import Actor
from engine.compiler import CompiledWorkflow
from engine.operations.core import EngineCore
from engine.operations.rules import rule_failures
from engine.views import Availability
from storage.requests import RequestRow
from workflows.guard_api import RequestFacts


def availability(
    engine: EngineCore, wf: CompiledWorkflow, row: RequestRow, actor: Actor
) -> list[Availability]:
    out = []
    facts = RequestFacts(row.id, row.programme, row.state, row.emb_code)
    for trig in wf.triggers_by_state.get(row.state, ()):
        cands = [
            c
            for c in wf.candidates[(row.state, trig)]
            if c.needs_held_from is None or c.needs_held_from == row.held_from
        ]
        label = cands[0].transition.label.get(engine.language) if cands else trig
        mine = [c for c in cands if actor.role in c.transition.roles]
        if not mine:
            out.append(Availability(trig, label, False, (f"role '{actor.role}' may not do this",)))
            continue
        failures: list[dict[str, str]] = []
        allowed = False
        for cand in mine:
            failed = rule_failures(engine, cand.transition, row.data, facts)
            if not failed:
                allowed = True
                break
            failures.extend(failed)
        if allowed:
            failures = []
        reasons = tuple(f["reason"] for f in failures)
        out.append(Availability(trig, label, allowed, reasons, tuple(failures)))
    return out
