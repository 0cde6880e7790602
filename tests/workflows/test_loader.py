"""A broken workflow file is refused at load time, every problem at once, each with the file and
the line a person has to fix. Most cases are broken copies of the real `internship.yaml`."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from engine.errors import DefinitionProblem, InvalidDefinition
from workflows.definition import FIELD_TYPES
from workflows.guard_api import GUARDS
from workflows.loader import WORKFLOW_DIR, load_all, load_file, load_text, workflow_files

# a frozen copy of the internship workflow, so these tests do not move with the live file
INTERNSHIP = (
    Path(__file__).resolve().parent.parent / "gallery" / "internship_reference.yaml"
).read_text(encoding="utf-8")
GALLERY = Path(__file__).parents[1] / "gallery" / "lifecycle.yaml"
BUNDLED = [p.stem for p in workflow_files()]
LABEL = "{es: X, en: X, fr: X}"
KNOWN_GUARDS = ", ".join(GUARDS.names())
KNOWN_TYPES = ", ".join(FIELD_TYPES)
UNREACHABLE = "state '{}' is unreachable from '{}'"
DEAD_END = (
    "non-final state '{}' is a dead end: no transition leads out of it "
    "(the generic exits from every active state, such as withdraw, and "
    "putting it on hold do not count)"
)
TRAP = (
    "state '{}' is a trap: no final state can be reached from it except through the generic exits"
)


# ---------------------------------------------------------------- helpers
def mutate(text: str, old: str, new: str) -> str:
    """`text` with the one occurrence of `old` replaced (fails loudly if the file changed)."""
    assert text.count(old) == 1, f"{old!r} must occur exactly once in the source"
    return text.replace(old, new)


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the `nth` line containing `needle`."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= nth, f"{needle!r} occurs {len(hits)} time(s), wanted #{nth}"
    return hits[nth - 1]


def refused(
    tmp_path: Path, text: str, name: str = "internship"
) -> tuple[str, list[DefinitionProblem]]:
    """Write `text` as `<name>.yaml`, load it, and return (path, problems) of the refusal."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidDefinition) as caught:
        load_file(path)
    return str(path), list(caught.value.problems)


def tiny(
    states: dict[str, str],
    edges: list[tuple[str, str, str]],
    initial: str = "a",
    name: str = "tiny",
) -> str:
    """A small workflow: states {name: '' | 'final' | 'hold'}, edges (trigger, source, dest)."""
    lines = [
        f"workflow: {name}",
        "title: {es: Mini, en: Tiny, fr: Mini}",
        f"initial: {initial}",
        "states:",
    ]
    for state, kind in states.items():
        flag = f", {kind}: true" if kind else ""
        lines.append(f"  {state}: {{label: {LABEL}{flag}}}")
    lines.append("transitions:")
    for trigger, source, dest in edges:
        lines.append(f"  - {{trigger: {trigger}, source: {source}, dest: {dest}, label: {LABEL}}}")
    return "\n".join(lines) + "\n"


def problem(path: str, line: int, message: str) -> DefinitionProblem:
    return DefinitionProblem(path, line, message)


# ---------------------------------------------------------------- files that load
@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_workflow_loads_cleanly(name: str) -> None:
    definition = load_file(WORKFLOW_DIR / f"{name}.yaml")
    assert definition.name == name
    assert definition.initial in definition.states
    assert definition.final_states()


def test_load_all_returns_every_bundled_workflow_by_name() -> None:
    assert sorted(load_all()) == sorted(BUNDLED)
    assert len(BUNDLED) >= 5


def test_the_gallery_lifecycle_loads() -> None:
    definition = load_file(GALLERY)
    assert definition.name == "lifecycle"
    assert definition.hold_state() == "on_hold"
    assert definition.final_states() == ["closed", "withdrawn"]


def test_a_tiny_hand_written_workflow_loads() -> None:
    text = tiny({"a": "", "b": "", "done": "final"}, [("go", "a", "b"), ("end", "b", "done")])
    definition = load_text(text, "tiny.yaml", expected_name="tiny")
    assert [t.trigger for t in definition.transitions] == ["go", "end"]


# ---------------------------------------------------------------- unknown states
def without_start(path: str, text: str) -> list[DefinitionProblem]:
    """What the graph check reports about internship once `start` (ready → in_progress) is left
    out of the graph: `ready` has no way forward, the states that lead only to it cannot finish,
    and every state after it is cut off from `intake`."""
    return [
        problem(path, line_of(text, "  agenda_design:"), TRAP.format("agenda_design")),
        problem(path, line_of(text, "  logistics:"), TRAP.format("logistics")),
        problem(path, line_of(text, "  ready:"), DEAD_END.format("ready")),
        *(
            problem(path, line_of(text, f"  {state}:"), UNREACHABLE.format(state, "intake"))
            for state in ("in_progress", "final_report", "report_received", "closed")
        ),
    ]


def test_unknown_state_as_source_is_reported_on_the_source_line(tmp_path: Path) -> None:
    """The unknown source is reported where it is written and left out of the graph, so the
    consequences of `start` leaving nowhere are reported in the same pass."""
    text = mutate(INTERNSHIP, "    source: ready\n", "    source: readdy\n")
    path, problems = refused(tmp_path, text)
    assert problems == [
        *without_start(path, text),
        problem(path, line_of(text, "source: readdy"), "unknown state 'readdy' as source"),
    ]


def test_unknown_state_as_dest_is_reported_on_the_dest_line(tmp_path: Path) -> None:
    """The transition to an unknown state is reported on its dest line and left out of the
    graph, so the consequences of losing `start` are reported in the same pass."""
    text = mutate(INTERNSHIP, "    dest: in_progress\n", "    dest: in_progres\n")
    path, problems = refused(tmp_path, text)
    assert problems == [
        *without_start(path, text),
        problem(
            path, line_of(text, "dest: in_progres"), "unknown state 'in_progres' as dest of 'start'"
        ),
    ]


def test_unknown_initial_state_is_reported_on_the_initial_line(tmp_path: Path) -> None:
    text = mutate(INTERNSHIP, "initial: intake\n", "initial: intak\n")
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(path, line_of(text, "initial: intak"), "unknown state 'intak' as initial state")
    ]


def test_missing_initial_state_is_reported(tmp_path: Path) -> None:
    text = mutate(INTERNSHIP, "initial: intake\n", "")
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(path, line_of(text, "workflow: internship"), "missing 'initial' state")
    ]


# ---------------------------------------------------------------- graph
ARCHIVED_STATE = "  archived:\n    label: {es: Archivada, en: Archived, fr: Archivée}\n"
ARCHIVE_TRANSITION = """
  - trigger: archive
    source: archived
    dest: closed
    label: {es: Archivar, en: Archive, fr: Archiver}
"""


def test_unreachable_state_is_reported_with_its_line(tmp_path: Path) -> None:
    text = mutate(INTERNSHIP, "  on_hold:\n", ARCHIVED_STATE + "    final: true\n  on_hold:\n")
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(path, line_of(text, "  archived:"), "state 'archived' is unreachable from 'intake'")
    ]


def test_unreachable_state_in_a_small_workflow_is_reported_with_its_line(tmp_path: Path) -> None:
    text = tiny(
        {"a": "", "b": "", "done": "final"}, [("finish", "a", "done"), ("finish_b", "b", "done")]
    )
    path, problems = refused(tmp_path, text, "tiny")
    assert problems == [problem(path, line_of(text, "  b: "), "state 'b' is unreachable from 'a'")]


def test_active_state_reachable_only_through_resume_is_reported_as_unreachable(
    tmp_path: Path,
) -> None:
    """`archived` is active, so it could be put on hold, but nothing leads into it: a resume only
    returns to a state the request was already in, so it never makes a new state reachable."""
    text = mutate(INTERNSHIP, "  on_hold:\n", ARCHIVED_STATE + "  on_hold:\n") + ARCHIVE_TRANSITION
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(path, line_of(text, "  archived:"), "state 'archived' is unreachable from 'intake'")
    ]


def test_hold_state_without_a_way_back_is_a_dead_end(tmp_path: Path) -> None:
    resume = (
        "  - trigger: resume\n    source: on_hold\n    dest: previous\n"
        "    notify:\n      - template: request_resumed\n        to: [emb_contacts]\n"
        "    label: {es: Reanudar, en: Resume, fr: Reprendre}\n"
    )
    text = mutate(INTERNSHIP, resume, "")
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(
            path,
            line_of(text, "  on_hold:"),
            "hold state 'on_hold' is a dead end: add a transition with 'dest: previous' "
            "(resume) out of it",
        )
    ]


def test_non_final_state_without_transitions_is_a_dead_end(tmp_path: Path) -> None:
    text = tiny(
        {"a": "", "stuck": "", "done": "final"}, [("finish", "a", "done"), ("park", "a", "stuck")]
    )
    path, problems = refused(tmp_path, text, "tiny")
    assert problems == [problem(path, line_of(text, "  stuck: "), DEAD_END.format("stuck"))]


@pytest.mark.parametrize(
    ("withdraw_from", "stuck"),
    [("active", True), ("[active, b]", False)],
    ids=["only-through-active", "b-named-explicitly"],
)
def test_a_generic_exit_from_every_active_state_is_no_way_forward(
    tmp_path: Path, withdraw_from: str, stuck: bool
) -> None:
    """`withdraw` from `source: active` leaves every active state, so it does not make `b` a
    step of the process; naming `b` as a source of its own does."""
    text = tiny(
        {"a": "", "b": "", "done": "final"},
        [("finish", "a", "done"), ("go", "a", "b"), ("withdraw", withdraw_from, "done")],
    )
    if not stuck:
        assert load_text(text, "tiny.yaml", expected_name="tiny").name == "tiny"
        return
    path, problems = refused(tmp_path, text, "tiny")
    assert problems == [problem(path, line_of(text, "  b: "), DEAD_END.format("b"))]


def test_cycle_with_no_way_to_a_final_state_is_reported_as_a_trap(tmp_path: Path) -> None:
    text = tiny(
        {"a": "", "b": "", "c": "", "done": "final"},
        [("finish", "a", "done"), ("loop", "a", "b"), ("next", "b", "c"), ("back", "c", "b")],
    )
    path, problems = refused(tmp_path, text, "tiny")
    assert problems == [
        problem(path, line_of(text, "  b: "), TRAP.format("b")),
        problem(path, line_of(text, "  c: "), TRAP.format("c")),
    ]


def test_state_whose_only_way_out_is_hold_and_back_is_a_trap(tmp_path: Path) -> None:
    """`limbo` can only be put on hold (and resumed back into `limbo`). `put_on_hold` reaches it
    only through `source: active`, a generic exit that is no way forward, so `limbo` has no
    forward edge at all and is reported as a dead end, the stronger form of a trap. (Withdraw is
    also kept away from `limbo`, though as a generic exit it would not count either.)"""
    limbo = "  limbo:\n    label: {es: Limbo, en: Limbo, fr: Limbes}\n"
    every_active_but_limbo = (
        f"[{', '.join(load_text(INTERNSHIP, 'internship.yaml').active_states())}]"
    )
    text = mutate(INTERNSHIP, "  on_hold:\n", limbo + "  on_hold:\n")
    text = mutate(
        text,
        "  - trigger: withdraw\n    source: active\n",
        f"  - trigger: withdraw\n    source: {every_active_but_limbo}\n",
    )
    text += (
        "\n  - trigger: stall\n    source: ready\n    dest: limbo\n"
        "    label: {es: Detener, en: Stall, fr: Bloquer}\n"
    )
    path, problems = refused(tmp_path, text)
    assert problems == [problem(path, line_of(text, "  limbo:"), DEAD_END.format("limbo"))]


def test_workflow_whose_final_state_cannot_be_reached_reports_every_consequence(
    tmp_path: Path,
) -> None:
    text = tiny({"a": "", "b": "", "done": "final"}, [("go", "a", "b"), ("back", "b", "a")])
    path, problems = refused(tmp_path, text, "tiny")
    assert problems == [
        problem(
            path,
            line_of(text, "initial: a"),
            "no final state can be reached from the initial state",
        ),
        problem(path, line_of(text, "  a: "), TRAP.format("a")),
        problem(path, line_of(text, "  b: "), TRAP.format("b")),
        problem(path, line_of(text, "  done: "), UNREACHABLE.format("done", "a")),
    ]


def test_workflow_without_any_final_state_is_refused(tmp_path: Path) -> None:
    text = tiny({"a": "", "b": ""}, [("go", "a", "b"), ("back", "b", "a")])
    path, problems = refused(tmp_path, text, "tiny")
    assert (
        problem(
            path, line_of(text, "states:"), "no final state (mark at least one with final: true)"
        )
        in problems
    )


# ---------------------------------------------------------------- guards
def test_unknown_guard_is_reported_and_names_the_known_guards(tmp_path: Path) -> None:
    text = mutate(INTERNSHIP, "themes_in_catalogue]", "themes_in_catalog]")
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(
            path,
            line_of(text, "themes_in_catalog]"),
            f"unknown guard 'themes_in_catalog' (known: {KNOWN_GUARDS})",
        )
    ]
    assert "themes_in_catalogue" in KNOWN_GUARDS


def test_guard_parameters_that_do_not_fit_are_reported_one_by_one(tmp_path: Path) -> None:
    text = mutate(
        INTERNSHIP,
        "guards: [sessions_have_speakers]",
        "guards:\n      - sessions_have_speakers: {min_speakers: 0, speakerz: 2}",
    )
    path, problems = refused(tmp_path, text)
    line = line_of(text, "- sessions_have_speakers:")
    assert problems == [
        problem(
            path,
            line,
            "guard 'sessions_have_speakers' parameter min_speakers: "
            "Input should be greater than or equal to 1",
        ),
        problem(
            path,
            line,
            "guard 'sessions_have_speakers' parameter speakerz: Extra inputs are not permitted",
        ),
    ]


def test_a_guard_entry_naming_two_guards_is_refused(tmp_path: Path) -> None:
    text = mutate(
        INTERNSHIP,
        "guards: [sessions_have_speakers]",
        "guards:\n      - {sessions_have_speakers: {}, dates_set: {}}",
    )
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(
            path,
            line_of(text, "- {sessions_have_speakers"),
            "a guard is a name, or {name: {parameters}}",
        )
    ]


# ---------------------------------------------------------------- roles and fields
def test_unknown_role_in_a_transition_is_reported_on_the_roles_line(tmp_path: Path) -> None:
    text = mutate(INTERNSHIP, "roles: [intern, delegate,", "roles: [intern, delegat,")
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(path, line_of(text, "delegat,"), "unknown role 'delegat' in 'submit_report'")
    ]


def test_unknown_role_among_a_states_actors_is_reported(tmp_path: Path) -> None:
    text = mutate(
        INTERNSHIP,
        "    actors: [intern, coordinator]\n",
        "    actors: [interns, coordinator]\n",
    )
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(
            path,
            line_of(text, "[interns, coordinator]"),
            "unknown role 'interns' in state 'final_report'",
        )
    ]


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("requires: [closing_note]", "requires: [closing_notes]", "requires"),
        ("collects: [decline_reason]", "collects: [decline_reasons]", "collects"),
    ],
)
def test_unknown_field_in_requires_or_collects_is_reported(
    tmp_path: Path, old: str, new: str, key: str
) -> None:
    text = mutate(INTERNSHIP, old, new)
    path, problems = refused(tmp_path, text)
    unknown = new.split("[")[1].rstrip("]")
    assert problems == [problem(path, line_of(text, new), f"unknown field '{unknown}' in {key}")]


def test_unknown_field_collected_by_a_state_is_reported(tmp_path: Path) -> None:
    text = mutate(
        INTERNSHIP, "    collects: [attendance]\n", "    collects: [attendance, atendees]\n"
    )
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(
            path, line_of(text, "atendees"), "unknown field 'atendees' collected in 'in_progress'"
        )
    ]


def test_unknown_field_type_is_reported_on_the_type_line(tmp_path: Path) -> None:
    text = mutate(INTERNSHIP, "type: cost_matrix", "type: costs")
    path, problems = refused(tmp_path, text)
    assert problems[0] == problem(
        path,
        line_of(text, "type: costs"),
        f"field 'cost_sharing' has unknown type 'costs' (known: {KNOWN_TYPES})",
    )


def test_unknown_type_of_list_items_names_the_items(tmp_path: Path) -> None:
    text = mutate(INTERNSHIP, "items: {type: theme}", "items: {type: topic}")
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(
            path,
            line_of(text, "{type: topic}"),
            f"field 'themes[]' has unknown type 'topic' (known: {KNOWN_TYPES})",
        )
    ]


@pytest.mark.parametrize("values", ["", ", values: []"])
def test_enum_without_values_is_reported(tmp_path: Path, values: str) -> None:
    text = mutate(
        INTERNSHIP,
        "items: {type: enum, values: [new_functions, programme_or_reform, security_reliability]}",
        f"items: {{type: enum{values}}}",
    )
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(
            path,
            line_of(text, "items: {type: enum"),
            "enum field 'admission_criteria[]' needs a non-empty list of 'values'",
        )
    ]


# ---------------------------------------------------------------- labels
@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "label: {es: Iniciar, en: Start, fr: Commencer}",
            "label: {es: Iniciar, fr: Commencer}",
            "label without its English text: give 'en' (the other languages are optional)",
        ),
        (
            "label: {es: Logística, en: Logistics, fr: Logistique}",
            "label: {en: Logistics, fr: ''}",
            "label language(s) without text: fr",
        ),
        (
            "title: {es: Estancia, en: Internship, fr: Stage}",
            "title: {es: Estancia, en: Internship, de: Praktikum}",
            "unknown language(s) in a label: de (a label may give es, en, fr, pt, ar)",
        ),
        (
            "title: {es: Estancia, en: Internship, fr: Stage}",
            "title: [Internship]",
            "a label is its English text, or a mapping {en: …, es: …, fr: …, pt: …, ar: …}",
        ),
    ],
    ids=["without-english", "empty-language", "unknown-language", "a-list"],
)
def test_a_label_map_without_english_or_with_an_empty_text_is_refused_at_its_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = mutate(INTERNSHIP, old, new)
    path, problems = refused(tmp_path, text)
    assert problems == [problem(path, line_of(text, new), message)]


def test_a_label_is_its_english_text_or_a_map_with_english_and_its_own_texts(
    tmp_path: Path,
) -> None:
    text = mutate(INTERNSHIP, "label: {es: Iniciar, en: Start, fr: Commencer}", "label: Start")
    text = mutate(
        text,
        "title: {es: Estancia, en: Internship, fr: Stage}",
        "title: {en: Internship, fr: Stage en immersion}",
    )
    path = tmp_path / "internship.yaml"
    path.write_text(text, encoding="utf-8")
    definition = load_file(path)
    start = next(t for t in definition.transitions if t.trigger == "start")
    assert start.label.en == "Start"
    assert start.label.get("es") == "Iniciar"  # from the catalogue
    assert definition.title.get("fr") == "Stage en immersion"  # the file's own text
    assert definition.title.get("es") == "Estancia"  # the catalogue's, where the file is silent


def test_state_without_a_label_is_refused(tmp_path: Path) -> None:
    text = mutate(INTERNSHIP, "    label: {es: Listo para realizarse, en: Ready, fr: Prêt}\n", "")
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(path, line_of(text, "  ready:"), "missing label (give its English text)")
    ]


# ---------------------------------------------------------------- YAML itself
def test_duplicate_yaml_key_is_reported_on_the_second_occurrence(tmp_path: Path) -> None:
    text = mutate(INTERNSHIP, "    dest: ready\n", "    dest: ready\n    dest: ready\n")
    path, problems = refused(tmp_path, text)
    assert problems == [problem(path, line_of(text, "dest: ready", nth=2), "duplicate key 'dest'")]


def test_duplicate_state_is_reported_even_when_the_rest_is_valid(tmp_path: Path) -> None:
    text = mutate(
        INTERNSHIP,
        "  on_hold:\n",
        "  closed:\n    label: {es: C, en: C, fr: C}\n    final: true\n  on_hold:\n",
    )
    path, problems = refused(tmp_path, text)
    assert problems == [problem(path, line_of(text, "  closed:", nth=2), "duplicate key 'closed'")]


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (
            "      dest: in_progress\n",
            "not valid YAML: mapping values are not allowed in this context",
        ),
        (
            "\tdest: in_progress\n",
            "not valid YAML: found a tab character that violates indentation",
        ),
    ],
    ids=["indentation", "tab"],
)
def test_invalid_yaml_is_reported_at_the_line_of_the_error(
    tmp_path: Path, new: str, message: str
) -> None:
    text = mutate(INTERNSHIP, "    dest: in_progress\n", new)
    path, problems = refused(tmp_path, text)
    assert problems == [problem(path, line_of(text, "dest: in_progress"), message)]


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path, problems = refused(tmp_path, "# nothing yet\n")
    assert problems == [problem(path, 1, "the file is empty")]


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path, problems = refused(tmp_path, "- intake\n- closed\n")
    assert problems == [
        problem(path, 1, "a workflow file must be a mapping (workflow:, states:, transitions: …)")
    ]


# ---------------------------------------------------------------- transitions
def test_dest_previous_from_a_state_other_than_hold_is_refused(tmp_path: Path) -> None:
    """Reported on the dest line; since a resume never makes a state reachable, the states that
    only `start` led to are reported as cut off in the same pass."""
    text = mutate(INTERNSHIP, "    dest: in_progress\n", "    dest: previous\n")
    path, problems = refused(tmp_path, text)
    assert (
        problem(
            path,
            line_of(text, "dest: previous", nth=1),
            "'dest: previous' only works from the hold state, not from ready",
        )
        in problems
    )
    for state in ("in_progress", "final_report", "report_received", "closed"):
        unreachable = UNREACHABLE.format(state, "intake")
        assert problem(path, line_of(text, f"  {state}:"), unreachable) in problems


def test_final_state_with_an_outgoing_transition_is_refused(tmp_path: Path) -> None:
    text = INTERNSHIP + (
        "\n  - trigger: reopen\n    source: closed\n    dest: intake\n"
        "    label: {es: Reabrir, en: Reopen, fr: Rouvrir}\n"
    )
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(
            path,
            line_of(text, "source: closed"),
            "final state 'closed' cannot have transitions out",
        )
    ]


def _start_again(dest: str, guards: str = "") -> str:
    return (
        f"\n  - trigger: start\n    source: ready\n    dest: {dest}\n{guards}"
        "    label: {es: Iniciar, en: Start, fr: Commencer}\n"
    )


def test_same_trigger_source_and_guards_twice_is_ambiguous(tmp_path: Path) -> None:
    text = INTERNSHIP + _start_again("final_report")
    path, problems = refused(tmp_path, text)
    first = line_of(text, "- trigger: start", nth=1)
    assert problems == [
        problem(
            path,
            line_of(text, "- trigger: start", nth=2),
            f"ambiguous: 'start' from 'ready' is declared twice with the same guards "
            f"(line {first}); add a distinguishing guard",
        )
    ]


def test_guards_listed_in_another_order_are_still_ambiguous(tmp_path: Path) -> None:
    rehearse = (
        "\n  - trigger: rehearse\n    source: ready\n    dest: {dest}\n"
        "    requires: [{requires}]\n    guards: [{guards}]\n    label: {{es: E, en: R, fr: R}}\n"
    )
    text = INTERNSHIP + rehearse.format(
        dest="in_progress", requires="venue, delegates", guards="dates_set, cost_sharing_complete"
    )
    text += rehearse.format(
        dest="logistics", requires="delegates, venue", guards="cost_sharing_complete, dates_set"
    )
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(
            path,
            line_of(text, "- trigger: rehearse", nth=2),
            f"ambiguous: 'rehearse' from 'ready' is declared twice with the same guards "
            f"(line {line_of(text, '- trigger: rehearse')}); add a distinguishing guard",
        )
    ]


def test_ambiguity_through_source_active_is_reported(tmp_path: Path) -> None:
    text = mutate(INTERNSHIP, "    source: [intake, needs_assessment]\n", "    source: active\n")
    text = mutate(text, "    collects: [decline_reason]\n    requires: [decline_reason]\n", "")
    text += (
        "\n  - trigger: decline\n    source: logistics\n    dest: withdrawn\n"
        "    label: {es: R, en: R, fr: R}\n"
    )
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(
            path,
            line_of(text, "- trigger: decline", nth=2),
            f"ambiguous: 'decline' from 'logistics' is declared twice with the same guards "
            f"(line {line_of(text, '- trigger: decline')}); add a distinguishing guard",
        )
    ]


def test_a_guarded_transition_before_an_unguarded_fallback_is_accepted(tmp_path: Path) -> None:
    guarded = "    guards: [dates_set]\n"
    text = mutate(
        INTERNSHIP,
        "  - trigger: start\n",
        _start_again("final_report", guarded)[1:] + "\n  - trigger: start\n",
    )
    path = tmp_path / "internship.yaml"
    path.write_text(text, encoding="utf-8")
    definition = load_file(path)
    starts = [t for t in definition.transitions if t.trigger == "start"]
    assert [t.dest for t in starts] == ["final_report", "in_progress"]


def test_an_unguarded_transition_listed_first_shadows_a_later_one(tmp_path: Path) -> None:
    text = mutate(
        INTERNSHIP,
        "  - trigger: start\n",
        _start_again("final_report")[1:] + "\n  - trigger: start\n",
    )
    text = mutate(
        text, "    dest: in_progress\n", "    dest: in_progress\n    guards: [dates_set]\n"
    )
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(
            path,
            line_of(text, "- trigger: start", nth=2),
            f"'start' from 'ready' can never fire: the declaration at line "
            f"{line_of(text, '- trigger: start')} has no guards and always wins",
        )
    ]


# ---------------------------------------------------------------- top level
def test_workflow_name_must_match_the_file_name(tmp_path: Path) -> None:
    path, problems = refused(tmp_path, INTERNSHIP, name="stage")
    assert problems == [
        problem(
            path,
            line_of(INTERNSHIP, "workflow: internship"),
            "workflow 'internship' must be in a file named internship.yaml (found stage)",
        )
    ]


def test_a_copy_under_another_name_can_be_checked_without_the_file_name_rule(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_text(INTERNSHIP, encoding="utf-8")
    assert load_file(copy, match_file_name=False).name == "internship"

    broken = mutate(INTERNSHIP, "initial: intake\n", "initial: intak\n")
    copy.write_text(broken, encoding="utf-8")
    with pytest.raises(InvalidDefinition) as caught:
        load_file(copy, match_file_name=False)
    assert caught.value.problems == [
        problem(
            str(copy), line_of(broken, "initial: intak"), "unknown state 'intak' as initial state"
        )
    ]


def test_unknown_top_level_key_is_reported_with_the_allowed_keys(tmp_path: Path) -> None:
    text = mutate(INTERNSHIP, "initial: intake\n", "initial: intake\ndescripton: typo\n")
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(
            path,
            line_of(text, "descripton:"),
            "unknown key 'descripton' (expected one of: description, extends, fields, "
            "initial, migrations, on_change, requesters, states, timers, title, transitions, "
            "workflow)",
        )
    ]


def test_unknown_key_in_a_transition_is_reported(tmp_path: Path) -> None:
    text = mutate(INTERNSHIP, "    dest: in_progress\n", "    dest: in_progress\n    guard: [x]\n")
    path, problems = refused(tmp_path, text)
    assert problems == [
        problem(
            path,
            line_of(text, "guard: [x]"),
            "unknown key 'guard' (expected one of: collects, description, dest, guards, label, "
            "notify, requires, roles, source, trigger)",
        )
    ]


# ---------------------------------------------------------------- several at once
def test_several_problems_in_one_file_are_all_reported_sorted_by_line(tmp_path: Path) -> None:
    text = INTERNSHIP
    text = mutate(text, "initial: intake\n", "initial: intake\nowner: ana\n")
    text = mutate(text, "    actors: [intern, coordinator]\n", "    actors: [interns]\n")
    text = mutate(text, "themes_in_catalogue]", "themes_in_catalog]")
    text = mutate(text, "label: {es: Iniciar, en: Start, fr: Commencer}", "label: {es: Iniciar}")
    text = mutate(text, "requires: [closing_note]", "requires: [closing_notes]")
    path, problems = refused(tmp_path, text)
    assert [(p.path, p.line, p.message.split(" (")[0]) for p in problems] == [
        (path, line_of(text, "owner: ana"), "unknown key 'owner'"),
        (path, line_of(text, "[interns]"), "unknown role 'interns' in state 'final_report'"),
        (path, line_of(text, "themes_in_catalog]"), "unknown guard 'themes_in_catalog'"),
        (path, line_of(text, "label: {es: Iniciar}"), "label without its English text: give 'en'"),
        (path, line_of(text, "[closing_notes]"), "unknown field 'closing_notes' in requires"),
    ]
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_the_refusal_prints_each_problem_as_path_line_message(tmp_path: Path) -> None:
    text = mutate(INTERNSHIP, "initial: intake\n", "initial: intak\n")
    path = tmp_path / "internship.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidDefinition) as caught:
        load_file(path)
    line = line_of(text, "initial: intak")
    assert f"{path}:{line}: unknown state 'intak' as initial state" in str(caught.value)
    assert caught.value.details == [
        {"path": str(path), "line": line, "message": "unknown state 'intak' as initial state"}
    ]


def test_load_all_reports_the_problems_of_every_file_together(tmp_path: Path) -> None:
    (tmp_path / "internship.yaml").write_text(
        mutate(INTERNSHIP, "initial: intake\n", "initial: intak\n"), encoding="utf-8"
    )
    (tmp_path / "stage.yaml").write_text(INTERNSHIP, encoding="utf-8")
    with pytest.raises(InvalidDefinition) as caught:
        load_all(tmp_path)
    assert [(Path(p.path).name, p.line) for p in caught.value.problems] == [
        ("internship.yaml", line_of(INTERNSHIP, "initial: intake")),
        ("stage.yaml", line_of(INTERNSHIP, "workflow: internship")),
    ]


# ---------------------------------------------------------------- property
Chain = tuple[int, list[tuple[int, int]], bool, bool]


@st.composite
def chains(draw: st.DrawFn) -> Chain:
    """n states s0…s(n-1) and a final `done` (= node n): some chain links plus random edges,
    maybe a generic `withdraw` from every active state to `done`, maybe a hold state (node n+1)
    entered from every active state and left by `dest: previous`."""
    n = draw(st.integers(min_value=1, max_value=6))
    links = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    extra = draw(
        st.sets(
            st.tuples(st.integers(0, n - 1), st.integers(0, n)),
            max_size=2 * n,
        )
    )
    edges = sorted({(i, i + 1) for i, keep in enumerate(links) if keep} | extra)
    return n, edges or [(0, n)], draw(st.booleans()), draw(st.booleans())


def _closure(start: int, step: dict[int, set[int]]) -> set[int]:
    """Nodes reachable from `start` (fixed-point iteration, independent of the loader's)."""
    seen = {start}
    while True:
        grown = seen | {nxt for node in seen for nxt in step.get(node, set())}
        if grown == seen:
            return seen
        seen = grown


@settings(max_examples=300, deadline=None)
@given(chains())
def test_loader_accepts_exactly_graphs_where_every_state_is_reachable_and_can_finish(
    chain: Chain,
) -> None:
    """Reachability follows every edge but resumes; finishing follows only forward edges: the
    generic exits (`source: active`) are left out, and so is hold-and-resume, which returns a
    request to where it was. The hold state itself is judged only by having a resume."""
    n, edges, withdraw, hold = chain
    done, on_hold = n, n + 1
    name = {i: f"s{i}" for i in range(n)} | {done: "done", on_hold: "on_hold"}
    active = set(range(n))
    states = {name[i]: "" for i in range(n)} | {"done": "final"}
    triggers = [(f"t{i}_{j}", name[i], name[j]) for i, j in edges]
    if withdraw:
        triggers.append(("withdraw", "active", "done"))
    if hold:
        states["on_hold"] = "hold"
        triggers += [("put_on_hold", "active", "on_hold"), ("resume", "on_hold", "previous")]
    text = tiny(states, triggers, initial="s0", name="chain")

    nodes = set(range(n + 1)) | ({on_hold} if hold else set())
    generic = ({done} if withdraw else set()) | ({on_hold} if hold else set())
    forward: dict[int, set[int]] = {}
    for i, j in edges:
        forward.setdefault(i, set()).add(j)
    every = {i: forward.get(i, set()) | generic for i in active}  # resumes left out
    reachable = _closure(0, every)
    backward: dict[int, set[int]] = {}
    for i, js in forward.items():
        for j in js:
            backward.setdefault(j, set()).add(i)
    can_finish = _closure(done, backward)

    expected = {UNREACHABLE.format(name[i], "s0") for i in nodes - reachable}
    if done not in reachable:
        expected.add("no final state can be reached from the initial state")
    judged = nodes - {done} - ({on_hold} if hold else set())
    for i in judged:
        if not forward.get(i):
            expected.add(DEAD_END.format(name[i]))
        elif i not in can_finish:
            expected.add(TRAP.format(name[i]))

    event(f"withdraw={withdraw}, hold={hold}")
    if reachable == nodes and can_finish >= judged:
        event("accepted")
        assert not expected
        definition = load_text(text, "chain.yaml", expected_name="chain")
        assert len(definition.transitions) == len(triggers)
    else:
        event("refused")
        with pytest.raises(InvalidDefinition) as caught:
            load_text(text, "chain.yaml", expected_name="chain")
        assert {p.message for p in caught.value.problems} == expected
        assert all(p.path == "chain.yaml" and p.line > 0 for p in caught.value.problems)


def test_a_state_whose_only_way_out_is_an_explicit_pause_is_a_dead_end(tmp_path: Path) -> None:
    """Pausing `b` and resuming brings the request back to `b`: no step closer to the end."""
    text = tiny(
        {"a": "", "b": "", "done": "final", "h": "hold"},
        [
            ("go", "a", "b"),
            ("finish", "a", "done"),
            ("pause", "[a, b]", "h"),
            ("resume", "h", "previous"),
        ],
    )
    path, problems = refused(tmp_path, text, "tiny")
    assert problems == [problem(path, line_of(text, "  b: "), DEAD_END.format("b"))]


def test_a_transition_with_an_unknown_dest_still_has_its_other_problems_reported(
    tmp_path: Path,
) -> None:
    text = tiny({"a": "", "done": "final"}, [("finish", "a", "done")]).replace(
        "  - {trigger: finish, source: a, dest: done, label:",
        "  - {trigger: finish, source: a, dest: dnoe, roles: [nobody], label:",
    )
    _path, problems = refused(tmp_path, text, "tiny")
    messages = {p.message for p in problems}
    assert "unknown state 'dnoe' as dest of 'finish'" in messages
    assert "unknown role 'nobody' in 'finish'" in messages
