"""The compiled machine: one per workflow version, shared by every request, holding no model,
offering only declared triggers, by role, with `previous` expanded per active state."""

from __future__ import annotations

from pathlib import Path

import pytest
from transitions import MachineError

from config.catalogues import load_catalogues
from engine.clock import ManualClock
from engine.compiler import CompiledWorkflow, Subject
from engine.registry import WorkflowRegistry
from storage.db import Database
from tests.conftest import START, example_steps
from workflows.definition import PREVIOUS, ROLES, WorkflowDefinition
from workflows.loader import WORKFLOW_DIR, load_file, load_text, workflow_files

GALLERY = Path(__file__).parents[1] / "gallery" / "lifecycle.yaml"
FILES = [*workflow_files(WORKFLOW_DIR), GALLERY]


def compile_file(path: Path) -> CompiledWorkflow:
    return CompiledWorkflow(load_file(path), 1, load_catalogues())


@pytest.fixture(scope="module")
def internship() -> CompiledWorkflow:
    return compile_file(WORKFLOW_DIR / "internship.yaml")


@pytest.fixture(scope="module")
def lifecycle() -> CompiledWorkflow:
    return compile_file(GALLERY)


@pytest.fixture(params=FILES, ids=lambda p: p.stem)
def compiled(request: pytest.FixtureRequest) -> CompiledWorkflow:
    return compile_file(request.param)


def take(compiled: CompiledWorkflow, subject: Subject, trigger: str, dest: str) -> bool:
    """Fire `trigger` with only the candidate leading to `dest` allowed."""
    subject.verdicts = {
        c.key: c.dest == dest for c in compiled.candidates[(subject.state, trigger)]
    }
    return compiled.fire(subject, trigger)


# ---------------------------------------------------------------- shared, model-free
def test_compiling_attaches_no_model_to_the_machine(compiled: CompiledWorkflow) -> None:
    assert compiled.machine.models == []


def test_many_subjects_share_one_machine_that_never_keeps_them(
    internship: CompiledWorkflow,
) -> None:
    path = [step["trigger"] for step in example_steps("internship")]
    subjects = [Subject(state=internship.definition.initial) for _ in range(25)]
    for trigger in path:
        for subject in subjects[::2]:  # half of them move; the others stay where they are
            cands = internship.candidates[(subject.state, trigger)]
            subject.verdicts = {c.key: True for c in cands}
            assert internship.fire(subject, trigger)
    assert {s.state for s in subjects[::2]} == {"closed"}
    assert {s.state for s in subjects[1::2]} == {internship.definition.initial}
    assert internship.machine.models == []
    assert not hasattr(subjects[0], "trigger")  # no convenience methods were added


def test_the_registry_compiles_each_workflow_once_and_hands_out_the_same_machine(
    sqlite_url: str,
) -> None:
    db = Database(sqlite_url)
    try:
        registry = WorkflowRegistry(load_catalogues())
        registry.sync(db, ManualClock(START))
        first = registry.current("internship")
        assert registry.current("internship") is first
        assert registry.cached("internship", first.version) is first
        machines = {id(registry.current(name).machine) for name in registry.names()}
        assert len(machines) == len(registry.names())
    finally:
        db.dispose()


# ---------------------------------------------------------------- events
def test_no_automatic_to_state_events(compiled: CompiledWorkflow) -> None:
    events = set(compiled.machine.events)
    assert events == {t.trigger for t in compiled.definition.transitions}
    assert not [e for e in events if e.startswith("to_")]
    subject = Subject(state=compiled.definition.initial)
    assert not hasattr(subject, "to_closed")


def test_a_trigger_not_declared_for_the_state_is_refused_by_the_machine(
    lifecycle: CompiledWorkflow,
) -> None:
    subject = Subject(state="intake")
    with pytest.raises(MachineError):
        lifecycle.fire(subject, "close")
    assert subject.state == "intake"


def test_a_transition_whose_verdict_is_missing_or_false_does_not_fire(
    lifecycle: CompiledWorkflow,
) -> None:
    subject = Subject(state="intake")
    assert lifecycle.fire(subject, "accept") is False
    (cand,) = lifecycle.candidates[("intake", "accept")]
    subject.verdicts = {cand.key: False}
    assert lifecycle.fire(subject, "accept") is False
    assert subject.state == "intake"
    subject.verdicts = {cand.key: True}
    assert lifecycle.fire(subject, "accept") is True
    assert subject.state == "needs_assessment"


def test_verdicts_choose_between_transitions_sharing_a_trigger() -> None:
    label = "{es: X, en: X, fr: X}"
    text = f"""\
workflow: split
title: {label}
initial: a
states:
  a: {{label: {label}}}
  fast: {{label: {label}, final: true}}
  slow: {{label: {label}, final: true}}
transitions:
  - {{trigger: go, source: a, dest: fast, guards: [dates_set], label: {label}}}
  - {{trigger: go, source: a, dest: slow, label: {label}}}
"""
    compiled = CompiledWorkflow(load_text(text, "split.yaml"), 1, load_catalogues())
    guarded, fallback = compiled.candidates[("a", "go")]
    assert (guarded.dest, fallback.dest) == ("fast", "slow")
    subject = Subject(state="a", verdicts={guarded.key: True, fallback.key: True})
    assert compiled.fire(subject, "go")
    assert subject.state == "fast"  # the first whose guards pass wins
    subject = Subject(state="a", verdicts={guarded.key: False, fallback.key: True})
    assert compiled.fire(subject, "go")
    assert subject.state == "slow"


# ---------------------------------------------------------------- roles
def test_triggers_for_a_state_depend_on_the_role(internship: CompiledWorkflow) -> None:
    assert internship.triggers_for("final_report", "intern") == ("submit_report",)
    assert internship.triggers_for("final_report", "coordinator") == (
        "submit_report",
        "withdraw",
        "put_on_hold",
    )
    assert internship.triggers_for("intake", "partner") == ("withdraw",)
    assert internship.triggers_for("intake", "intern") == ()
    assert internship.triggers_for("on_hold", "coordinator") == ("resume",)
    assert internship.triggers_for("on_hold", "partner") == ()
    assert internship.triggers_for("closed", "admin") == ()
    assert internship.triggers_for("nowhere", "admin") == ()


def test_a_stage_offers_its_own_way_forward_before_the_shared_exits() -> None:
    """The exits every stage shares (`source: active`: withdraw, put on hold) come after the
    stage's own actions, even when the file (or its base) declares them first."""
    label = "{es: X, en: X, fr: X}"
    text = f"""\
workflow: order
title: {label}
initial: a
states:
  a: {{label: {label}}}
  b: {{label: {label}}}
  done: {{label: {label}, final: true}}
  gone: {{label: {label}, final: true}}
transitions:
  - {{trigger: withdraw, source: active, dest: gone, label: {label}}}
  - {{trigger: go, source: a, dest: b, label: {label}}}
  - {{trigger: finish, source: b, dest: done, label: {label}}}
  - {{trigger: drop, source: b, dest: gone, label: {label}}}
"""
    compiled = CompiledWorkflow(load_text(text, "order.yaml"), 1, load_catalogues())
    assert compiled.triggers_by_state["a"] == ("go", "withdraw")
    assert compiled.triggers_by_state["b"] == ("finish", "drop", "withdraw")
    assert compiled.triggers_for("b", "coordinator") == ("finish", "drop", "withdraw")


def test_triggers_for_matches_the_roles_declared_in_the_file(compiled: CompiledWorkflow) -> None:
    definition = compiled.definition
    for state in definition.states:
        for role in ROLES:
            expected: list[str] = []
            for t in definition.transitions:
                if state in t.sources and role in t.roles and t.trigger not in expected:
                    expected.append(t.trigger)
            assert sorted(compiled.triggers_for(state, role)) == sorted(expected), (state, role)
            assert compiled.triggers_for(state, role) == compiled.triggers_for(state, role)


def test_viewers_cannot_fire_any_internship_step(
    internship: CompiledWorkflow,
) -> None:
    for state in internship.definition.states:
        assert internship.triggers_for(state, "viewer") == ()


# ---------------------------------------------------------------- previous
def _resume(definition: WorkflowDefinition) -> str:
    hold = definition.hold_state()
    return next(t.trigger for t in definition.transitions if hold in t.sources)


def test_previous_expands_to_one_candidate_per_active_state(compiled: CompiledWorkflow) -> None:
    definition = compiled.definition
    hold = definition.hold_state()
    assert hold is not None
    back = [t for t in definition.transitions if t.dest == PREVIOUS]
    assert back, "every bundled workflow can resume from hold"
    candidates = compiled.candidates[(hold, _resume(definition))]
    assert [c.dest for c in candidates] == definition.active_states()
    assert [c.needs_held_from for c in candidates] == definition.active_states()
    assert len({c.key for c in candidates}) == len(candidates)
    machine_dests = [t.dest for t in compiled.machine.events[_resume(definition)].transitions[hold]]
    assert machine_dests == definition.active_states()


def test_every_candidate_has_its_own_key(compiled: CompiledWorkflow) -> None:
    keys = [c.key for cands in compiled.candidates.values() for c in cands]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("held_from", ["intake", "needs_assessment", "final_report"])
def test_resume_returns_to_the_state_the_request_was_held_from(
    lifecycle: CompiledWorkflow, held_from: str
) -> None:
    subject = Subject(state=held_from)
    assert take(lifecycle, subject, "put_on_hold", "on_hold")
    subject.held_from = held_from
    assert take(lifecycle, subject, "resume", held_from)
    assert subject.state == held_from
    assert lifecycle.machine.models == []
