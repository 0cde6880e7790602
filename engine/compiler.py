"""One shared `transitions` machine per (workflow, version), and the indexes the engine needs.

The machine is built once with `model=None, auto_transitions=False, send_event=True` and fired
with `machine.events[trigger].trigger(subject)` on a transient object — never `add_model` on a
persisted row (see LIBRARY-NOTES). Guards are evaluated by the engine first, so every failing
rule can be reported; the machine's conditions read those verdicts, so the machine still
decides which of several same-trigger transitions fires.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from config.catalogues import Catalogues
from workflows.definition import PREVIOUS, TransitionDef, WorkflowDefinition

if TYPE_CHECKING:  # built when first used: showing a request needs neither (issue 16)
    from transitions import EventData, Machine

    from workflows.fields import FieldValidators


@dataclass
class Subject:
    """The transient object the machine moves: a state and the verdicts for this firing."""

    state: str
    held_from: str | None = None
    verdicts: dict[int, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """A transition that `trigger` may take from one state; `key` indexes the verdicts."""

    key: int
    transition: TransitionDef
    dest: str  # resolved: PREVIOUS expands into one candidate per active state
    needs_held_from: str | None = None


def _condition(key: int, event: EventData) -> bool:
    subject = event.model
    assert isinstance(subject, Subject)
    return subject.verdicts.get(key, False)


class CompiledWorkflow:
    def __init__(self, definition: WorkflowDefinition, version: int, catalogues: Catalogues):
        self.definition = definition
        self.name = definition.name
        self.version = version
        self.catalogues = catalogues
        self.candidates: dict[tuple[str, str], list[Candidate]] = {}
        machine_transitions: list[dict[str, Any]] = []
        key = 0
        for t in definition.transitions:
            for src in t.sources:
                dests = (
                    [(s, s) for s in definition.active_states()]
                    if t.dest == PREVIOUS
                    else [(t.dest, None)]
                )
                for dest, held in dests:
                    cand = Candidate(key, t, dest, held)
                    self.candidates.setdefault((src, t.trigger), []).append(cand)
                    machine_transitions.append(
                        {
                            "trigger": t.trigger,
                            "source": src,
                            "dest": dest,
                            "conditions": [partial(_condition, key)],
                        }
                    )
                    key += 1
        self._machine_transitions = machine_transitions
        self.hold_state = definition.hold_state()  # the state "on hold" (None: none)
        # each state's triggers in file order, but the shared exits it has only through the
        # `active` keyword (withdraw, put on hold, decline…) after its own ways forward, so a
        # stage's own action comes first wherever the base that declares the exits is listed
        forward: dict[str, list[str]] = {s: [] for s in definition.states}
        exits: dict[str, list[str]] = {s: [] for s in definition.states}
        for (src, trig), cands in self.candidates.items():
            generic = all(src in c.transition.generic_sources for c in cands)
            (exits if generic else forward)[src].append(trig)
        self.triggers_by_state: Mapping[str, tuple[str, ...]] = {
            s: (*forward[s], *exits[s]) for s in definition.states
        }
        # triggers by (state, role): what a list view may offer without reading any data
        self._by_role: dict[tuple[str, str], tuple[str, ...]] = {}
        # (state, trigger, role) → the candidates that role may fire and the fields the step
        # may collect (the state's and those transitions'): worked out once, not per firing
        self._steps: dict[tuple[str, str, str], tuple[tuple[Candidate, ...], frozenset[str]]] = {}

    @cached_property
    def validators(self) -> FieldValidators:
        """The type checks of the workflow's fields (built when data is first validated)."""
        from workflows.fields import FieldValidators

        return FieldValidators(self.definition.fields, self.catalogues)

    @cached_property
    def machine(self) -> Machine:
        """The state machine (built when a request first moves; a page that only shows one
        reads `candidates` and `triggers_by_state`)."""
        from transitions import Machine

        return Machine(
            model=None,
            states=list(self.definition.states),
            transitions=self._machine_transitions,
            initial=self.definition.initial,
            auto_transitions=False,
            send_event=True,
        )

    def triggers_for(self, state: str, role: str) -> tuple[str, ...]:
        key = (state, role)
        found = self._by_role.get(key)
        if found is None:
            found = tuple(
                trig
                for trig in self.triggers_by_state.get(state, ())
                if any(role in c.transition.roles for c in self.candidates[(state, trig)])
            )
            self._by_role[key] = found
        return found

    def step(
        self, state: str, trigger: str, role: str
    ) -> tuple[tuple[Candidate, ...], frozenset[str]]:
        """The candidates of (`state`, `trigger`) that `role` may fire, in order (none: the
        role may not), and the fields such a step may collect: the state's and theirs."""
        key = (state, trigger, role)
        found = self._steps.get(key)
        if found is None:
            mine = tuple(
                c for c in self.candidates.get((state, trigger), ()) if role in c.transition.roles
            )
            collectable: set[str] = set()
            if mine:
                collectable.update(self.definition.states[state].collects)
                for cand in mine:
                    collectable.update(cand.transition.collects)
            found = (mine, frozenset(collectable))
            if mine:  # a refusal is not kept (whatever role a caller names)
                self._steps[key] = found
        return found

    def fire(self, subject: Subject, trigger: str) -> bool:
        """Move `subject` with the machine; the verdicts must already be set."""
        return bool(self.machine.events[trigger].trigger(subject))
