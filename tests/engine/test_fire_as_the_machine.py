"""`CompiledWorkflow.fire` resolves a declared trigger without the `transitions` event
machinery (engine/compiler.py): for every workflow shipped, every (state, trigger) and every
combination of verdicts, it moves the subject exactly as the shared machine does, and what no
state declares is still refused by the machine."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from transitions import MachineError

from config.catalogues import load_catalogues
from engine.compiler import CompiledWorkflow, Subject
from workflows.loader import WORKFLOW_DIR, load_file, workflow_files

GALLERY = Path(__file__).parents[1] / "gallery" / "lifecycle.yaml"
FILES = [*workflow_files(WORKFLOW_DIR), GALLERY]


@pytest.fixture(params=FILES, ids=lambda p: p.stem)
def compiled(request: pytest.FixtureRequest) -> CompiledWorkflow:
    return CompiledWorkflow(load_file(request.param), 1, load_catalogues())


def _by_machine(compiled: CompiledWorkflow, subject: Subject, trigger: str) -> bool:
    return bool(compiled.machine.events[trigger].trigger(subject))


def test_fire_moves_as_the_machine_for_every_verdict(compiled: CompiledWorkflow) -> None:
    checked = 0
    for (state, trigger), cands in compiled.candidates.items():
        keys = [c.key for c in cands]
        for values in itertools.product((False, True), repeat=min(len(keys), 8)):
            verdicts = dict(zip(keys, values, strict=False))
            ours = Subject(state=state, verdicts=dict(verdicts))
            theirs = Subject(state=state, verdicts=dict(verdicts))
            assert compiled.fire(ours, trigger) == _by_machine(compiled, theirs, trigger)
            assert ours.state == theirs.state
            checked += 1
    assert checked
    assert compiled.machine.models == []


def test_a_trigger_the_state_does_not_declare_is_refused_by_the_machine(
    compiled: CompiledWorkflow,
) -> None:
    for state in compiled.definition.states:
        declared = set(compiled.triggers_by_state.get(state, ()))
        for trigger in sorted(set(compiled.machine.events) - declared):
            subject = Subject(state=state)
            with pytest.raises(MachineError):
                compiled.fire(subject, trigger)
            assert subject.state == state
