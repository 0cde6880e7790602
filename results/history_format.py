"""The history file format (YAML or CSV; docs/results.md) and its parser.

Parsing never guesses: every problem — an unknown country name, a bad date, a field that is
not in the format — is collected with its line, and a file with any problem is refused whole
(`InvalidHistory`), so nothing in it is silently dropped or fixed. Disagreements between a
source's stated figures and its entries are not problems of the file: they are facts about
the source, imported as they are and reported (`records.check`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from config.yaml_reader import (
    Limits,
    LocatedDict,
    LocatedList,
    ReadRefused,
    parse,
    read_text,
)
from engine.errors import CicieError
from results import countries
from results.records import (
    PROGRAMMES,
    SERVES_A_COUNTRY,
    STATUSES,
    ActivityRecord,
    Claim,
    HistorySource,
    Topic,
)

FORMAT = "cicie-history/1"
REGIONS = (
    "latin_america",
    "caribbean",
    "north_america",
    "africa",
    "arab_states",
    "europe",
    "asia_pacific",
    "inter_regional",
)
RESERVED_SOURCES = ("requests",)
_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}\Z")
_ID = re.compile(r"^[A-Za-z0-9._:+-]{1,180}\Z")

ACTIVITY_FIELDS = (
    "id",
    "programme",
    "status",
    "year",
    "start",
    "end",
    "period",
    "title",
    "countries",
    "candidates",
    "count",
    "listed_under",
    "region",
    "partners",
    "invited",
    "themes",
    "participants",
    "institutions",
    "stated_countries",
    "stated_continents",
    "as_printed",
    "reading",
    "notes",
)
CLAIM_FIELDS = (
    "programme",
    "status",
    "year",
    "continent",
    "activities",
    "countries",
    "continents",
    "as_printed",
)
CSV_COLUMNS = ("record", "source", *ACTIVITY_FIELDS, "continent", "activities", "continents")
# a history file may hold decades of activities: larger than a workflow, still bounded
HISTORY_LIMITS = Limits(max_bytes=8 << 20, max_values=1_000_000)


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class InvalidHistory(CicieError):
    """A history file that cannot be imported; lists every problem with its line."""

    code = "invalid_history"

    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.line, p.message))
        text = "\n".join(f"{path}:{p.line}: {p.message}" for p in self.problems)
        super().__init__(
            f"{len(self.problems)} problem(s) in history file:\n{text}",
            [{"path": path, "line": p.line, "message": p.message} for p in self.problems],
        )


# ------------------------------------------------------------------ one entry, either format
class _Entry:
    """A raw entry (a YAML mapping or a CSV row) and the lines its fields came from."""

    def __init__(self, raw: dict[str, Any], line: int, key_lines: dict[str, int]) -> None:
        self.raw = raw
        self.line = line
        self.key_lines = key_lines

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)

    def item_lines(self, key: str) -> list[int]:
        value = self.raw.get(key)
        if isinstance(value, LocatedList):
            return value.item_lines
        return [self.line_of(key)] * (len(value) if isinstance(value, list) else 1)


class _Parser:
    def __init__(self, theme_ids: Iterable[str] | None) -> None:
        self.problems: list[Problem] = []
        self.theme_ids = frozenset(theme_ids) if theme_ids is not None else None

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(line, message))

    # -- scalars
    def text(self, e: _Entry, key: str) -> str | None:
        value = e.raw.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, (dict, list)):
            self.problem(e.line_of(key), f"'{key}' must be text")
            return None
        return str(value).strip()

    def integer(self, e: _Entry, key: str, low: int = 0, high: int = 10**6) -> int | None:
        value = e.raw.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            self.problem(e.line_of(key), f"'{key}' must be a whole number, not {value!r}")
            return None
        try:
            number = int(str(value).strip())
        except ValueError:
            self.problem(e.line_of(key), f"'{key}' must be a whole number, not {value!r}")
            return None
        if not low <= number <= high:
            self.problem(e.line_of(key), f"'{key}' must be between {low} and {high}")
            return None
        return number

    def day(self, e: _Entry, key: str) -> date | None:
        value = e.raw.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.problem(e.line_of(key), f"'{key}' must be a date YYYY-MM-DD, not {value!r}")
            return None

    def choice(self, e: _Entry, key: str, allowed: Iterable[str]) -> str | None:
        value = self.text(e, key)
        options = tuple(allowed)
        if value is not None and value not in options:
            self.problem(
                e.line_of(key), f"'{key}' must be one of {', '.join(options)}, not {value!r}"
            )
            return None
        return value

    def strings(self, e: _Entry, key: str) -> list[tuple[str, int]]:
        """A list field: a YAML list, or text separated by ';' (CSV cells)."""
        value = e.raw.get(key)
        if value is None or value == "":
            return []
        if isinstance(value, list):
            lines = e.item_lines(key)
            out = []
            for item, line in zip(value, lines, strict=False):
                if isinstance(item, (dict, list)) or item is None:
                    self.problem(line, f"'{key}' items must be text")
                    continue
                out.append((str(item).strip(), line))
            return out
        if isinstance(value, dict):
            self.problem(e.line_of(key), f"'{key}' must be a list")
            return []
        line = e.line_of(key)
        return [(part.strip(), line) for part in str(value).split(";") if part.strip()]

    def country_list(self, e: _Entry, key: str) -> tuple[str, ...]:
        found: list[str] = []
        for item, line in self.strings(e, key):
            code = countries.resolve(item)
            if code is None:
                self.problem(line, f"unknown country {item!r} in '{key}'")
            elif code in found:
                self.problem(line, f"country {item!r} ({code}) listed twice in '{key}'")
            else:
                found.append(code)
        return tuple(found)

    def continents(self, e: _Entry, key: str) -> int | tuple[str, ...] | None:
        value = e.raw.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value.strip()):
            return int(value.strip())
        names = []
        for item, line in self.strings(e, key):
            if item not in countries.CONTINENTS:
                self.problem(
                    line, f"unknown continent {item!r} (one of {', '.join(countries.CONTINENTS)})"
                )
            else:
                names.append(item)
        return tuple(names)

    def invited(self, e: _Entry) -> tuple[str, ...]:
        """Organisations invited to take part: never also a co-organising partner."""
        partners = {item for item, _ in self.strings(e, "partners")}
        found: list[str] = []
        for item, line in self.strings(e, "invited"):
            if item in partners:
                self.problem(line, f"{item!r} is in both 'partners' and 'invited'")
            elif item in found:
                self.problem(line, f"{item!r} listed twice in 'invited'")
            else:
                found.append(item)
        return tuple(found)

    def unknown_fields(self, e: _Entry, allowed: Iterable[str], what: str) -> None:
        allowed_set = set(allowed)
        for key in e.raw:
            if key not in allowed_set:
                self.problem(e.line_of(key), f"'{key}' is not a field of {what}")

    # -- records
    def activity(self, e: _Entry) -> tuple[ActivityRecord, int, str | None] | None:
        """The entry as a record, how many activities it stands for, and its explicit id."""
        self.unknown_fields(e, ACTIVITY_FIELDS, "an activity")
        before = len(self.problems)
        programme = self.choice(e, "programme", PROGRAMMES)
        if e.raw.get("programme") in (None, ""):
            self.problem(e.line, "an activity needs 'programme'")
        status = self.choice(e, "status", STATUSES) or "held"
        start, end = self.day(e, "start"), self.day(e, "end")
        year = self.integer(e, "year", 1900, 2100)
        if year is None and start is not None:
            year = start.year
        if year is None and "year" not in e.raw:
            self.problem(e.line, "an activity needs 'year' (or 'start')")
        if year is not None and start is not None and start.year != year:
            self.problem(e.line_of("start"), f"'start' {start} is not in year {year}")
        if start and end and end < start:
            self.problem(e.line_of("end"), f"'end' {end} is before 'start' {start}")
        if end and not start:
            self.problem(e.line_of("end"), "'end' without 'start'")
        served = self.country_list(e, "countries")
        candidates = self.country_list(e, "candidates")
        count = self.integer(e, "count", 1, 100) or 1
        themes = tuple(item for item, _ in self.strings(e, "themes"))
        if self.theme_ids is not None:
            for item, line in self.strings(e, "themes"):
                if item not in self.theme_ids:
                    self.problem(line, f"unknown theme {item!r} (see config/catalogues)")
        explicit_id = self.text(e, "id")
        if explicit_id is not None and not _ID.match(explicit_id):
            self.problem(e.line_of("id"), f"'id' {explicit_id!r} must match {_ID.pattern}")
        if programme in SERVES_A_COUNTRY and status == "held" and not e.raw.get("countries"):
            self.problem(e.line, f"a held {programme} entry must name its country")
        record_fields: dict[str, Any] = {
            "period": self.text(e, "period"),
            "title": self.text(e, "title") or "",
            "region": self.choice(e, "region", REGIONS),
            "listed_under": self.choice(e, "listed_under", countries.CONTINENTS),
            "participants": self.integer(e, "participants"),
            "institutions": self.integer(e, "institutions"),
            "partners": tuple(item for item, _ in self.strings(e, "partners")),
            "invited": self.invited(e),
            "stated_countries": self.integer(e, "stated_countries"),
            "stated_continents": self.continents(e, "stated_continents"),
            "as_printed": self.text(e, "as_printed"),
            "reading": self.text(e, "reading"),
            "notes": self.text(e, "notes"),
        }
        if len(self.problems) > before or programme is None or year is None:
            return None
        record = ActivityRecord(
            key="",
            programme=programme,
            year=year,
            status=status,
            countries=served,
            candidates=candidates,
            start=start,
            end=end,
            themes=themes,
            line=e.line,
            **record_fields,
        )
        return record, count, explicit_id

    def claim(self, e: _Entry) -> Claim | None:
        self.unknown_fields(e, CLAIM_FIELDS, "a stated figure")
        before = len(self.problems)
        programme = self.choice(e, "programme", PROGRAMMES)
        if e.raw.get("programme") in (None, ""):
            self.problem(e.line, "a stated figure needs 'programme'")
        claim = Claim(
            programme=programme or "",
            status=self.choice(e, "status", STATUSES) or "held",
            year=self.integer(e, "year", 1900, 2100),
            continent=self.choice(e, "continent", countries.CONTINENTS),
            activities=self.integer(e, "activities"),
            countries=self.integer(e, "countries"),
            continents=self.continents(e, "continents"),
            as_printed=self.text(e, "as_printed"),
            line=e.line,
        )
        if claim.activities is None and claim.countries is None and claim.continents is None:
            self.problem(e.line, "a stated figure needs 'activities', 'countries' or 'continents'")
        return claim if len(self.problems) == before else None

    def topic(self, e: _Entry) -> Topic | None:
        text = self.text(e, "text") or self.text(e, "title")
        theme = self.text(e, "theme") or self.text(e, "themes")
        if not text:
            self.problem(e.line, "a topic needs its text")
            return None
        if theme and self.theme_ids is not None and theme not in self.theme_ids:
            self.problem(e.line_of("theme"), f"unknown theme {theme!r} (see config/catalogues)")
        return Topic(text, theme)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", countries.normalise_name(text)).strip("-")[:80] or "untitled"


def _keyed(
    parser: _Parser, parsed: list[tuple[ActivityRecord, int, str | None]], source: str
) -> list[ActivityRecord]:
    """Expand `count` and give every activity its stable key (docs/results.md § Keys)."""
    out: list[ActivityRecord] = []
    seen_ids: set[str] = set()
    occurrences: Counter[str] = Counter()
    for record, count, explicit in parsed:
        if explicit is not None:
            if explicit in seen_ids:
                parser.problem(record.line, f"duplicate id {explicit!r}")
                continue
            seen_ids.add(explicit)
            keys = [explicit] if count == 1 else [f"{explicit}#{n}" for n in range(1, count + 1)]
        else:
            what = _slug(record.title) if record.title else "+".join(record.countries) or "-"
            base = f"{record.programme}:{record.year}:{what}"
            keys = []
            for _ in range(count):
                occurrences[base] += 1
                keys.append(f"{base}#{occurrences[base]}")
        for key in keys:
            out.append(replace(record, key=key, source=source))
    return out


# ------------------------------------------------------------------ the two formats
def _parse_yaml(text: str, parser: _Parser, default_source: str) -> HistorySource | None:
    try:
        root, problems = parse(text, HISTORY_LIMITS)
    except ReadRefused as exc:
        for refused in exc.problems:
            parser.problem(refused.line, refused.message)
        return None
    for found in problems:
        parser.problem(found.line, found.message)
    if not isinstance(root, LocatedDict):
        parser.problem(1, "the file must be a mapping with 'source' and 'activities'")
        return None
    top = _Entry(root, 1, root.key_lines)
    parser.unknown_fields(
        top, ("format", "source", "title", "topics", "stated", "activities"), "the file"
    )
    fmt = parser.text(top, "format")
    if fmt is not None and fmt != FORMAT:
        parser.problem(top.line_of("format"), f"'format' must be {FORMAT!r}, not {fmt!r}")
    name = parser.text(top, "source") or default_source
    title = parser.text(top, "title") or name

    def entries(key: str) -> list[_Entry]:
        value = root.get(key)
        if value is None:
            return []
        if not isinstance(value, LocatedList):
            parser.problem(top.line_of(key), f"'{key}' must be a list")
            return []
        out = []
        for item, line in zip(value, value.item_lines, strict=True):
            if isinstance(item, LocatedDict):
                out.append(_Entry(item, line, item.key_lines))
            elif key == "topics" and isinstance(item, str):
                out.append(_Entry({"text": item}, line, {}))
            else:
                parser.problem(line, f"each of '{key}' must be a mapping")
        return out

    source = HistorySource(name, title)
    parsed = [p for e in entries("activities") if (p := parser.activity(e))]
    source.claims = [c for e in entries("stated") if (c := parser.claim(e))]
    source.topics = [t for e in entries("topics") if (t := parser.topic(e))]
    if "activities" not in root:
        parser.problem(1, "the file has no 'activities'")
    source.activities = _keyed(parser, parsed, name)
    return source


def _parse_csv(text: str, parser: _Parser, default_source: str) -> HistorySource | None:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    if not header:
        parser.problem(1, "the file is empty")
        return None
    for column in header:
        if column not in CSV_COLUMNS:
            parser.problem(1, f"unknown column {column!r} (columns: {', '.join(CSV_COLUMNS)})")
    if "programme" not in header:
        parser.problem(1, "the header needs a 'programme' column")
        return None
    names: set[str] = set()
    parsed = []
    claims, topics = [], []
    for row in reader:
        line = reader.line_num
        raw = {k: v for k, v in row.items() if k in CSV_COLUMNS and v not in (None, "")}
        if not raw:
            continue
        if None in row:
            parser.problem(line, "more cells than columns")
        kind = raw.pop("record", "activity")
        if (src := raw.pop("source", None)) is not None:
            names.add(src)
        entry = _Entry(raw, line, {})
        if kind == "activity":
            for column in ("continent", "activities", "continents"):
                if column in raw:
                    parser.problem(line, f"'{column}' belongs to 'stated' rows")
                    raw.pop(column)
            if (p := parser.activity(entry)) is not None:
                parsed.append(p)
        elif kind == "stated":
            if (c := parser.claim(entry)) is not None:
                claims.append(c)
        elif kind == "topic":
            if (
                t := parser.topic(
                    _Entry({"text": raw.get("title"), "theme": raw.get("themes")}, line, {})
                )
            ) is not None:
                topics.append(t)
        else:
            parser.problem(line, f"'record' must be activity, stated or topic, not {kind!r}")
    if len(names) > 1:
        parser.problem(1, f"one source per file, found {sorted(names)}")
    name = names.pop() if len(names) == 1 else default_source
    source = HistorySource(name, name, claims=claims, topics=topics)
    source.activities = _keyed(parser, parsed, name)
    return source


def parse_history(
    text: str,
    *,
    path: str = "<history>",
    fmt: str | None = None,
    theme_ids: Iterable[str] | None = None,
) -> HistorySource:
    """Parse a history file's text; `fmt` is yaml or csv (else guessed from `path`).

    Raises `InvalidHistory` listing every problem when the file cannot be imported whole.
    A leading byte-order mark (a CSV saved by Excel as "CSV UTF-8") is not part of the text."""
    text = text.removeprefix("\ufeff")
    suffix = Path(path).suffix.lower()
    kind = fmt or ("csv" if suffix == ".csv" else "yaml")
    parser = _Parser(theme_ids)
    default_source = _slug(Path(path).stem) if path != "<history>" else "history"
    parse: Callable[[str, _Parser, str], HistorySource | None] = (
        _parse_csv if kind == "csv" else _parse_yaml
    )
    source = parse(text, parser, default_source)
    if source is not None:
        if not _SOURCE_NAME.match(source.name):
            parser.problem(1, f"source name {source.name!r} must match {_SOURCE_NAME.pattern}")
        elif source.name in RESERVED_SOURCES:
            parser.problem(1, f"source name {source.name!r} is reserved")
    if parser.problems or source is None:
        raise InvalidHistory(path, parser.problems)
    return source


def read_history(path: Path, theme_ids: Iterable[str] | None = None) -> HistorySource:
    try:
        text = read_text(path, HISTORY_LIMITS)
    except ReadRefused as exc:
        raise InvalidHistory(
            str(path), [Problem(p.line, p.message) for p in exc.problems]
        ) from None
    return parse_history(text, path=str(path), theme_ids=theme_ids)


def checksum(source: HistorySource) -> str:
    """A digest of what the source says (not of its layout), to skip an unchanged re-import."""

    def plain(record: Any) -> Any:
        values = asdict(record)
        values.pop("line", None)
        if not values.get("invited"):  # a file without invitations reads as it always did
            values.pop("invited", None)
        return values

    payload = {
        "name": source.name,
        "title": source.title,
        "activities": [plain(a) for a in source.activities],
        "claims": [plain(c) for c in source.claims],
        "topics": [t.to_dict() for t in source.topics],
    }
    text = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
