"""Exports: the results tables and the requests, as CSV or XLSX, with the filters applied, in
the reader's language.

Every table is (header, rows) first, so CSV, XLSX and a web page's table show the same
thing. What a person reads is in their language (`Labels`): the headers, the sheet names,
programme titles, states, themes, regions, continents and country names (CLDR, through
Babel). Every coded value keeps its code in a column of its own, just before its label, so a
machine can still join on codes; `Table.keys` names the columns in a way that does not depend
on the language. Times are in the centre's time zone, named in the header ("Creada (hora de
Ciudad de México)"), written as sortable local date-times ("2026-12-01 15:40"). Lists are
joined with ';' (codes) or '; ' (names). docs/user-guide.md § Exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from config.catalogues import Catalogues, load_catalogues
from i18n import Text, say
from i18n.formatting import zone_name
from i18n.vocabulary import humanise, term
from results import countries
from results.report import ResultsReport, request_year, shown_continents
from storage import activities as store
from storage.db import Database
from workflows.definition import WorkflowDefinition
from workflows.loader import load_all

if TYPE_CHECKING:
    from engine.bootstrap import Runtime

Row = list[Any]

DEFAULT_ZONE = "America/Mexico_City"  # as config.settings.Settings.timezone

STATUS_LABELS = {"held": Text("Held"), "planned": Text("Planned")}


@cache
def _definitions() -> Mapping[str, WorkflowDefinition]:
    return load_all()


@cache
def _catalogues() -> Catalogues:
    return load_catalogues()


class Labels:
    """How the reader of an export sees codes and times: in `language` (es, en, fr) and in the
    time zone `zone`. Programme titles and state labels come from the workflow definitions,
    themes from the catalogues (the bundled ones unless given); a code nothing labels is
    said without its underscores."""

    def __init__(
        self,
        language: str = "en",
        zone: str = DEFAULT_ZONE,
        *,
        definitions: Mapping[str, WorkflowDefinition] | None = None,
        catalogues: Catalogues | None = None,
    ) -> None:
        self.language = language
        self.zone = zone
        self._definitions = definitions
        self._catalogues = catalogues

    @classmethod
    def of(cls, runtime: Runtime, language: str) -> Labels:
        """The labels of a running system: its workflows, catalogues and time zone."""
        return cls(
            language,
            runtime.settings.timezone,
            definitions=runtime.registry.definitions,
            catalogues=runtime.catalogues,
        )

    @property
    def definitions(self) -> Mapping[str, WorkflowDefinition]:
        return self._definitions if self._definitions is not None else _definitions()

    @property
    def catalogues(self) -> Catalogues:
        return self._catalogues if self._catalogues is not None else _catalogues()

    def say(self, value: Any) -> str:
        return say(value, self.language)

    def programme(self, code: str | None) -> str | None:
        if not code:
            return None
        definition = self.definitions.get(code)
        return definition.title.get(self.language) if definition else humanise(code)

    def state(self, programme: str | None, code: str | None) -> str | None:
        if not code:
            return None
        definition = self.definitions.get(programme or "")
        name = definition.known_as(code) if definition else None
        if definition is None or name is None:
            return humanise(code)
        return definition.states[name].label.get(self.language)

    def theme(self, code: str) -> str:
        theme = self.catalogues.themes.get(code)
        return theme.label.get(self.language) if theme else code

    def region(self, code: str | None) -> str | None:
        return term("region", code, self.language) if code else None

    def continent(self, name: str | None) -> str | None:
        return term("continent", name, self.language) if name else None

    def status(self, code: str | None) -> str | None:
        return self.say(STATUS_LABELS[code]) if code in STATUS_LABELS else code

    def country(self, code: str | None) -> str | None:
        return countries.name(code, self.language) if code else None

    def zone_name(self) -> str:
        return zone_name(self.zone, self.language)

    def local(self, moment: datetime | None) -> datetime | None:
        """A stored moment as the wall-clock time of the centre (naive: the zone is named in
        the column's header), to the minute."""
        if moment is None:
            return None
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        local = aware.astimezone(ZoneInfo(self.zone))
        return local.replace(tzinfo=None, second=0, microsecond=0)


@dataclass(frozen=True)
class Table:
    """One table: its title, header (labels) and rows. `keys` are the columns' names that do
    not depend on the language; `sheet` is its sheet's name in a workbook."""

    title: str
    header: list[str]
    rows: list[Row]
    keys: tuple[str, ...] = ()
    sheet: str = ""

    def column(self, key: str) -> list[Any]:
        """Every value of the column named `key` (one of `keys`)."""
        index = self.keys.index(key)
        return [row[index] for row in self.rows]


Column = tuple[str, Text | str]


def _table(
    labels: Labels,
    title: Text,
    sheet: Text,
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, Any]],
) -> Table:
    keys = tuple(key for key, _ in columns)
    return Table(
        labels.say(title),
        [labels.say(header) for _, header in columns],
        [[row.get(key) for key in keys] for row in rows],
        keys,
        labels.say(sheet),
    )


def _codes(values: Iterable[Any]) -> str:
    return ";".join(str(v) for v in values)


def _names(values: Iterable[Any], name: Callable[[Any], Any]) -> str:
    return "; ".join(str(name(v)) for v in values)


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _dated(value: Any) -> Any:
    """An ISO date as a date (a date cell in XLSX); any other text as it is."""
    return _day(value) if _day(value) is not None and len(str(value)) == 10 else value


# ------------------------------------------------------------------ the columns
YEAR = ("year", Text("Year"))
TITLE = ("title", Text("Title"))
START = ("start", Text("Start"))
END = ("end", Text("End"))
PERIOD = ("period", Text("When"))
REGION_CODE = ("region_code", Text("Region code"))
REGION = ("region", Text("Region"))
COUNTRY_CODES = ("country_codes", Text("Country codes"))
COUNTRIES = ("countries", Text("Countries"))
PARTICIPANTS = ("participants", Text("Participants"))
INSTITUTIONS = ("institutions", Text("Institutions"))
PARTNERS = ("partners", Text("Partners"))
SOURCE = ("source", Text("Source"))
REQUEST_ID = ("request_id", Text("Request"))
PROGRAMME_CODE = ("programme_code", Text("Programme code"))
PROGRAMME = ("programme", Text("Programme"))
STATUS_CODE = ("status_code", Text("Status code"))
STATUS = ("status", Text("Status"))
THEME_CODES = ("theme_codes", Text("Theme codes"))
THEMES = ("themes", Text("Themes"))
CANDIDATE_CODES = ("candidate_codes", Text("Candidate country codes"))
CANDIDATES = ("candidates", Text("Candidate countries"))

ACTIVITY_COLUMNS: list[Column] = [
    YEAR,
    TITLE,
    START,
    END,
    PERIOD,
    REGION_CODE,
    REGION,
    COUNTRY_CODES,
    COUNTRIES,
    PARTICIPANTS,
    INSTITUTIONS,
    PARTNERS,
    SOURCE,
    REQUEST_ID,
]


def _activity_row(a: Mapping[str, Any], labels: Labels) -> dict[str, Any]:
    """One activity of the report (`report.activity_dict`), in the reader's language."""
    return {
        "year": a["year"],
        "title": a["title"],
        "start": _day(a["start"]),
        "end": _day(a["end"]),
        "period": a["period"],
        "region_code": a["region"],
        "region": labels.region(a["region"]),
        "country_codes": _codes(a["countries"]),
        "countries": _names(a["countries"], labels.country),
        "candidate_codes": _codes(a["candidates"]),
        "candidates": _names(a["candidates"], labels.country),
        "participants": a["participants"],
        "institutions": a["institutions"],
        "partners": "; ".join(a["partners"]),
        "source": a["source"],
        "request_id": a["request_id"],
        "programme_code": a["programme"],
        "programme": labels.programme(a["programme"]),
        "status_code": a["status"],
        "status": labels.status(a["status"]),
        "theme_codes": _codes(a["themes"]),
        "themes": _names(a["themes"], labels.theme),
    }


def results_tables(report: ResultsReport, labels: Labels | None = None) -> dict[str, Table]:
    """Every table of the results report, by name (the CLI's `--table`; one XLSX sheet each,
    named in the reader's language)."""
    labels = labels or Labels()
    data = report.to_dict()
    w = data["workshops"]
    conts = shown_continents(w)
    workshop_rows = [
        {"year": int(y), **{c: row.get(c, 0) for c in conts}, "total": w["year_totals"][y]}
        for y, row in w["by_year"].items()
    ]
    workshop_rows.append(
        {
            "year": labels.say(Text("Total")),
            **{c: w["by_continent"][c] for c in conts},
            "total": w["total"],
        }
    )
    by_workshop = {c["code"]: c["activities"] for c in w["by_country"]}
    activity_rows = [
        _history_row(a, labels)
        for a in sorted(report.records, key=lambda a: (a.year, a.key))
        if report.in_range(a.year)
    ]
    return {
        "workshops": _table(
            labels,
            Text("International workshops by year and continent"),
            Text("Workshops"),
            [
                YEAR,
                *((c, labels.continent(c) or c) for c in conts),
                ("total", Text("Total")),
            ],
            workshop_rows,
        ),
        # the results page reads this one as (code, name, continent, workshops, activities)
        "countries": _table(
            labels,
            Text("Countries reached"),
            Text("Countries reached"),
            [
                ("country_code", Text("Country code")),
                ("country", Text("Country")),
                ("continent", Text("Continent")),
                ("workshops", Text("Workshops")),
                ("activities", Text("Activities")),
            ],
            (
                {
                    "country_code": c["code"],
                    "country": labels.country(c["code"]),
                    "continent": labels.continent(c["continent"]),
                    "workshops": by_workshop.get(c["code"], 0),
                    "activities": c["activities"],
                }
                for c in data["countries_reached"]["countries"]
            ),
        ),
        "courses": _table(
            labels,
            Text("Specialization courses"),
            Text("Specialization courses"),
            ACTIVITY_COLUMNS,
            (_activity_row(a, labels) for a in data["courses"]),
        ),
        "seminars": _table(
            labels,
            Text("Seminars"),
            Text("Seminars"),
            ACTIVITY_COLUMNS,
            (_activity_row(a, labels) for a in data["seminars"]),
        ),
        "planned": _table(
            labels,
            Text("Planned activities"),
            Text("Planned activities"),
            [
                PROGRAMME_CODE,
                PROGRAMME,
                YEAR,
                TITLE,
                PERIOD,
                START,
                END,
                CANDIDATE_CODES,
                CANDIDATES,
                PARTNERS,
            ],
            (_activity_row(a, labels) for a in data["planned"]),
        ),
        "activities": _table(
            labels,
            Text("All activities"),
            Text("All activities"),
            HISTORY_COLUMNS,
            activity_rows,
        ),
        "themes": _table(
            labels,
            Text("Most requested themes"),
            Text("Themes"),
            [
                ("theme_code", Text("Theme code")),
                ("theme", Text("Theme")),
                ("requests", Text("Requests")),
                ("activities", Text("Activities")),
                ("total", Text("Total")),
            ],
            (
                {
                    "theme_code": t["theme"],
                    "theme": labels.theme(t["theme"]),
                    "requests": t["requests"],
                    "activities": t["activities"],
                    "total": t["total"],
                }
                for t in data["themes"]
            ),
        ),
        "requests": _table(
            labels,
            Text(
                "Requests received in %(year)s by programme and state",
                year=data["requests"]["year"],
            ),
            Text("Requests this year"),
            [
                PROGRAMME_CODE,
                PROGRAMME,
                ("state_code", Text("State code")),
                ("state", Text("State")),
                ("requests", Text("Requests")),
            ],
            (
                {
                    "programme_code": p,
                    "programme": labels.programme(p),
                    "state_code": s,
                    "state": labels.state(p, s),
                    "requests": n,
                }
                for p, states in data["requests"]["by_programme"].items()
                for s, n in states.items()
            ),
        ),
        "discrepancies": _table(
            labels,
            Text("Stated figures that disagree with the listed entries"),
            Text("Discrepancies"),
            [
                SOURCE,
                ("where", Text("Where")),
                ("stated", Text("Stated")),
                ("listed", Text("Listed")),
                ("message", Text("What disagrees")),
            ],
            (
                {
                    "source": d["source"],
                    "where": labels.say(d["where"]),
                    "stated": _cell(d["stated"]),
                    "listed": _cell(d["listed"]),
                    "message": labels.say(d["message"]),
                }
                for d in data["discrepancies"]
            ),
        ),
        "readings": _table(
            labels,
            Text("How ambiguous entries were read"),
            Text("Ambiguous entries"),
            [
                SOURCE,
                YEAR,
                ("as_printed", Text("As printed")),
                ("counted_as", Text("Counted as")),
                ("reading", Text("Reading")),
            ],
            data["readings"],
        ),
    }


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return ";".join(f"{k}={v}" for k, v in value.items())
    return value


# Every field of an activity (the history format's, docs/results.md), each code with its label
HISTORY_COLUMNS: list[Column] = [
    SOURCE,
    ("key", Text("Key")),
    PROGRAMME_CODE,
    PROGRAMME,
    STATUS_CODE,
    STATUS,
    YEAR,
    START,
    END,
    PERIOD,
    TITLE,
    COUNTRY_CODES,
    COUNTRIES,
    CANDIDATE_CODES,
    CANDIDATES,
    ("listed_under", Text("Listed under")),
    REGION_CODE,
    REGION,
    PARTNERS,
    THEME_CODES,
    THEMES,
    PARTICIPANTS,
    INSTITUTIONS,
    ("stated_countries", Text("Stated countries")),
    ("stated_continents", Text("Stated continents")),
    ("as_printed", Text("As printed")),
    ("reading", Text("Reading")),
    ("notes", Text("Notes")),
    REQUEST_ID,
]


def _history_row(a: Any, labels: Labels) -> dict[str, Any]:
    stated = a.stated_continents
    return {
        "source": a.source,
        "key": a.key,
        "programme_code": a.programme,
        "programme": labels.programme(a.programme),
        "status_code": a.status,
        "status": labels.status(a.status),
        "year": a.year,
        "start": a.start,
        "end": a.end,
        "period": a.period,
        "title": a.title,
        "country_codes": _codes(a.countries),
        "countries": _names(a.countries, labels.country),
        "candidate_codes": _codes(a.candidates),
        "candidates": _names(a.candidates, labels.country),
        "listed_under": labels.continent(a.listed_under),
        "region_code": a.region,
        "region": labels.region(a.region),
        "partners": "; ".join(a.partners),
        "theme_codes": _codes(a.themes),
        "themes": _names(a.themes, labels.theme),
        "participants": a.participants,
        "institutions": a.institutions,
        "stated_countries": a.stated_countries,
        "stated_continents": _names(stated, labels.continent)
        if isinstance(stated, tuple)
        else stated,
        "as_printed": a.as_printed,
        "reading": a.reading,
        "notes": a.notes,
        "request_id": a.request_id,
    }


def requests_table(
    db: Database,
    *,
    programme: str | None = None,
    state: str | None = None,
    emb: str | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
    labels: Labels | None = None,
) -> Table:
    """Requests, filtered; `year` is the event's year, else the year it was received."""
    labels = labels or Labels()
    with db.read() as conn:
        rows = store.requests_with_emb(conn)
    out: list[dict[str, Any]] = []
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
        themes = [t for t in r.data.get("themes") or [] if isinstance(t, str)]
        out.append(
            {
                "id": r.id,
                "programme_code": r.programme,
                "programme": labels.programme(r.programme),
                "state_code": r.state,
                "state": labels.state(r.programme, r.state),
                "held_from_code": r.held_from,
                "held_from": labels.state(r.programme, r.held_from),
                "emb_code": r.emb_code,
                "emb_name": r.emb_name,
                "country_code": r.emb_country,
                "country": labels.country(r.emb_country),
                "continent": labels.continent(countries.continent(r.emb_country))
                if r.emb_country
                else None,
                "title": r.title,
                "year": year,
                "event_start": _dated(r.data.get("event_start")),
                "event_end": _dated(r.data.get("event_end")),
                "theme_codes": _codes(themes),
                "themes": _names(themes, labels.theme),
                "version": r.version,
                "created_at": labels.local(r.created_at),
                "updated_at": labels.local(r.updated_at),
            }
        )
    zone = labels.zone_name()
    columns: list[Column] = [
        ("id", Text("Request")),
        PROGRAMME_CODE,
        PROGRAMME,
        ("state_code", Text("State code")),
        ("state", Text("State")),
        ("held_from_code", Text("On hold at stage (code)")),
        ("held_from", Text("On hold at stage")),
        ("emb_code", Text("EMB code")),
        ("emb_name", Text("EMB")),
        ("country_code", Text("Country code")),
        ("country", Text("Country")),
        ("continent", Text("Continent")),
        TITLE,
        YEAR,
        ("event_start", Text("Event start")),
        ("event_end", Text("Event end")),
        THEME_CODES,
        THEMES,
        ("version", Text("Workflow version")),
        ("created_at", Text("Created (%(zone)s time)", zone=zone)),
        ("updated_at", Text("Last changed (%(zone)s time)", zone=zone)),
    ]
    return _table(labels, Text("Requests"), Text("Requests"), columns, out)


# ------------------------------------------------------------------ files
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_DATETIME = "%Y-%m-%d %H:%M"
XLSX_DATETIME = "yyyy-mm-dd hh:mm"
XLSX_DATE = "yyyy-mm-dd"


def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def inert(value: Any) -> Any:
    """CSV: a text a spreadsheet would take for a formula is prefixed with `'` (the usual
    mitigation: a CSV cell has no type, so a title typed into a request could otherwise run
    in the reader's spreadsheet). XLSX needs no prefix: its text cells are typed as text."""
    if looks_like_formula(value):
        return f"'{value}"
    return value


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(CSV_DATETIME)
    if isinstance(value, date):
        return value.isoformat()
    return inert(value)


def csv_text(table: Table) -> str:
    """The table as CSV text (no byte-order mark: `csv_bytes` and `write_csv` add it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([inert(h) for h in table.header])
    writer.writerows([[_csv_value(c) for c in row] for row in table.rows])
    return buffer.getvalue()


def csv_bytes(table: Table) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel's detection reads accents and Arabic
    right ("Perú", not "PerÃº")."""
    return csv_text(table).encode("utf-8-sig")


def write_csv(path: Path, table: Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(table))


def _sheet_title(name: str, taken: set[str]) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of []:*?/\\, unique."""
    base = "".join("-" if ch in "[]:*?/\\" else ch for ch in name).strip("'")[:31] or "Sheet"
    title, n = base, 1
    while title.casefold() in taken:
        n += 1
        title = f"{base[: 31 - len(str(n)) - 1]} {n}"
    taken.add(title.casefold())
    return title


def xlsx_bytes(tables: Mapping[str, Table]) -> bytes:
    """One sheet per table (named in the reader's language): bold frozen header, columns
    sized to their content. Text is stored as text cells formatted as text ('@'), so nothing
    a request's title says becomes a formula and no apostrophe shows; dates and times are
    date cells ("yyyy-mm-dd", "yyyy-mm-dd hh:mm")."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    bold = Font(bold=True)
    for name, table in tables.items():
        sheet = book.create_sheet(title=_sheet_title(table.sheet or name, taken))
        for r, values in enumerate([table.header, *table.rows], start=1):
            for c, value in enumerate(values, start=1):
                if value is None:
                    continue
                cell = sheet.cell(r, c)
                if isinstance(value, str):
                    cell.value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
                    cell.data_type = "s"  # never "f": a text starting with "=" stays text
                    cell.number_format = "@"
                    if looks_like_formula(value):
                        # kept as text if the reader edits the cell (shown without the mark)
                        cell.quotePrefix = True
                else:
                    cell.value = value
                    if isinstance(value, datetime):
                        cell.number_format = XLSX_DATETIME
                    elif isinstance(value, date):
                        cell.number_format = XLSX_DATE
                if r == 1:
                    cell.font = bold
        sheet.freeze_panes = "A2"
        for index, column in enumerate(zip(table.header, *table.rows, strict=False), start=1):
            width = max(_width(v) for v in column)
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(
                max(width + 2, 6), 80
            )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    return len(str(value))


def write_xlsx(path: Path, tables: Mapping[str, Table]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(xlsx_bytes(tables))
