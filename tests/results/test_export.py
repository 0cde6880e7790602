"""CSV and XLSX exports of the results tables and of the requests, with the filters applied."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from openpyxl import load_workbook

from engine.views import RequestView
from results.export import Table, csv_text, requests_table, results_tables, write_csv, write_xlsx
from results.report import build_report
from storage.db import Database
from tests.results.conftest import PRINTED_COLUMN_TOTALS, PRINTED_YEAR_TOTALS, TODAY


def test_the_workshop_table_as_csv_is_the_brochure_table(
    imported: Database, tmp_path: Path
) -> None:
    tables = results_tables(build_report(imported, year_from=2004, year_to=2015, today=TODAY))
    write_csv(tmp_path / "workshops.csv", tables["workshops"])
    with open(tmp_path / "workshops.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["year"]: int(r["total"]) for r in rows[:-1]} == PRINTED_YEAR_TOTALS
    assert rows[-1] == {
        "year": "Total",
        **{k: str(v) for k, v in PRINTED_COLUMN_TOTALS.items()},
        "total": "61",
    }


def test_the_xlsx_workbook_has_one_sheet_per_table(imported: Database, tmp_path: Path) -> None:
    tables = results_tables(build_report(imported, year_from=2011, year_to=2013, today=TODAY))
    write_xlsx(tmp_path / "results.xlsx", tables)
    book = load_workbook(tmp_path / "results.xlsx")
    assert book.sheetnames == list(tables)
    sheet = book["workshops"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["year", "Africa", "America", "Asia", "Europe", "total"]
    assert values[1:] == [
        [2011, 3, 2, 3, 2, 10],
        [2012, 4, 4, 0, 2, 10],
        [2013, 1, 7, 1, 0, 9],
        ["Total", 8, 13, 4, 4, 29],
    ]
    assert book["courses"].max_row == 1 + 6
    assert book["discrepancies"].max_row == 1 + 3


def test_requests_export_applies_the_filters(
    db: Database, make_request: Callable[..., RequestView], tmp_path: Path
) -> None:
    workshop = make_request("international_workshop", "closed")
    make_request("international_workshop", "intake")
    make_request("seminar", "intake")
    every = requests_table(db)
    assert len(every.rows) == 3
    only = requests_table(db, programme="international_workshop", state="closed")
    assert [r[0] for r in only.rows] == [workshop.id]
    row = dict(zip(only.header, only.rows[0], strict=True))
    assert (row["country"], row["continent"]) == ("HN", "America")
    year = int(workshop.data["event_start"][:4])
    assert [r[0] for r in requests_table(db, year_from=year, year_to=year).rows] == [workshop.id]
    write_xlsx(tmp_path / "requests.xlsx", {"requests": only})
    sheet = load_workbook(tmp_path / "requests.xlsx")["requests"]
    assert sheet.cell(2, 1).value == workshop.id


def test_a_title_that_looks_like_a_formula_is_inert_in_csv_and_xlsx(tmp_path: Path) -> None:
    table = Table("Requests", ["id", "title"], [[1, '=HYPERLINK("http://x")'], [2, "-3+2"]])
    text = csv_text(table)
    assert "'=HYPERLINK" in text
    assert "'-3+2" in text
    write_xlsx(tmp_path / "out.xlsx", {"requests": table})
    sheet = load_workbook(tmp_path / "out.xlsx").active
    assert sheet["B2"].data_type == "s"
    assert sheet["B2"].value == '\'=HYPERLINK("http://x")'
