"""Every loader of a hand-written YAML file reads YAML 1.2: `NO` is Norway and `no` Norwegian,
never false; `yes`, `no`, `on`, `off` stay the words they are. Each case goes through the
loader the application uses — the catalogues, the results history, the demo data, a workflow
file — not through the reader alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config.catalogues import CATALOGUE_DIR, load_catalogues
from engine.demo import load_demo, read_yaml
from engine.service import Engine
from results.history_format import read_history
from workflows.loader import load_text

LIFECYCLE = Path(__file__).parents[1] / "gallery" / "lifecycle.yaml"
YAML_11_WORDS = ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "Off"]


def test_a_partner_in_norway_writing_norwegian_keeps_both_codes(tmp_path: Path) -> None:
    folder = tmp_path / "catalogues"
    shutil.copytree(CATALOGUE_DIR, folder)
    with open(folder / "partners.yaml", "a", encoding="utf-8") as fh:
        fh.write(
            "  - code: NO-VALG\n"
            "    name: Valgdirektoratet\n"
            "    kind: national\n"
            "    country: NO\n"
            "    language: no\n"
        )
    partner = load_catalogues(folder).partners["NO-VALG"]
    assert (partner.country, partner.language) == ("NO", "no")


def test_a_history_file_with_activities_in_norway_reads_norway(tmp_path: Path) -> None:
    path = tmp_path / "nordic.yaml"
    path.write_text(
        "format: cicie-history/1\n"
        "source: nordic\n"
        "activities:\n"
        "  - {programme: international_workshop, year: 2017, countries: [NO, SE]}\n"
        "  - {programme: international_workshop, year: 2018, countries: NO}\n",
        encoding="utf-8",
    )
    source = read_history(path)
    assert [a.countries for a in source.activities] == [("NO", "SE"), ("NO",)]


def test_demo_data_reads_yaml_1_2(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(
        "embs:\n  - {code: NO-VALG, name: Valgdirektoratet, country: NO, language: no}\n"
        f"flags: [{', '.join(YAML_11_WORDS)}]\nrequests: []\n",
        encoding="utf-8",
    )
    demo = read_yaml(path)
    assert demo["embs"][0]["country"] == "NO"
    assert demo["flags"] == YAML_11_WORDS


def test_a_demo_emb_in_norway_is_created_in_norway(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(
        "embs:\n  - {code: NO-VALG, name: Valgdirektoratet, country: NO, language: en}\n"
        "requests: []\n",
        encoding="utf-8",
    )
    load_demo(engine, path)
    assert [(e.code, e.country) for e in engine.list_embs()] == [("NO-VALG", "NO")]


def test_a_broken_demo_file_names_its_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text("embs:\n  - code: X\n    country: !!python/none\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"^{path}:3: the tag !!python/none is not allowed"):
        read_yaml(path)


def test_an_enum_of_yes_and_no_in_a_workflow_stays_words() -> None:
    text = LIFECYCLE.read_text(encoding="utf-8").replace(
        "fields:\n",
        "fields:\n"
        "  agreed:\n"
        "    type: enum\n"
        f"    values: [{', '.join(YAML_11_WORDS)}]\n"
        "    label: {es: Acordado, en: Agreed, fr: Convenu}\n",
        1,
    )
    definition = load_text(text, "lifecycle.yaml")
    assert definition.fields["agreed"].values == tuple(YAML_11_WORDS)
