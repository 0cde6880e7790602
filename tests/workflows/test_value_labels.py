"""The values of an enum field are read as words in the reader's language, never as codes: a
workflow gives each value a label (`labels:`, plain English, translated by the catalogues with
msgctxt "label"), like every other label of the file. A label for a value the field does not
have is refused with its file and line; a value left without a label is said in words made
from it, but every value of the shipped workflows has its label, translated in es, fr, pt, ar.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config.yaml_reader import decode, parse
from i18n import has_translation
from i18n.extract import labels as extracted_labels
from workflows.definition import FieldDef, WorkflowDefinition
from workflows.errors import InvalidDefinition
from workflows.load.extends import BASE_DIR
from workflows.loader import WORKFLOW_DIR, load_all, load_file, load_text, workflow_files

TRANSLATED = ("es", "fr", "pt", "ar")
TINY = """\
workflow: tiny
title: Tiny
initial: intake
fields:
  timing:
    type: enum
    values: [before_elections, before_reform]
    labels:
{labels}
    label: Timing
states:
  intake: {{label: Intake}}
  closed: {{label: Closed, final: true}}
transitions:
  - {{trigger: close, source: intake, dest: closed, label: Close the request}}
"""


@pytest.fixture(scope="module")
def programmes() -> dict[str, WorkflowDefinition]:
    return load_all()


def enums(
    fields: tuple[FieldDef, ...] | list[FieldDef], path: str = ""
) -> Iterator[tuple[str, FieldDef]]:
    """(where, field) of every enum field, items of lists and sub-fields included."""
    for fd in fields:
        where = f"{path}{fd.name}"
        if fd.type == "enum":
            yield where, fd
        if fd.items is not None:
            yield from enums([fd.items], f"{where}.")
        yield from enums(list(fd.fields), f"{where}.")


def tiny(labels: str) -> str:
    return TINY.format(labels="\n".join(f"      {line}" for line in labels.splitlines()))


# ---------------------------------------------------------------- said in the reader's language
def test_an_admission_criterion_is_said_in_portuguese_and_arabic(
    programmes: dict[str, WorkflowDefinition],
) -> None:
    """Brochure § 2.2, criteria to participate in an internship: "a. Incorporating new
    functions or attributions of the Electoral Administration Body"."""
    criteria = programmes["internship"].fields["admission_criteria"].items
    assert criteria is not None
    label = criteria.value_label("new_functions")
    assert label is not None
    assert label.get("en") == "(a) The EMB incorporates new functions"
    assert label.get("pt") == "a) O OGE incorpora novas funções"
    assert label.get("ar") == "(أ) تضطلع هيئة إدارة الانتخابات بمهام جديدة"


def test_a_workshop_timing_is_said_in_spanish_and_french(
    programmes: dict[str, WorkflowDefinition],
) -> None:
    """Brochure § 2.1, optimal criteria for participation: "Before elctions are held",
    "Previous to a political-electoral reform", "When electoral authorities are replaced"."""
    timing = programmes["international_workshop"].fields["timing_scenario"].items
    assert timing is not None
    said = {v: timing.value_labels[v] for v in timing.values}
    assert said["before_elections"].get("es") == "Antes de las elecciones"
    assert said["before_reform"].get("fr") == "Avant une réforme politico-électorale"
    assert (
        said["authorities_replaced"].get("pt") == "Quando as autoridades eleitorais são renovadas"
    )


def test_a_value_without_a_label_has_none_and_a_label_file_text_wins(tmp_path: Path) -> None:
    text = tiny("before_elections: {en: Before elections, fr: Avant le scrutin}")
    timing = load_text(text, "tiny.yaml", expected_name="tiny").fields["timing"]
    assert timing.value_label("before_reform") is None  # shown in words made from the value
    label = timing.value_label("before_elections")
    assert label is not None
    assert label.get("fr") == "Avant le scrutin"  # the file's own French
    assert label.get("es") == "Antes de las elecciones"  # the catalogue's Spanish


def test_every_value_of_every_shipped_enum_has_a_label_translated_in_every_language(
    programmes: dict[str, WorkflowDefinition],
) -> None:
    """National stakeholders (brochure § 1, "Representatives of the Executive branch, such as
    the Special Prosecutor for Electoral Crimes (FEPADE)"), regions, methodology stages,
    criteria: no value reaches a page as a code."""
    unlabelled, untranslated = [], []
    for name, definition in programmes.items():
        for where, fd in enums(list(definition.fields.values())):
            for value in fd.values:
                label = fd.value_label(value)
                if label is None:
                    unlabelled.append(f"{name}: {where} = {value}")
                    continue
                untranslated += [
                    f"{name}: {where} = {value} ({lang}: {label.en!r})"
                    for lang in TRANSLATED
                    if label.own(lang) is None and not has_translation(lang, label.en, "label")
                ]
    assert not unlabelled, "enum values without a label:\n" + "\n".join(unlabelled)
    assert not untranslated, "value labels without a translation:\n" + "\n".join(untranslated)


def test_every_value_label_is_extracted_for_the_translators(
    programmes: dict[str, WorkflowDefinition],
) -> None:
    files = [*workflow_files(WORKFLOW_DIR), *sorted(BASE_DIR.glob("*.yaml"))]
    extracted = {
        text for path in files for _, text in extracted_labels(parse(decode(path.read_bytes()))[0])
    }
    read = {
        label.en
        for d in programmes.values()
        for _, fd in enums(list(d.fields.values()))
        for label in fd.value_labels.values()
    }
    assert read
    assert read <= extracted, sorted(read - extracted)


# ---------------------------------------------------------------- refused with file and line
def test_a_label_for_a_value_the_field_lacks_is_refused_with_its_line(tmp_path: Path) -> None:
    text = tiny("before_elections: Before elections\nafter_elections: After elections")
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidDefinition) as caught:
        load_file(path)
    [problem] = caught.value.problems
    assert problem.path == str(path)
    assert problem.line == text.splitlines().index("      after_elections: After elections") + 1
    assert "after_elections" in problem.message
    assert "before_elections, before_reform" in problem.message


def test_a_value_label_without_text_is_refused_with_its_line(tmp_path: Path) -> None:
    text = tiny("before_elections: ''")
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidDefinition) as caught:
        load_file(path)
    [problem] = caught.value.problems
    assert problem.line == text.splitlines().index("      before_elections: ''") + 1
    assert "blank" in problem.message


def test_labels_on_a_field_that_is_no_enum_are_refused(tmp_path: Path) -> None:
    text = tiny("before_elections: Before elections").replace(
        "    type: enum\n    values: [before_elections, before_reform]\n", "    type: string\n"
    )
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidDefinition) as caught:
        load_file(path)
    messages = [p.message for p in caught.value.problems]
    assert "'labels' only applies to enum fields" in messages
