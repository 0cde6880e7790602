"""Planning backwards from the event and around elections (issue 14, items 8 and 9): the lead
times each programme declares and the elections the centre keeps track of.

- `config/catalogues/lead_times.yaml`: per programme, what must be arranged how many business
  days before the event starts (invitation letters for visas, air tickets, interpretation…).
- `config/catalogues/elections.yaml`: the blackout window around election day, how long before
  an election a workshop timed "before elections" should end, the kinds of election, and the
  elections themselves (country, date, kind, optional name).

Both are read with the project's YAML reader (YAML 1.2: `NO` is Norway, not False) and checked
when the application starts (`load_planning`): a mistake stops it with `file:line: problem`.
Labels are plain English; their translations are in the catalogues (msgctxt "label").
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from config import file_cache
from config.catalogues import CATALOGUE_DIR, Label
from config.yaml_reader import (
    ProblemCollector,
    ReadProblem,
    ReadRefused,
    parse,
    problems_text,
    read_text,
)

LEAD_TIMES_FILE = CATALOGUE_DIR / "lead_times.yaml"
ELECTIONS_FILE = CATALOGUE_DIR / "elections.yaml"

CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
COUNTRY = re.compile(r"[A-Z]{2}")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_LEAD_DAYS = 250  # about a year of business days
MAX_WINDOW_DAYS = 365
MAX_WEEKS = 52


class InvalidPlanning(ValueError):
    """A planning file cannot be used; every line of the message is `file:line: problem`."""


@dataclass(frozen=True)
class LeadTime:
    """Something to arrange before the event: at the latest `business_days` business days
    before its start."""

    id: str
    label: Label
    business_days: int


@dataclass(frozen=True)
class Election:
    country: str  # ISO 3166-1 alpha-2
    day: date
    kind: str
    name: str | None = None


@dataclass(frozen=True)
class ElectionCalendar:
    """The elections file: the blackout window (days before and after election day), the
    weeks a workshop timed "before elections" should end before election day, the kinds and
    their labels, and the elections in date order."""

    days_before: int
    days_after: int
    before_elections_weeks: int
    kinds: dict[str, Label]
    elections: tuple[Election, ...]

    def of_country(self, country: str | None) -> list[Election]:
        if not country:
            return []
        code = country.strip().upper()
        return [e for e in self.elections if e.country == code]

    def kind_label(self, kind: str) -> Label:
        return self.kinds.get(kind) or Label(kind.replace("_", " ").capitalize())


# ------------------------------------------------------------------ loading
def load_planning() -> None:
    """Read and check both files (at start-up): InvalidPlanning names file and line. Lead
    times of a programme that is not registered are never used (a deployment may carry fewer
    workflows than the bundled ones)."""
    load_lead_times()
    load_elections()


@cache
def load_lead_times(path: Path = LEAD_TIMES_FILE) -> dict[str, tuple[LeadTime, ...]]:
    """Programme → its lead times, longest first. Raises InvalidPlanning naming file and line.
    Kept between processes by `config.file_cache` (keyed by the file and this code)."""
    return file_cache.cached("lead-times", _keyed(path), lambda: _lead_times(path), dict)


def _lead_times(path: Path) -> dict[str, tuple[LeadTime, ...]]:
    root = _read(path)
    reader = _Reader(root)
    out = reader.lead_times()
    if reader.problems:
        raise _invalid(path, reader.problems)
    return out


@cache
def load_elections(path: Path = ELECTIONS_FILE) -> ElectionCalendar:
    """The elections file. Raises InvalidPlanning naming file and line. Kept between
    processes by `config.file_cache` (keyed by the file and this code)."""
    return file_cache.cached("elections", _keyed(path), lambda: _elections(path), ElectionCalendar)


def _elections(path: Path) -> ElectionCalendar:
    root = _read(path)
    reader = _Reader(root)
    out = reader.elections()
    if reader.problems:
        raise _invalid(path, reader.problems)
    return out


def _keyed(path: Path) -> list[Path]:
    """What a planning value is read from: the file, this reader and the YAML reader."""
    here = Path(__file__).resolve().parent
    return [path, here / "planning.py", here / "catalogues.py", *sorted(here.glob("yaml_*.py"))]


def lead_times_of(programme: str) -> tuple[LeadTime, ...]:
    return load_lead_times().get(programme, ())


def _read(path: Path) -> Any:
    try:
        root, problems = parse(read_text(path))
    except ReadRefused as exc:
        raise _invalid(path, exc.problems) from None
    if problems:
        raise _invalid(path, problems)
    return root


def _invalid(path: Path, problems: list[ReadProblem]) -> InvalidPlanning:
    return InvalidPlanning(problems_text(path, problems))


class _Reader(ProblemCollector):
    def only(self, at: tuple[Any, ...], value: dict[str, Any], keys: set[str]) -> None:
        for key in sorted(set(value) - keys):
            self.problem((*at, key), f"unknown key '{key}' ({', '.join(sorted(keys))})")

    def integer(self, at: tuple[Any, ...], value: Any, low: int, high: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(at, f"a whole number from {low} to {high}, not {value!r}")
            return None
        return value

    def label(self, at: tuple[Any, ...], value: Any) -> Label | None:
        if isinstance(value, str) and value.strip():
            return Label(value.strip())
        self.problem(at, "a label is an English text")
        return None

    # ---- lead times
    def lead_times(self) -> dict[str, tuple[LeadTime, ...]]:
        if not isinstance(self.root, dict) or not isinstance(self.root.get("lead_times"), dict):
            self.problem((), "the file holds 'lead_times:', programme → list of lead times")
            return {}
        self.only((), self.root, {"lead_times"})
        out: dict[str, tuple[LeadTime, ...]] = {}
        for programme, entries in self.root["lead_times"].items():
            at: tuple[Any, ...] = ("lead_times", programme)
            if not CODE.fullmatch(programme):
                self.problem(at, f"'{programme}' is not a programme name")
            if not isinstance(entries, list):
                self.problem(
                    at, "a programme's lead times are a list of {id, label, business_days}"
                )
                continue
            items: list[LeadTime] = []
            seen: set[str] = set()
            for i, entry in enumerate(entries):
                item = self.lead_time((*at, i), entry)
                if item is None:
                    continue
                if item.id in seen:
                    self.problem((*at, i), f"the lead time '{item.id}' is listed twice")
                seen.add(item.id)
                items.append(item)
            out[programme] = tuple(sorted(items, key=lambda t: -t.business_days))
        return out

    def lead_time(self, at: tuple[Any, ...], entry: Any) -> LeadTime | None:
        if not isinstance(entry, dict):
            self.problem(at, "a lead time is {id, label, business_days}")
            return None
        self.only(at, entry, {"id", "label", "business_days"})
        code = entry.get("id")
        if not isinstance(code, str) or not CODE.fullmatch(code):
            self.problem((*at, "id"), f"an id is a lowercase code (a-z, 0-9, _), not {code!r}")
            code = None
        label = self.label((*at, "label"), entry.get("label"))
        days = self.integer((*at, "business_days"), entry.get("business_days"), 1, MAX_LEAD_DAYS)
        if code is None or label is None or days is None:
            return None
        return LeadTime(code, label, days)

    # ---- elections
    def elections(self) -> ElectionCalendar:
        empty = ElectionCalendar(30, 15, 6, {}, ())
        if not isinstance(self.root, dict):
            self.problem(
                (), "the file holds 'blackout', 'before_elections_weeks', 'kinds', 'elections'"
            )
            return empty
        self.only((), self.root, {"blackout", "before_elections_weeks", "kinds", "elections"})
        blackout = self.root.get("blackout")
        before = after = None
        if not isinstance(blackout, dict):
            self.problem(("blackout",), "'blackout' is {days_before, days_after}")
        else:
            self.only(("blackout",), blackout, {"days_before", "days_after"})
            before = self.integer(
                ("blackout", "days_before"), blackout.get("days_before"), 0, MAX_WINDOW_DAYS
            )
            after = self.integer(
                ("blackout", "days_after"), blackout.get("days_after"), 0, MAX_WINDOW_DAYS
            )
        weeks = self.integer(
            ("before_elections_weeks",), self.root.get("before_elections_weeks"), 0, MAX_WEEKS
        )
        kinds: dict[str, Label] = {}
        raw_kinds = self.root.get("kinds")
        if not isinstance(raw_kinds, dict) or not raw_kinds:
            self.problem(("kinds",), "'kinds' maps each kind of election to {label}")
        else:
            for code, value in raw_kinds.items():
                at: tuple[Any, ...] = ("kinds", code)
                if not CODE.fullmatch(code):
                    self.problem(at, f"a kind is a lowercase code, not '{code}'")
                if not isinstance(value, dict) or set(value) != {"label"}:
                    self.problem(at, "a kind is {label: English text}")
                    continue
                label = self.label((*at, "label"), value["label"])
                if label is not None:
                    kinds[code] = label
        raw = self.root.get("elections")
        elections: list[Election] = []
        if not isinstance(raw, list):
            self.problem(("elections",), "'elections' is a list of {country, date, kind, name}")
        else:
            seen: dict[tuple[str, date, str], int] = {}
            for i, entry in enumerate(raw):
                election = self.election(("elections", i), entry, kinds)
                if election is None:
                    continue
                key = (election.country, election.day, election.kind)
                if key in seen:
                    self.problem(("elections", i), "this election is listed twice")
                seen[key] = i
                elections.append(election)
        if before is None or after is None or weeks is None:
            return empty
        elections.sort(key=lambda e: (e.day, e.country))
        return ElectionCalendar(before, after, weeks, kinds, tuple(elections))

    def election(self, at: tuple[Any, ...], entry: Any, kinds: dict[str, Label]) -> Election | None:
        if not isinstance(entry, dict):
            self.problem(at, "an election is {country, date, kind, name}")
            return None
        self.only(at, entry, {"country", "date", "kind", "name"})
        country = entry.get("country")
        if not isinstance(country, str) or not COUNTRY.fullmatch(country):
            self.problem(
                (*at, "country"), f"a country is its ISO code (two capitals), not {country!r}"
            )
            country = None
        value = entry.get("date")
        day = None
        if isinstance(value, str) and ISO_DATE.fullmatch(value):
            with contextlib.suppress(ValueError):  # 2026-02-30
                day = date.fromisoformat(value)
        if day is None:
            self.problem((*at, "date"), f"a date is written YYYY-MM-DD, not {value!r}")
        kind = entry.get("kind")
        if not isinstance(kind, str) or kind not in kinds:
            self.problem(
                (*at, "kind"), f"unknown kind {kind!r} (known: {', '.join(sorted(kinds))})"
            )
            kind = None
        name = entry.get("name")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            self.problem((*at, "name"), "a name is a text")
            name = None
        if country is None or day is None or kind is None:
            return None
        return Election(country, day, kind, name.strip() if name else None)
