"""The Mermaid picture of a workflow: every state and every transition, the current state
highlighted, deterministic text that Mermaid's stateDiagram-v2 grammar accepts."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from types import MappingProxyType

import pytest

from config.catalogues import Label
from engine.diagram import mermaid
from workflows.definition import PREVIOUS, WorkflowDefinition
from workflows.loader import WORKFLOW_DIR, load_file, workflow_files

GALLERY = Path(__file__).parents[1] / "gallery" / "lifecycle.yaml"
FILES = [*workflow_files(WORKFLOW_DIR), GALLERY]
LINE = re.compile(
    r"""^\ {4}(?:
        state\ "[^"\n]+"\ as\ [a-z][a-z0-9_]*          # a state and its label
      | \[\*\]\ -->\ [a-z][a-z0-9_]*                    # the initial state
      | [a-z][a-z0-9_]*\ -->\ [a-z][a-z0-9_]*\ :\ [a-z][a-z0-9_]*   # a transition
      | [a-z][a-z0-9_]*\ -->\ \[\*\]                    # a final state
      | classDef\ current\ [^\s;]+                      # the highlight style
      | class\ [a-z][a-z0-9_]*\ current                 # the highlighted state
    )$""",
    re.VERBOSE,
)


@pytest.fixture(params=FILES, ids=lambda p: p.stem)
def definition(request: pytest.FixtureRequest) -> WorkflowDefinition:
    return load_file(request.param)


def _edges(text: str) -> set[tuple[str, str, str]]:
    found = re.findall(r"^ {4}(\w+) --> (\w+) : (\w+)$", text, re.MULTILINE)
    return {(s, d, t) for s, d, t in found}


def test_diagram_is_a_mermaid_state_diagram_made_of_known_statements(
    definition: WorkflowDefinition,
) -> None:
    text = mermaid(definition, current_state=definition.initial)
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert text.endswith("\n")
    bad = [line for line in lines[1:] if not LINE.match(line)]
    assert bad == []


def test_diagram_labels_every_state_and_marks_start_and_ends(
    definition: WorkflowDefinition,
) -> None:
    text = mermaid(definition)
    for name, state in definition.states.items():
        assert f'    state "{state.label.en}" as {name}\n' in text
    assert f"    [*] --> {definition.initial}\n" in text
    ends = re.findall(r"^ {4}(\w+) --> \[\*\]$", text, re.MULTILINE)
    assert ends == definition.final_states()


def test_diagram_draws_every_transition_with_its_trigger(definition: WorkflowDefinition) -> None:
    drawn = _edges(mermaid(definition))
    hold = definition.hold_state()
    held_from = {s for t in definition.transitions if t.dest == hold for s in t.sources}
    expected = set()
    for t in definition.transitions:
        for src in t.sources:
            if t.dest == PREVIOUS:
                expected |= {(src, back, t.trigger) for back in held_from}
            else:
                expected.add((src, t.dest, t.trigger))
    assert drawn == expected
    assert {t for _, _, t in drawn} == {t.trigger for t in definition.transitions}


def test_resume_is_drawn_back_to_every_state_a_request_can_be_held_from() -> None:
    definition = load_file(GALLERY)
    drawn = _edges(mermaid(definition))
    assert {(s, d) for s, d, t in drawn if t == "resume"} == {
        ("on_hold", "intake"),
        ("on_hold", "needs_assessment"),
        ("on_hold", "final_report"),
    }


def test_current_state_is_highlighted_and_only_it(definition: WorkflowDefinition) -> None:
    current = definition.active_states()[-1]
    text = mermaid(definition, current_state=current)
    assert text.count("classDef current ") == 1
    assert re.findall(r"^ {4}class (\w+) current$", text, re.MULTILINE) == [current]


def test_without_a_current_state_nothing_is_highlighted(definition: WorkflowDefinition) -> None:
    assert "current" not in mermaid(definition)


def test_an_unknown_current_state_is_refused() -> None:
    definition = load_file(GALLERY)
    with pytest.raises(ValueError, match="unknown state 'nowhere'"):
        mermaid(definition, current_state="nowhere")


@pytest.mark.parametrize("language", ["es", "en", "fr"])
def test_state_labels_are_in_the_requested_language(language: str) -> None:
    definition = load_file(GALLERY)
    text = mermaid(definition, language=language)
    for name, state in definition.states.items():
        assert f'state "{state.label.get(language)}" as {name}' in text
    if language == "fr":
        assert 'state "Évaluation des besoins" as needs_assessment' in text


def test_the_same_definition_always_gives_the_same_text() -> None:
    first = mermaid(load_file(GALLERY), current_state="intake", language="es")
    again = mermaid(load_file(GALLERY), current_state="intake", language="es")
    assert first == again
    lines = first.splitlines()
    assert lines[1:4] == [
        '    state "Recepción" as intake',
        '    state "Diagnóstico" as needs_assessment',
        '    state "Informe final" as final_report',
    ]
    assert lines.index("    [*] --> intake") < lines.index(
        "    intake --> needs_assessment : accept"
    )


def test_quotes_and_line_breaks_in_a_label_cannot_break_the_diagram() -> None:
    definition = load_file(GALLERY)
    intake = dataclasses.replace(
        definition.states["intake"], label=Label('La "recepción"', 'The "intake"\nstep', "x")
    )
    changed = dataclasses.replace(
        definition, states=MappingProxyType({**definition.states, "intake": intake})
    )
    text = mermaid(changed)
    assert '    state "The #quot;intake#quot; step" as intake\n' in text
    assert all(LINE.match(line) for line in text.splitlines()[1:])
