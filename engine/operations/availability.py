"""For each trigger of a request's state, whether an actor may fire it now, and if not, why
(its role, or the rules its data breaks): what a request's page offers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.operations.rules import Failure, add_failures, failure, rule_failures
from engine.views import Availability
from i18n import Text
from storage.rows import RequestRow
from workflows.guard_api import RequestFacts

if TYPE_CHECKING:
    from engine.actor import Actor
    from engine.compiler import CompiledWorkflow
    from engine.operations.core import EngineReader

ROLE_REFUSAL = "role"  # the code of a refusal for the actor's role, not for the data


def availability(
    engine: EngineReader, wf: CompiledWorkflow, row: RequestRow, actor: Actor
) -> list[Availability]:
    out = []
    today = engine.business_time.local_date(engine.clock())
    facts = RequestFacts(row.id, row.programme, row.state, row.emb_code, today=today)
    for trig in wf.triggers_by_state.get(row.state, ()):
        cands = [
            c
            for c in wf.candidates[(row.state, trig)]
            if c.needs_held_from is None or c.needs_held_from == row.held_from
        ]
        names = cands[0].transition.label if cands else None
        label = names.get(engine.language) if names is not None else trig
        mine = [c for c in cands if actor.role in c.transition.roles]
        if not mine:
            refusal = failure(
                ROLE_REFUSAL, Text("Your role (%(role)s) may not do this.", role=actor.role)
            )
            out.append(
                Availability(
                    trig, label, False, (refusal["reason"],), (refusal,), names, engine.language
                )
            )
            continue
        failures: list[Failure] = []
        allowed = False
        for cand in mine:
            failed = rule_failures(engine, cand.transition, row.data, facts, wf.definition.fields)
            if not failed:
                allowed = True
                break
            add_failures(failures, failed)
        if allowed:
            failures = []
        reasons = tuple(f["message"].say(engine.language) for f in failures)
        out.append(
            Availability(trig, label, allowed, reasons, tuple(failures), names, engine.language)
        )
    return out
