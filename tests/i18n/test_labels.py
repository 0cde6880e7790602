"""Every label a person reads — programmes, states, actions, fields, reminders, themes, blocks,
payers and cost categories — is written once in English in its YAML file and said in the
reader's language by the one catalogue per language (msgctxt "label"); a file may still give
its own text in a language, and the stored versions written in the three-language form load."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.catalogues import (
    CATALOGUE_DIR,
    LABEL_CONTEXT,
    InvalidCatalogue,
    Label,
    load_catalogues,
)
from config.planning import load_elections, load_lead_times
from i18n import LANGUAGES, has_translation
from i18n.extract import extract_labels
from workflows.definition import FieldDef, WorkflowDefinition
from workflows.errors import InvalidDefinition
from workflows.load.extends import BASE_DIR
from workflows.loader import WORKFLOW_DIR, load_all, load_file, load_text

TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
TINY = """\
workflow: tiny
title: {title}
initial: intake
states:
  intake: {{label: Intake}}
  closed: {{label: Closed, final: true}}
transitions:
  - {{trigger: close, source: intake, dest: closed, label: Close the request}}
"""


@pytest.fixture(scope="module")
def programmes() -> dict[str, WorkflowDefinition]:
    return load_all()


def field_labels(fields: Iterator[FieldDef] | tuple[FieldDef, ...]) -> Iterator[Label]:
    for field in fields:
        if field.label is not None:
            yield field.label
        yield from field.value_labels.values()  # the labels of an enum field's values
        if field.items is not None:
            yield from field_labels((field.items,))
        yield from field_labels(field.fields)


def workflow_labels(definition: WorkflowDefinition) -> Iterator[Label]:
    yield definition.title
    yield from (state.label for state in definition.states.values())
    yield from (transition.label for transition in definition.transitions)
    yield from (timer.label for timer in definition.timers)
    yield from field_labels(tuple(definition.fields.values()))


def catalogue_labels() -> Iterator[Label]:
    cat = load_catalogues()
    yield from (aspect.label for aspect in cat.aspects.values())
    for block in cat.blocks.values():
        yield from (block.label, block.goal)
    yield from (theme.label for theme in cat.themes.values())
    yield from cat.financing.payers.values()
    yield from (category.label for category in cat.financing.categories.values())
    # planning (config/planning.py): lead times and the kinds of election
    yield from (item.label for items in load_lead_times().values() for item in items)
    yield from load_elections().kinds.values()


# ---------------------------------------------------------------- said by the catalogue
def test_a_portuguese_reader_sees_the_programme_and_its_stages_in_portuguese(
    programmes: dict[str, WorkflowDefinition],
) -> None:
    internship = programmes["internship"]
    assert internship.title.get("pt") == "Estágio"
    assert internship.states["final_report"].label.get("pt") == "Aguardando o relatório final"
    assert programmes["specialization_course"].title.get("pt") == "Curso de Especialização"


def test_an_arabic_reader_sees_the_programme_and_its_stages_in_arabic(
    programmes: dict[str, WorkflowDefinition],
) -> None:
    technical = programmes["technical_assistance"]
    assert technical.title.get("ar") == "بعثة المساعدة التقنية"
    assert technical.states["on_hold"].label.get("ar") == "معلّق"
    field = programmes["specialization_course"].fields["participants"].items
    assert field is not None
    emb = next(sub for sub in field.fields if sub.name == "emb")
    assert emb.label is not None
    assert emb.label.get("ar") == "هيئة إدارة الانتخابات"


def test_themes_blocks_and_payers_are_said_in_each_language() -> None:
    cat = load_catalogues()
    justice = cat.themes["institutionalisation.electoral_justice"].label
    assert [justice.get(lang) for lang in LANGUAGES] == [
        "Justicia electoral",
        "Electoral justice",
        "Justice électorale",
        "Justiça eleitoral",
        "العدالة الانتخابية",
    ]
    assert cat.blocks["V"].goal.get("pt") == "Eficiência e otimização"
    assert cat.financing.payers["not_needed"].get("fr") == "Sans objet"


def test_a_label_no_catalogue_knows_is_said_in_english() -> None:
    label = Label("A stage only this file has")
    assert {label.get(lang) for lang in LANGUAGES} == {"A stage only this file has"}


# ---------------------------------------------------------------- a file's own texts
def test_a_text_the_file_gives_itself_wins_over_the_catalogue() -> None:
    title = "{en: Internship, pt: Estágio profissional, es: Estancia profesional}"
    definition = load_text(TINY.format(title=title), "tiny.yaml", templates={})
    assert definition.title.get("pt") == "Estágio profissional"
    assert definition.title.get("es") == "Estancia profesional"
    assert definition.title.get("fr") == "Stage"  # the file is silent: the catalogue's
    assert definition.title.get("ar") == "التدريب الداخلي"
    assert definition.states["closed"].label.get("fr") == "Clôturée"


def test_a_version_stored_in_the_three_language_form_still_says_what_it_said() -> None:
    title = "{es: Estancia corta, en: Internship, fr: Stage court}"
    definition = load_text(TINY.format(title=title), "tiny.yaml (stored)", templates={})
    assert [definition.title.get(lang) for lang in LANGUAGES] == [
        "Estancia corta",
        "Internship",
        "Stage court",
        "Estágio",  # languages it never had: the catalogue's
        "التدريب الداخلي",
    ]
    assert Label("Estancia corta", "Internship", "Stage court") == definition.title


# ---------------------------------------------------------------- refused, with file and line
def test_a_label_map_without_english_is_refused_with_its_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    text = TINY.format(title="Tiny").replace("{label: Closed,", "{label: {es: Cerrada}, ")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidDefinition) as caught:
        load_file(path, templates={})
    [problem] = caught.value.problems
    assert (problem.path, problem.line) == (str(path), 6)
    assert "label without its English text: give 'en'" in str(caught.value)


def test_a_catalogue_label_without_english_is_refused_with_its_file_and_line(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "catalogues"
    shutil.copytree(CATALOGUE_DIR, folder)
    themes = folder / "themes.yaml"
    text = themes.read_text(encoding="utf-8")
    broken = text.replace("    label: Voting\n", "    label: {fr: Vote}\n", 1)
    assert broken != text
    themes.write_text(broken, encoding="utf-8")
    line = broken.splitlines().index("    label: {fr: Vote}") + 1
    with pytest.raises(InvalidCatalogue) as caught:
        load_catalogues(folder)
    assert f"{themes}:{line}: label without its English text" in str(caught.value)


# ---------------------------------------------------------------- complete in every language
def test_every_shipped_label_is_translated_in_every_language(
    programmes: dict[str, WorkflowDefinition],
) -> None:
    labels = [label for d in programmes.values() for label in workflow_labels(d)]
    labels += list(catalogue_labels())
    assert len({label.en for label in labels}) > 100
    missing = sorted(
        f"{lang}: {label.en}"
        for label in set(labels)
        for lang in TRANSLATED
        if not (label.own(lang) or has_translation(lang, label.en, LABEL_CONTEXT))
        or not label.get(lang).strip()
    )
    assert not missing, "\n".join(missing)


def test_every_label_a_loader_reads_is_extracted_for_the_translators(
    programmes: dict[str, WorkflowDefinition],
) -> None:
    read = {label.en for d in programmes.values() for label in workflow_labels(d)}
    read |= {label.en for label in catalogue_labels()}
    files = [*WORKFLOW_DIR.glob("*.yaml"), *BASE_DIR.glob("*.yaml"), *CATALOGUE_DIR.glob("*.yaml")]
    extracted = set()
    for path in files:
        for _line, keyword, (context, text), _comments in extract_labels(
            io.BytesIO(path.read_bytes()), {}, [], {}
        ):
            assert (keyword, context) == ("pgettext", LABEL_CONTEXT)
            extracted.add(text)
    assert read <= extracted
    assert extracted <= read  # nothing extracted that no one reads


def test_the_extractor_gives_each_label_its_line() -> None:
    text = "title: Tiny\nstates:\n  intake:\n    label:\n      es: Recepción\n      en: Intake\n"
    found = list(extract_labels(io.BytesIO(text.encode()), {}, [], {}))
    assert [(line, msg) for line, _, msg, _ in found] == [
        (1, ("label", "Tiny")),
        (6, ("label", "Intake")),
    ]
