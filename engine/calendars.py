"""Working-day calendars: which days count when a timer counts working days.

A calendar is a country's weekend plus its public holidays, taken from the `holidays` package
(maintained by its authors year after year: Mexico's inauguration day moving from 1 October to
1 December and back, the Monday rule of 2006, and so on, are theirs to follow, not ours). The
home calendar — Mexico's, where INE works — adds INE's own closure days, read from the editable
`config/catalogues/ine_closures.yaml`.

A calendar for a country the package does not know is its weekend only; `supported` says so, for
a caller that wants to show it. Holidays are computed once per (country, year) and kept as
frozensets: the planning of timers asks on every transition.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from config import file_cache
from config.yaml_reader import (  # PyYAML itself only when a file is parsed
    ProblemCollector,
    ReadProblem,
    ReadRefused,
    parse,
    problems_text,
    read_text,
)

HOME_COUNTRY = "MX"
CATALOGUES = Path(__file__).resolve().parent.parent / "config" / "catalogues"
CLOSURES_FILE = CATALOGUES / "ine_closures.yaml"
SATURDAY_SUNDAY = frozenset({5, 6})  # date.weekday() numbers
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_CLOSURE_DAYS = 366  # one range: a typing slip (2026 → 2062) must not build decades of days


class InvalidClosures(ValueError):
    """The closures file cannot be used; every line of the message is `file:line: problem`."""


@dataclass(frozen=True)
class Closure:
    """A day INE is closed, with the name the file gives it."""

    day: date
    name: str


# ------------------------------------------------------------------ the `holidays` package
# Importing `holidays` loads every country's module (≈ 60 ms): what a count needs of it (the
# supported countries, a country's weekend, its holidays of a year) is kept in
# `holidays-<package version>.json` in the definition cache (`config.file_cache.use_dir`), so
# a process that finds it there never imports the package (issue 16). Same answers either way.
def _holidays_version() -> str | None:
    """The installed `holidays` package's version, from its dist-info folder's name (without
    importing it or `importlib.metadata`); None when it cannot be told."""
    for entry in sys.path:
        try:
            found = sorted(Path(entry or ".").glob("holidays-*.dist-info"))
        except OSError:
            continue
        if found:
            return found[-1].name.removeprefix("holidays-").removesuffix(".dist-info")
    return None


class _HolidayStore:
    """The answers of the `holidays` package, kept in one JSON file per package version;
    written through a temporary file moved into place (`file_cache.write_atomically`), so two
    processes filling it at once leave a whole file (one of them may lose an answer, which is
    computed again next time)."""

    def __init__(self) -> None:
        directory = file_cache.cache_dir()
        version = _holidays_version() if directory is not None else None
        self.path = (
            directory / f"holidays-{version}.json"
            if directory is not None and version is not None
            else None
        )
        self.values: dict[str, Any] = self._read()

    def _read(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        values = stored.get("values") if isinstance(stored, dict) else None
        return values if isinstance(values, dict) else {}

    def get(self, key: str, compute: Callable[[], Any]) -> Any:
        if key in self.values:
            return self.values[key]
        value = compute()
        self.values[key] = value
        if self.path is not None:
            merged = self._read() | {key: value}
            data = json.dumps({"values": merged}, sort_keys=True).encode()
            file_cache.write_atomically(self.path, data)
        return value


@cache
def _store() -> _HolidayStore:
    return _HolidayStore()


def _package() -> Any:
    import holidays

    return holidays


@cache
def supported_countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes whose public holidays the `holidays` package knows."""
    codes = _store().get("supported", lambda: sorted(_package().list_supported_countries()))
    return frozenset(codes)


@lru_cache(maxsize=4096)
def public_holidays(country: str, year: int) -> frozenset[date]:
    """The country's public holidays in `year` (empty for a country the package does not know
    or a year before its records)."""
    if country not in supported_countries():
        return frozenset()

    def compute() -> list[str]:
        found = _package().country_holidays(country, years=year).keys()
        return sorted(day.isoformat() for day in found)

    days = _store().get(f"days:{country}:{year}", compute)
    return frozenset(date.fromisoformat(day) for day in days)


@cache
def _weekend(country: str) -> frozenset[int]:
    if country not in supported_countries():
        return SATURDAY_SUNDAY

    def compute() -> list[int]:
        return sorted(_package().country_holidays(country).weekend)

    return frozenset(_store().get(f"weekend:{country}", compute)) or SATURDAY_SUNDAY


class Calendar:
    """Weekend, public holidays and closure days of one place. `is_working_day(day)`."""

    def __init__(self, country: str, closures: tuple[Closure, ...] = ()) -> None:
        self.country = country.strip().upper()
        self.supported = self.country in supported_countries()
        self.weekend = _weekend(self.country)
        self.closures = closures
        self._closed: dict[int, frozenset[date]] = {}
        for closure in closures:
            year = self._closed.get(closure.day.year, frozenset())
            self._closed[closure.day.year] = year | {closure.day}
        self._days_off: dict[int, frozenset[date]] = {}

    def __repr__(self) -> str:
        extra = f", {len(self.closures)} closure day(s)" if self.closures else ""
        known = "" if self.supported else ", weekends only"
        return f"Calendar({self.country!r}{known}{extra})"

    def days_off(self, year: int) -> frozenset[date]:
        """Public holidays and closure days of `year` (weekends aside)."""
        days = self._days_off.get(year)
        if days is None:
            days = public_holidays(self.country, year) | self._closed.get(year, frozenset())
            self._days_off[year] = days
        return days

    def is_working_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and day not in self.days_off(day.year)


@cache
def home_calendar(closures_file: Path = CLOSURES_FILE) -> Calendar:
    """Mexico's public holidays and INE's closure days: the calendar every count uses."""
    return Calendar(HOME_COUNTRY, load_closures(closures_file))


@lru_cache(maxsize=512)
def country_calendar(country: str) -> Calendar:
    """Another country's calendar (an EMB's, by its ISO alpha-2 code): its weekend and public
    holidays when the `holidays` package knows it, else Saturdays and Sundays only
    (`supported` is False)."""
    return Calendar(country)


# ------------------------------------------------------------------ the closures file
@cache
def load_closures(path: Path = CLOSURES_FILE) -> tuple[Closure, ...]:
    """INE's closure days from `path`: a mapping with `closures:`, a list of
    `{date, name}` (one day) or `{from, to, name}` (every day of the range, both ends
    included). Raises InvalidClosures naming the file and line of every problem. Kept
    between processes by `config.file_cache` (keyed by the file and the code reading it)."""
    config = Path(file_cache.__file__).resolve().parent
    code = [Path(__file__).resolve(), *sorted(config.glob("yaml_*.py"))]
    return file_cache.cached("closures", [path, *code], lambda: _read_closures(path), tuple)


def _read_closures(path: Path) -> tuple[Closure, ...]:
    try:
        root, problems = parse(read_text(path))
    except ReadRefused as exc:
        raise _invalid(path, exc.problems) from None
    if problems:
        raise _invalid(path, problems)
    reader = _ClosureReader(root)
    days = reader.read()
    if reader.problems:
        raise _invalid(path, reader.problems)
    return days


def _invalid(path: Path, problems: list[ReadProblem]) -> InvalidClosures:
    return InvalidClosures(problems_text(path, problems))


class _ClosureReader(ProblemCollector):
    def read(self) -> tuple[Closure, ...]:
        if not isinstance(self.root, dict) or not isinstance(self.root.get("closures"), list):
            self.problem((), "the file holds 'closures:', a list of closure days")
            return ()
        unknown = sorted(set(self.root) - {"closures"})
        for key in unknown:
            self.problem((key,), f"unknown key '{key}': the file holds only 'closures'")
        out: dict[date, Closure] = {}
        for i, entry in enumerate(self.root["closures"]):
            for closure in self.entry(("closures", i), entry):
                if closure.day in out:
                    self.problem(
                        ("closures", i), f"{closure.day.isoformat()} is listed more than once"
                    )
                out[closure.day] = closure
        return tuple(sorted(out.values(), key=lambda c: c.day))

    def entry(self, at: tuple[Any, ...], entry: Any) -> list[Closure]:
        if not isinstance(entry, dict):
            self.problem(at, "a closure is {date, name} or {from, to, name}")
            return []
        for key in sorted(set(entry) - {"date", "from", "to", "name"}):
            self.problem((*at, key), f"unknown key '{key}' (date, from, to, name)")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problem((*at, "name") if "name" in entry else at, "a closure needs its 'name'")
            name = ""
        if "date" in entry:
            if "from" in entry or "to" in entry:
                self.problem(at, "write either 'date' or 'from' and 'to', not both")
                return []
            day = self.day(at, "date", entry)
            return [Closure(day, name.strip())] if day and name else []
        if "from" not in entry or "to" not in entry:
            self.problem(at, "a closure needs 'date', or 'from' and 'to'")
            return []
        first, last = self.day(at, "from", entry), self.day(at, "to", entry)
        if first is None or last is None or not name:
            return []
        if last < first:
            self.problem((*at, "to"), f"'to' ({last}) is before 'from' ({first})")
            return []
        span = (last - first).days + 1
        if span > MAX_CLOSURE_DAYS:
            self.problem(
                (*at, "to"), f"a closure of {span} days is longer than {MAX_CLOSURE_DAYS} days"
            )
            return []
        return [Closure(first + timedelta(days=n), name.strip()) for n in range(span)]

    def day(self, at: tuple[Any, ...], key: str, entry: dict[str, Any]) -> date | None:
        value = entry.get(key)
        if isinstance(value, str) and ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:  # 2026-02-30
                pass
        self.problem((*at, key), f"'{key}' is a date written YYYY-MM-DD, not {value!r}")
        return None
