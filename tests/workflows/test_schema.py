"""The JSON Schema editors validate workflow files with (`cicie workflows schema`).

It is generated from the loader's own tables and the guard registry, the committed copy is that
output, every shipped file (programmes and bases) passes it and names it in its first line, and
what it refuses the loader refuses too. Also: `migrations:` as the loader reads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from cli.main import app
from config.yaml_reader import parse, read_text
from workflows.errors import InvalidDefinition
from workflows.load.extends import BASE_DIR
from workflows.loader import WORKFLOW_DIR, load_text, workflow_files
from workflows.schema import BASE_MODELINE, MODELINE, SCHEMA_FILE, schema_text, workflow_schema

REFERENCE = (Path(__file__).parents[1] / "gallery" / "internship_reference.yaml").read_text(
    encoding="utf-8"
)
SHIPPED = [*workflow_files(WORKFLOW_DIR), *sorted(BASE_DIR.glob("*.yaml"))]
LABEL = "{es: X, en: X, fr: X}"
TIMER = (
    "timers:\n"
    "  - id: report_overdue\n"
    f"    label: {LABEL}\n"
    "    kind: transition\n"
    "    states: [final_report]\n"
    "    at: {entered: 30}\n"
)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = workflow_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def document(text: str) -> Any:
    """A YAML text as the plain JSON values an editor's schema check sees."""
    return json.loads(json.dumps(parse(text)[0]))


def schema_errors(validator: jsonschema.Draft7Validator, text: str) -> list[str]:
    """Each error as path: message, the alternatives of `anyOf` opened up (but for "… is not
    of type 'null'": that a value may be null to remove a base's part is no news)."""

    def leaves(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
        if not error.context:
            return [error]
        inner = [e for e in error.context if not e.message.endswith("is not of type 'null'")]
        return [leaf for e in inner for leaf in leaves(e)] or [error]

    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for top in validator.iter_errors(document(text))
        for e in leaves(top)
    ]


def mutate(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} must occur exactly once"
    return text.replace(old, new)


# ---------------------------------------------------------------- the schema itself
def test_the_command_prints_the_committed_schema() -> None:
    result = CliRunner().invoke(app, ["workflows", "schema"])
    assert result.exit_code == 0, result.output
    assert result.stdout == schema_text()
    assert SCHEMA_FILE.read_text(encoding="utf-8") == result.stdout, (
        "workflows/workflow.schema.json is stale: cicie workflows schema > "
        "workflows/workflow.schema.json"
    )
    assert json.loads(result.stdout)["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_guards_are_named_from_the_registry_with_their_parameters() -> None:
    guard = workflow_schema()["definitions"]["guard"]
    bare, with_params = guard["anyOf"]
    assert "themes_in_catalogue" in bare["enum"]
    # methodology_complete needs its stages: it cannot be named alone
    assert "methodology_complete" not in bare["enum"]
    stages = with_params["properties"]["methodology_complete"]["anyOf"][0]
    assert stages["required"] == ["stages"]
    assert stages["additionalProperties"] is False


# ---------------------------------------------------------------- the shipped files
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_file_passes_the_schema(
    validator: jsonschema.Draft7Validator, path: Path
) -> None:
    assert schema_errors(validator, read_text(path)) == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_file_names_the_schema_in_its_first_line(path: Path) -> None:
    first = read_text(path).splitlines()[0]
    assert first == (BASE_MODELINE if path.parent == BASE_DIR else MODELINE)
    assert (path.parent / first.split("$schema=")[1]).resolve() == SCHEMA_FILE


def test_the_reference_workflow_passes_the_schema(validator: jsonschema.Draft7Validator) -> None:
    assert schema_errors(validator, REFERENCE) == []


# ---------------------------------------------------------------- what both refuse
WRONG = {
    "an unknown top-level key": ("initial: intake\n", "initial: intake\ndescripton: typo\n"),
    "a flag written as yes": (
        "    final: true\n    actors: []\n",
        "    final: yes\n    actors: []\n",
    ),
    "an enum without values": (
        "{type: enum, values: [new_functions, programme_or_reform, security_reliability]}",
        "{type: enum}",
    ),
    "an unknown guard": ("[final_report_complete]", "[final_report_finished]"),
    "a guard parameter of the wrong type": (
        "[sessions_have_speakers]",
        "[{sessions_have_speakers: {min_speakers: many}}]",
    ),
    "a transition without a destination": ("    dest: needs_assessment\n", ""),
    "a field of an unknown type": ("type: text\n", "type: prose\n"),
    "a label map without English": (
        "title: {es: Estancia, en: Internship, fr: Stage}",
        "title: {es: Estancia, fr: Stage}",
    ),
    "a label in an unknown language": (
        "title: {es: Estancia, en: Internship, fr: Stage}",
        "title: {en: Internship, de: Praktikum}",
    ),
}


def test_a_label_is_english_text_or_a_map_with_english_for_both(
    validator: jsonschema.Draft7Validator,
) -> None:
    for title in ("Internship", "{en: Internship, pt: Estágio profissional}"):
        text = REFERENCE.replace(
            "title: {es: Estancia, en: Internship, fr: Stage}", f"title: {title}"
        )
        assert text != REFERENCE
        assert schema_errors(validator, text) == []
        load_text(text, "internship.yaml", expected_name="internship")


@pytest.mark.parametrize("case", list(WRONG))
def test_what_the_schema_refuses_the_loader_refuses(
    validator: jsonschema.Draft7Validator, case: str
) -> None:
    old, new = WRONG[case]
    text = REFERENCE.replace(old, new, 1)
    assert text != REFERENCE
    assert schema_errors(validator, text), f"the schema accepts {case}"
    with pytest.raises(InvalidDefinition):
        load_text(text, "internship.yaml", expected_name="internship")


def test_a_transition_timer_without_its_trigger_is_refused_by_both(
    validator: jsonschema.Draft7Validator,
) -> None:
    text = REFERENCE + TIMER
    errors = schema_errors(validator, text)
    assert errors == ["timers/0: 'fire' is a required property"]
    with pytest.raises(InvalidDefinition, match="needs 'fire: <trigger>'"):
        load_text(text, "internship.yaml", expected_name="internship")


def test_a_document_that_is_not_a_workflow_at_all_is_refused(
    validator: jsonschema.Draft7Validator,
) -> None:
    assert schema_errors(validator, "workflow: 12\nstates: [a, b]\n")
    assert schema_errors(validator, "- just\n- a list\n")


# ---------------------------------------------------------------- files over a base
def test_a_file_over_a_base_gives_only_what_it_changes(
    validator: jsonschema.Draft7Validator,
) -> None:
    partial = (
        "extends: programme\n"
        "workflow: seminar\n"
        "states:\n"
        "  intake: {collects: [themes]}\n"
        "  on_hold: null\n"
        "transitions:\n"
        "  - {trigger: accept, guards: [themes_in_catalogue]}\n"
        "  - {trigger: resume, remove: true}\n"
        "timers:\n"
        "  - {id: stale_intake, at: {entered: 7}}\n"
    )
    assert schema_errors(validator, partial) == []
    # without `extends`, the same document lacks what a base would give
    complete = partial.replace("extends: programme\n", "")
    missing = schema_errors(validator, complete)
    assert ": 'title' is a required property" in missing
    assert "states/intake: 'label' is a required property" in missing


def test_a_file_over_a_base_still_refuses_unknown_keys_and_incomplete_values(
    validator: jsonschema.Draft7Validator,
) -> None:
    text = (
        "extends: programme\n"
        "workflow: seminar\n"
        "states:\n"
        "  intake: {colects: [themes]}\n"
        "  needs_assessment: {label: {es: Diagnóstico}}\n"
    )
    errors = schema_errors(validator, text)
    assert any("'colects' was unexpected" in e for e in errors), errors
    assert any(e.startswith("states/needs_assessment/label") for e in errors), errors


# ---------------------------------------------------------------- migrations: in a file
def test_migrations_map_old_state_names_to_states_of_this_version(
    validator: jsonschema.Draft7Validator,
) -> None:
    text = REFERENCE + "migrations:\n  from: 1\n  states: {placement: agenda_design}\n"
    assert schema_errors(validator, text) == []
    definition = load_text(text, "internship.yaml", expected_name="internship")
    assert definition.migrated_state("placement", 1) == "agenda_design"
    assert definition.migrated_state("placement", 2) is None  # the rule is for version 1
    assert definition.migrated_state("intake", 1) == "intake"  # the same name: itself
    assert definition.known_as("placement") == "agenda_design"


def test_a_rule_for_a_version_wins_over_one_for_every_version() -> None:
    text = REFERENCE + (
        "migrations:\n"
        "  - states: {placement: agenda_design}\n"
        "  - from: [1, 2]\n"
        "    states: {placement: intake}\n"
    )
    definition = load_text(text, "internship.yaml", expected_name="internship")
    assert definition.migrated_state("placement", 2) == "intake"
    assert definition.migrated_state("placement", 3) == "agenda_design"


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("{states: {placement: nowhere}}", "unknown state 'nowhere' as the new state of"),
        ("{states: {placement: on_hold}}", "cannot move to the hold state 'on_hold'"),
        ("{from: 0, states: {a: intake}}", "'from' is a version"),
        ("{from: 1}", "a migration rule needs 'states'"),
        ("[{states: {a: intake}}, {states: {b: intake}}]", "a second migration rule for every"),
        ("{states: {a: intake}, to: 2}", "unknown key 'to'"),
    ],
)
def test_migration_rules_that_cannot_work_are_refused_by_the_loader(
    validator: jsonschema.Draft7Validator, rules: str, message: str
) -> None:
    text = REFERENCE + f"migrations: {rules}\n"
    with pytest.raises(InvalidDefinition, match=message):
        load_text(text, "internship.yaml", expected_name="internship")
    if "nowhere" not in rules and "on_hold" not in rules and "second" not in message:
        assert schema_errors(validator, text)  # the schema sees what needs no other file
