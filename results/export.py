"""Exports: the results tables and the requests, as CSV or XLSX, with the filters applied.

Every table is (header, rows) first, so CSV, XLSX and a web page's table show the same
thing. Lists are joined with ';' as in the history format; the `activities` table has the
history format's columns (docs/results.md)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from results import countries
from results.history_format import ACTIVITY_FIELDS
from results.report import ResultsReport, request_year, shown_continents
from storage import activities as store
from storage.db import Database

Row = list[Any]


@dataclass(frozen=True)
class Table:
    title: str
    header: list[str]
    rows: list[Row]


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return ";".join(f"{k}={v}" for k, v in value.items())
    return value


def _activity_rows(items: Iterable[dict[str, Any]]) -> list[Row]:
    return [
        [
            a["year"],
            a["title"],
            a["start"],
            a["end"],
            a["period"],
            a["region"],
            _cell(a["countries"]),
            a["participants"],
            a["institutions"],
            _cell(a["partners"]),
            a["source"],
            a["request_id"],
        ]
        for a in items
    ]


ACTIVITY_HEADER = [
    "year",
    "title",
    "start",
    "end",
    "period",
    "region",
    "countries",
    "participants",
    "institutions",
    "partners",
    "source",
    "request_id",
]


def results_tables(report: ResultsReport) -> dict[str, Table]:
    """Every table of the results report, by name (the CLI's `--table`, the XLSX sheets)."""
    data = report.to_dict()
    w = data["workshops"]
    conts = shown_continents(w)
    workshop_rows: list[Row] = [
        [int(y), *(row.get(c, 0) for c in conts), w["year_totals"][y]]
        for y, row in w["by_year"].items()
    ]
    workshop_rows.append(["Total", *(w["by_continent"][c] for c in conts), w["total"]])
    by_workshop = {c["code"]: c["activities"] for c in w["by_country"]}
    reached = data["countries_reached"]["countries"]
    tables = {
        "workshops": Table(
            "International workshops by year and continent",
            ["year", *conts, "total"],
            workshop_rows,
        ),
        "countries": Table(
            "Countries reached",
            ["code", "name", "continent", "workshops", "activities"],
            [
                [
                    c["code"],
                    c["name"],
                    c["continent"],
                    by_workshop.get(c["code"], 0),
                    c["activities"],
                ]
                for c in reached
            ],
        ),
        "courses": Table(
            "Specialization courses", ACTIVITY_HEADER, _activity_rows(data["courses"])
        ),
        "seminars": Table("Seminars", ACTIVITY_HEADER, _activity_rows(data["seminars"])),
        "planned": Table(
            "Planned activities",
            ["programme", "year", "title", "period", "start", "end", "candidates", "partners"],
            [
                [
                    a["programme"],
                    a["year"],
                    a["title"],
                    a["period"],
                    a["start"],
                    a["end"],
                    _cell(a["candidates"]),
                    _cell(a["partners"]),
                ]
                for a in data["planned"]
            ],
        ),
        "activities": Table(
            "All activities (history format columns)",
            ["record", "source", *ACTIVITY_FIELDS],
            [
                _history_row(a)
                for a in sorted(report.records, key=lambda a: (a.year, a.key))
                if report.in_range(a.year)
            ],
        ),
        "themes": Table(
            "Most requested themes",
            ["theme", "label", "requests", "activities", "total"],
            [
                [t["theme"], t["label"], t["requests"], t["activities"], t["total"]]
                for t in data["themes"]
            ],
        ),
        "requests": Table(
            f"Requests received in {data['requests']['year']} by programme and state",
            ["programme", "state", "requests"],
            [
                [p, s, n]
                for p, states in data["requests"]["by_programme"].items()
                for s, n in states.items()
            ],
        ),
        "discrepancies": Table(
            "Stated figures that disagree with the listed entries",
            ["source", "where", "stated", "listed", "message"],
            [
                [d["source"], d["where"], _cell(d["stated"]), _cell(d["listed"]), d["message"]]
                for d in data["discrepancies"]
            ],
        ),
        "readings": Table(
            "How ambiguous entries were read",
            ["source", "year", "as_printed", "counted_as", "reading"],
            [
                [r["source"], r["year"], r["as_printed"], r["counted_as"], r["reading"]]
                for r in data["readings"]
            ],
        ),
    }
    return tables


def _history_row(a: Any) -> Row:
    values = {
        "record": "activity",
        "source": a.source,
        "id": a.key,
        "programme": a.programme,
        "status": a.status,
        "year": a.year,
        "start": a.start.isoformat() if a.start else None,
        "end": a.end.isoformat() if a.end else None,
        "period": a.period,
        "title": a.title,
        "countries": _cell(a.countries),
        "candidates": _cell(a.candidates),
        "count": None,
        "listed_under": a.listed_under,
        "region": a.region,
        "partners": _cell(a.partners),
        "themes": _cell(a.themes),
        "participants": a.participants,
        "institutions": a.institutions,
        "stated_countries": a.stated_countries,
        "stated_continents": _cell(a.stated_continents)
        if isinstance(a.stated_continents, tuple)
        else a.stated_continents,
        "as_printed": a.as_printed,
        "reading": a.reading,
        "notes": a.notes,
    }
    return [values[k] for k in ["record", "source", *ACTIVITY_FIELDS]]


REQUEST_HEADER = [
    "id",
    "programme",
    "state",
    "held_from",
    "emb_code",
    "emb_name",
    "country",
    "country_name",
    "continent",
    "title",
    "year",
    "event_start",
    "event_end",
    "themes",
    "version",
    "created_at",
    "updated_at",
]


def requests_table(
    db: Database,
    *,
    programme: str | None = None,
    state: str | None = None,
    emb: str | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
) -> Table:
    """Requests, filtered; `year` is the event's year, else the year it was received."""
    with db.read() as conn:
        rows = store.requests_with_emb(conn)
    out: list[Row] = []
    for r in rows:
        year = request_year(r)
        if (
            (programme and r.programme != programme)
            or (state and r.state != state)
            or (emb and r.emb_code != emb)
            or (year_from is not None and year < year_from)
            or (year_to is not None and year > year_to)
        ):
            continue
        out.append(
            [
                r.id,
                r.programme,
                r.state,
                r.held_from,
                r.emb_code,
                r.emb_name,
                r.emb_country,
                countries.name(r.emb_country) if r.emb_country else None,
                countries.continent(r.emb_country) if r.emb_country else None,
                r.title,
                year,
                r.data.get("event_start"),
                r.data.get("event_end"),
                _cell(r.data.get("themes") or []),
                r.version,
                r.created_at.isoformat(),
                r.updated_at.isoformat(),
            ]
        )
    return Table("Requests", REQUEST_HEADER, out)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """A text a spreadsheet would take for a formula is prefixed with `'`, so a title typed
    into a request cannot run in the reader's spreadsheet (CSV and XLSX alike)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return f"'{value}"
    return value


def csv_text(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.header)
    writer.writerows([["" if c is None else inert(c) for c in row] for row in table.rows])
    return buffer.getvalue()


def write_csv(path: Path, table: Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(table), encoding="utf-8")


def write_xlsx(path: Path, tables: dict[str, Table]) -> None:
    """One sheet per table: bold frozen header, columns sized to their content."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for name, table in tables.items():
        sheet = book.create_sheet(title=name[:31])
        sheet.append(table.header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([inert(c) for c in row])
        sheet.freeze_panes = "A2"
        for index, column in enumerate(zip(table.header, *table.rows, strict=False), start=1):
            width = max(len(str(v)) if v is not None else 0 for v in column)
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(
                max(width + 2, 6), 80
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
