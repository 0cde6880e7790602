"""CSV and XLSX exports of the results tables and of the requests, with the filters applied,
in the reader's language: labels for people, codes kept in columns of their own, times in the
centre's time zone, CSV that Excel opens with its accents, XLSX text that is text."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from engine.actor import Actor
from engine.service import Engine
from engine.views import RequestView
from results.export import (
    Labels,
    Table,
    csv_bytes,
    csv_text,
    requests_table,
    results_tables,
    write_csv,
    write_xlsx,
    xlsx_bytes,
)
from results.report import build_report
from storage.db import Database
from tests.results.conftest import PRINTED_COLUMN_TOTALS, PRINTED_YEAR_TOTALS, TODAY
from workflows.loader import load_all

ARABIC = "الهيئة العليا المستقلة للانتخابات"
BOM = b"\xef\xbb\xbf"


def title(programme: str, language: str) -> str:
    """The programme's title in `language`, as its workflow file and the catalogue give it."""
    text = load_all()[programme].title.get(language)
    assert text != load_all()[programme].title.get("en")  # a translation, not the English
    return text


def sheet_xml(path: Path, title: str) -> str:
    """The XML of the sheet called `title`, as a spreadsheet program reads it."""
    book = load_workbook(path)
    index = book.sheetnames.index(title) + 1
    with zipfile.ZipFile(path) as archive:
        return archive.read(f"xl/worksheets/sheet{index}.xml").decode("utf-8")


def test_the_workshop_table_as_csv_is_the_brochure_table(
    imported: Database, tmp_path: Path
) -> None:
    tables = results_tables(build_report(imported, year_from=2004, year_to=2015, today=TODAY))
    write_csv(tmp_path / "workshops.csv", tables["workshops"])
    with open(tmp_path / "workshops.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["Year"]: int(r["Total"]) for r in rows[:-1]} == PRINTED_YEAR_TOTALS
    assert rows[-1] == {
        "Year": "Total",
        **{k: str(v) for k, v in PRINTED_COLUMN_TOTALS.items()},
        "Total": "61",
    }


def test_the_workshop_table_speaks_the_readers_language(imported: Database) -> None:
    report = build_report(imported, year_from=2004, year_to=2015, today=TODAY)
    spanish = results_tables(report, Labels("es"))["workshops"]
    french = results_tables(report, Labels("fr"))["workshops"]
    assert spanish.header == ["Año", "África", "América", "Asia", "Europa", "Total"]
    assert french.header == ["Année", "Afrique", "Amérique", "Asie", "Europe", "Total"]
    assert spanish.rows[-1] == ["Total", 17, 25, 10, 9, 61]
    # the language-independent names of the columns stay the same
    assert spanish.keys == french.keys == ("year", "Africa", "America", "Asia", "Europe", "total")


def test_the_xlsx_workbook_has_one_sheet_per_table(imported: Database, tmp_path: Path) -> None:
    tables = results_tables(build_report(imported, year_from=2011, year_to=2013, today=TODAY))
    write_xlsx(tmp_path / "results.xlsx", tables)
    book = load_workbook(tmp_path / "results.xlsx")
    assert book.sheetnames == [t.sheet for t in tables.values()]
    assert book.sheetnames[:4] == [
        "Workshops",
        "Countries reached",
        "Specialization courses",
        "Seminars",
    ]
    sheet = book["Workshops"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["Year", "Africa", "America", "Asia", "Europe", "Total"]
    assert values[1:] == [
        [2011, 3, 2, 3, 2, 10],
        [2012, 4, 4, 0, 2, 10],
        [2013, 1, 7, 1, 0, 9],
        ["Total", 8, 13, 4, 4, 29],
    ]
    assert book["Specialization courses"].max_row == 1 + 6
    assert book["Discrepancies"].max_row == 1 + 3


def test_spanish_sheets_name_countries_and_keep_their_codes(
    imported: Database, tmp_path: Path
) -> None:
    tables = results_tables(
        build_report(imported, year_from=2011, year_to=2015, today=TODAY), Labels("es")
    )
    write_xlsx(tmp_path / "resultados.xlsx", tables)
    book = load_workbook(tmp_path / "resultados.xlsx")
    assert {"Talleres", "Países alcanzados", "Cursos de especialización"} <= set(book.sheetnames)
    countries = tables["countries"]
    assert countries.header == ["Código del país", "País", "Continente", "Talleres", "Actividades"]
    by_code = {row[0]: row for row in countries.rows}
    assert by_code["PE"][1:3] == ["Perú", "América"]
    assert by_code["MX"][1] == "México"
    courses = tables["courses"]
    regions = dict(zip(courses.column("region_code"), courses.column("region"), strict=True))
    assert regions["latin_america"] == "América Latina"
    every_header = " ".join(h for t in tables.values() for h in t.header)
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", every_header), every_header


def test_activities_carry_programme_status_and_theme_labels_beside_their_codes(
    imported: Database,
) -> None:
    table = results_tables(build_report(imported, today=TODAY), Labels("fr"))["activities"]
    rows = [dict(zip(table.keys, row, strict=True)) for row in table.rows]
    workshop = next(r for r in rows if r["programme_code"] == "international_workshop")
    assert workshop["programme"] == title("international_workshop", "fr")
    assert (workshop["status_code"], workshop["status"]) == ("held", "Réalisée")
    planned = next(r for r in rows if r["status_code"] == "planned")
    assert planned["status"] == "Prévue"
    assert "Programme" in table.header
    assert "Code du programme" in table.header


def test_requests_export_applies_the_filters(
    db: Database, make_request: Callable[..., RequestView], tmp_path: Path
) -> None:
    workshop = make_request("international_workshop", "closed")
    make_request("international_workshop", "intake")
    make_request("seminar", "intake")
    every = requests_table(db)
    assert len(every.rows) == 3
    only = requests_table(db, programme="international_workshop", state="closed")
    assert only.column("id") == [workshop.id]
    row = dict(zip(only.keys, only.rows[0], strict=True))
    assert (row["country_code"], row["country"], row["continent"]) == ("HN", "Honduras", "America")
    year = int(workshop.data["event_start"][:4])
    assert requests_table(db, year_from=year, year_to=year).column("id") == [workshop.id]
    write_xlsx(tmp_path / "requests.xlsx", {"requests": only})
    sheet = load_workbook(tmp_path / "requests.xlsx")["Requests"]
    assert sheet.cell(2, 1).value == workshop.id


@pytest.mark.parametrize(
    ("language", "programme", "state", "created"),
    [
        ("es", "Programa", "Estado", "Creada (hora de Ciudad de México)"),
        ("en", "Programme", "State", "Created (Mexico City time)"),
        ("fr", "Programme", "État", "Créée (heure de Mexico)"),
    ],
)
def test_request_headers_are_labels_in_the_chosen_language(
    db: Database,
    make_request: Callable[..., RequestView],
    language: str,
    programme: str,
    state: str,
    created: str,
) -> None:
    make_request("international_workshop", "intake")
    table = requests_table(db, labels=Labels(language, "America/Mexico_City"))
    assert programme in table.header
    assert state in table.header
    assert created in table.header
    assert not [h for h in table.header if re.fullmatch(r"[a-z]+(_[a-z]+)+", h)]


def test_requests_show_labels_codes_and_local_times(
    db: Database, make_request: Callable[..., RequestView]
) -> None:
    make_request("international_workshop", "intake")  # created 2026-01-12 15:00 UTC
    table = requests_table(db, labels=Labels("es", "America/Mexico_City"))
    row = dict(zip(table.keys, table.rows[0], strict=True))
    assert row["programme_code"] == "international_workshop"
    assert row["programme"] == title("international_workshop", "es")
    assert row["state_code"] == "intake"
    assert row["state"] not in ("intake", "Intake")
    assert row["created_at"] == datetime(2026, 1, 12, 9, 0)  # Mexico City, UTC-6 in January
    lines = csv_text(table).splitlines()
    header = next(csv.reader([lines[0]]))
    created = next(csv.reader([lines[1]]))[header.index("Creada (hora de Ciudad de México)")]
    assert created == "2026-01-12 09:00"


def test_csv_opens_in_excel_with_accents_and_arabic_intact(
    db: Database, engine: Engine, make_emb: Callable[..., str], coordinator: Actor, tmp_path: Path
) -> None:
    engine.create(
        "international_workshop",
        emb_code=make_emb("PE-JNE", country="PE", name="Jurado Nacional de Elecciones"),
        title="Taller de registro electoral",
        actor=coordinator,
    )
    engine.create(
        "international_workshop",
        emb_code=make_emb("IQ-IHEC", country="IQ", name=ARABIC, language="ar"),
        title=f"ورشة عمل دولية — {ARABIC}",
        actor=coordinator,
    )
    table = requests_table(db, labels=Labels("es"))
    data = csv_bytes(table)
    assert data.startswith(BOM)
    write_csv(tmp_path / "solicitudes.csv", table)
    assert (tmp_path / "solicitudes.csv").read_bytes() == data
    text = data.decode("utf-8-sig")
    assert not text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["País"] for r in rows} == {"Perú", "Irak"}
    assert {r["Código del país"] for r in rows} == {"PE", "IQ"}
    emb = table.header[table.keys.index("emb_name")]
    assert ARABIC in {r[emb] for r in rows}
    assert f"ورشة عمل دولية — {ARABIC}" in {r["Título"] for r in rows}
    assert data.count(BOM) == 1  # one mark, at the start: the rest is plain UTF-8


def test_a_title_that_looks_like_a_formula_is_inert_in_csv(tmp_path: Path) -> None:
    table = Table("Requests", ["id", "title"], [[1, '=HYPERLINK("http://x")'], [2, "-3+2"]])
    text = csv_text(table)
    assert "'=HYPERLINK" in text
    assert "'-3+2" in text
    assert "\n=" not in text


def test_xlsx_formulas_are_text_cells_without_an_apostrophe(tmp_path: Path) -> None:
    table = Table(
        "Requests",
        ["Request", "Title", "Country"],
        [[1, "=1+1", "Perú"], [2, '=HYPERLINK("http://evil.example","x")', ARABIC]],
        sheet="Solicitudes",
    )
    path = tmp_path / "out.xlsx"
    path.write_bytes(xlsx_bytes({"requests": table}))
    sheet = load_workbook(path)["Solicitudes"]
    formula, text = sheet["B2"], sheet["C2"]
    assert (formula.value, formula.data_type) == ("=1+1", "s")
    assert formula.quotePrefix  # stays text if the reader edits it; no mark in the cell
    assert sheet["B3"].value == '=HYPERLINK("http://evil.example","x")'
    assert (text.value, text.data_type, text.number_format) == ("Perú", "s", "@")
    assert not text.quotePrefix  # plain text: no mark at all
    assert sheet["C3"].value == ARABIC
    assert sheet["A2"].data_type == "n"  # numbers stay numbers
    xml = sheet_xml(path, "Solicitudes")
    assert not re.search(r"<f[ >/]", xml)  # no formula anywhere
    assert re.search(r'<c r="B2"[^>]*t="inlineStr"[^>]*><is><t>=1\+1</t></is></c>', xml)
    assert "'=" not in xml
    assert re.search(r'<c r="C2"[^>]*t="inlineStr"[^>]*><is><t>Perú</t></is></c>', xml)


def test_xlsx_dates_and_times_are_date_cells(
    db: Database, make_request: Callable[..., RequestView], tmp_path: Path
) -> None:
    make_request("international_workshop", "closed")
    table = requests_table(db, labels=Labels("en", "America/Mexico_City"))
    write_xlsx(tmp_path / "requests.xlsx", {"requests": table})
    sheet = load_workbook(tmp_path / "requests.xlsx")["Requests"]
    header = [c.value for c in sheet[1]]
    created = sheet.cell(2, header.index("Created (Mexico City time)") + 1)
    assert created.is_date
    assert created.value == datetime(2026, 1, 12, 9, 0)
    assert created.number_format == "yyyy-mm-dd hh:mm"
    start = sheet.cell(2, header.index("Event start") + 1)
    assert start.is_date
    assert start.number_format == "yyyy-mm-dd"
