"""The commands as an operator uses them: `cicie import history`, `cicie report results`,
`cicie export requests|results` — JSON on stdout, exit 0 / 1 (refused) / 2 (bad usage)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner, Result

from cli.main import app
from tests.cli_support import ok_json
from tests.results.conftest import PRINTED_COLUMN_TOTALS, PRINTED_YEAR_TOTALS

Run = Callable[..., Result]


@pytest.fixture
def cicie(database_url: str, tmp_path: Path) -> Run:
    env = {
        "CICIE_DATABASE_URL": database_url,
        "CICIE_HOME": str(tmp_path / "home"),
    }
    runner = CliRunner()

    def run(*args: Any) -> Result:
        return runner.invoke(app, [str(a) for a in args], env=env)

    return run


def test_import_the_brochure_twice_then_report_it_as_json(cicie: Run) -> None:
    first = ok_json(cicie("import", "history", "--brochure", "--json"))
    assert (first["inserted"], first["changed"]) == (88, True)
    assert len(first["discrepancies"]) == 3
    again = ok_json(cicie("import", "history", "--brochure", "--json"))
    assert (again["inserted"], again["updated"], again["changed"]) == (0, 0, False)

    report = ok_json(cicie("report", "results", "--from", 2004, "--to", 2015, "--format", "json"))
    workshops = report["workshops"]
    assert workshops["by_year"]["2004"] == {
        "Africa": 0,
        "America": 1,
        "Asia": 1,
        "Europe": 0,
        "Oceania": 0,
    }
    assert {y: sum(r.values()) for y, r in workshops["by_year"].items()} == PRINTED_YEAR_TOTALS
    assert workshops["by_continent"] == PRINTED_COLUMN_TOTALS | {"Oceania": 0}
    assert workshops["total"] == 61
    assert len(workshops["countries"]) == 39
    assert workshops["countries"] == sorted(workshops["countries"])
    assert len(report["courses"]) == 11
    assert len(report["seminars"]) == 5
    assert all({"source", "message"} <= set(d) for d in report["discrepancies"])
    assert len(report["discrepancies"]) == 3


def test_report_as_csv_and_pictures_in_a_directory(cicie: Run, tmp_path: Path) -> None:
    assert cicie("import", "history", "--brochure").exit_code == 0
    charts = tmp_path / "charts"
    result = cicie(
        "report",
        "results",
        "--from",
        2004,
        "--to",
        2015,
        "--format",
        "csv",
        "--chart-dir",
        charts,
        "--lang",
        "en",
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["Year", "Africa", "America", "Asia", "Europe", "Total"]
    assert rows[-1] == ["Total", "17", "25", "10", "9", "61"]
    assert {p.name for p in charts.iterdir()} == {
        f"{name}.{ext}"
        for name in ("workshops_map", "activities_map", "workshops_by_year")
        for ext in ("svg", "png")
    }
    text = cicie("report", "results", "--from", 2013, "--to", 2013)
    assert text.exit_code == 0
    assert "Total" in text.stdout
    assert "Discrepancies" in text.stdout


def test_a_file_with_an_unknown_country_is_refused_with_its_line(
    cicie: Run, tmp_path: Path
) -> None:
    path = tmp_path / "past.csv"
    path.write_text(
        "programme,year,countries\n"
        "international_workshop,2017,Honduras\n"
        "international_workshop,2017,Gondor\n",
        encoding="utf-8",
    )
    result = cicie("import", "history", path, "--json")
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "invalid_history"
    assert error["details"] == [
        {"path": str(path), "line": 3, "message": "unknown country 'Gondor' in 'countries'"}
    ]
    report = ok_json(cicie("report", "results", "--json"))
    assert report["workshops"]["total"] == 0  # nothing was imported


@pytest.mark.parametrize(
    "args",
    [
        ("import", "history"),
        ("import", "history", "x.yaml", "--brochure"),
        ("report", "results", "--from", "2015", "--to", "2004"),
        ("report", "results", "--format", "pdf"),
        ("export", "results", "--output", "out.txt"),
        ("export", "results", "--output", "out.csv", "--lang", "xx"),
        ("report", "results", "--format", "csv", "--lang", "ar"),
    ],
)
def test_bad_usage_exits_2(cicie: Run, args: tuple[str, ...]) -> None:
    assert cicie(*args).exit_code == 2


def test_exports_write_the_files_asked_for(cicie: Run, tmp_path: Path) -> None:
    assert cicie("import", "history", "--brochure").exit_code == 0
    xlsx = tmp_path / "results.xlsx"
    done = ok_json(cicie("export", "results", "--format", "xlsx", "--output", xlsx, "--json"))
    assert done["tables"]["workshops"] == 11  # ten years and the totals row
    sheets = load_workbook(xlsx).sheetnames  # named in the site's language (es by default)
    assert len(sheets) == len(done["tables"])
    assert "Discrepancias" in sheets
    courses = tmp_path / "courses.csv"
    ok_json(
        cicie("export", "results", "-o", courses, "--table", "courses", "--from", 2015, "--json")
    )
    assert len(courses.read_text(encoding="utf-8").splitlines()) == 1 + 2
    requests = tmp_path / "requests.csv"
    done = ok_json(
        cicie(
            "export",
            "requests",
            "--format",
            "csv",
            "-o",
            requests,
            "--programme",
            "seminar",
            "--json",
        )
    )
    assert done["rows"] == 0
    assert requests.read_bytes().startswith("\ufeffSolicitud,Código del programa,Programa".encode())


def test_exports_speak_the_language_asked_for(cicie: Run, tmp_path: Path) -> None:
    assert cicie("import", "history", "--brochure").exit_code == 0
    xlsx = tmp_path / "resultats.xlsx"
    done = cicie("export", "results", "-o", xlsx, "--lang", "fr")
    assert done.exit_code == 0, done.output
    assert "Ateliers" in done.stdout
    book = load_workbook(xlsx)
    assert book.sheetnames[:4] == [
        "Ateliers",
        "Pays touchés",
        "Cours de spécialisation",
        "Séminaires",
    ]
    assert [c.value for c in book["Ateliers"][1]] == [
        "Année",
        "Afrique",
        "Amérique",
        "Asie",
        "Europe",
        "Total",
    ]
    courses = tmp_path / "cursos.csv"
    args = ("export", "results", "-o", courses, "--table", "courses", "--lang", "es")
    assert cicie(*args).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(courses.read_text(encoding="utf-8-sig"))))
    peru = next(r for r in rows if "PE" in r["Códigos de los países"].split(";"))
    assert "Perú" in peru["Países"]
    assert {r["Código de la región"] for r in rows} >= {"latin_america"}
    assert {r["Región"] for r in rows} >= {"América Latina"}


def test_cicie_lang_chooses_the_language_of_exports(database_url: str, tmp_path: Path) -> None:
    env = {
        "CICIE_DATABASE_URL": database_url,
        "CICIE_HOME": str(tmp_path / "home"),
        "CICIE_LANG": "fr",
    }
    output = tmp_path / "demandes.csv"
    result = CliRunner().invoke(app, ["export", "requests", "-o", str(output)], env=env)
    assert result.exit_code == 0, result.output
    assert output.read_bytes().startswith("\ufeffDemande,Code du programme,Programme".encode())
    assert "Demandes exportées" in result.stdout


def test_the_json_report_is_the_same_in_every_language(cicie: Run) -> None:
    assert cicie("import", "history", "--brochure").exit_code == 0
    english = ok_json(cicie("report", "results", "--format", "json", "--lang", "en"))
    french = ok_json(cicie("report", "results", "--format", "json", "--lang", "fr"))
    assert french == english == ok_json(cicie("report", "results", "--json"))
    assert set(english["workshops"]["by_continent"]) == {
        "Africa",
        "America",
        "Asia",
        "Europe",
        "Oceania",
    }
    assert {c["region"] for c in english["courses"]} >= {"latin_america"}
