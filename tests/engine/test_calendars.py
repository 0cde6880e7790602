"""Working days follow the `holidays` package (Mexico's public holidays, year by year), INE's
own closure days from `config/catalogues/ine_closures.yaml` and, for a reminder addressed to an
EMB, that EMB's country's holidays too. On SQLite and PostgreSQL where an engine is involved."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from config.catalogues import load_catalogues
from config.settings import Settings
from engine.actor import Actor
from engine.business_time import BusinessTime
from engine.calendars import (
    CLOSURES_FILE,
    InvalidClosures,
    country_calendar,
    home_calendar,
    load_closures,
)
from engine.clock import ManualClock
from engine.registry import WorkflowRegistry
from engine.service import Engine
from storage import timers
from storage.db import Database

COORDINATOR = Actor("coordinator", "ana")
THEME = "institutionalisation.electoral_legislation"
LIFECYCLE = Path(__file__).parents[1] / "gallery" / "lifecycle.yaml"
MEXICO = home_calendar()


# ------------------------------------------------------------------ Mexico's public holidays
@pytest.mark.parametrize("year", [2012, 2018])
def test_the_inauguration_on_1_december_is_a_holiday_in_2012_and_2018(year: int) -> None:
    assert not MEXICO.is_working_day(date(year, 12, 1))
    assert date(year, 12, 1) in MEXICO.days_off(year)
    assert date(year, 10, 1) not in MEXICO.days_off(year)


def test_from_2024_the_inauguration_is_on_1_october() -> None:
    assert date(2024, 10, 1) in MEXICO.days_off(2024)
    assert date(2030, 10, 1) in MEXICO.days_off(2030)
    assert date(2024, 12, 1) not in MEXICO.days_off(2024)


def test_before_2006_the_holidays_kept_their_fixed_dates() -> None:
    assert date(2005, 2, 5) in MEXICO.days_off(2005)  # Constitution Day, a Saturday
    assert date(2005, 2, 7) not in MEXICO.days_off(2005)  # not yet the first Monday
    assert date(2005, 3, 21) in MEXICO.days_off(2005)  # Benito Juárez
    assert date(2005, 11, 20) in MEXICO.days_off(2005)  # Revolution Day, a Sunday


def test_from_2006_some_holidays_move_to_a_monday() -> None:
    assert date(2026, 2, 2) in MEXICO.days_off(2026)  # first Monday of February
    assert date(2026, 3, 16) in MEXICO.days_off(2026)  # third Monday of March
    assert not MEXICO.is_working_day(date(2026, 11, 16))  # Revolution Day, third Monday


def test_counting_working_days_skips_weekends_and_mexican_holidays() -> None:
    time = BusinessTime()
    friday = date(2026, 1, 30)
    assert time.add_days(friday, 1, working=True) == date(2026, 2, 3)  # Mon 2 Feb: holiday
    assert time.add_days(date(2026, 2, 3), -1, working=True) == friday
    assert time.add_days(date(2018, 11, 30), 1, working=True) == date(2018, 12, 3)
    assert time.add_days(friday, 3) == date(2026, 2, 2)  # calendar days: no skipping


def test_the_calendar_of_a_year_is_computed_once() -> None:
    assert MEXICO.days_off(2018) is MEXICO.days_off(2018)
    assert isinstance(MEXICO.days_off(2018), frozenset)


# ------------------------------------------------------------------ INE's closure days
def write_closures(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ine_closures.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_ine_closure_day_is_not_a_working_day(tmp_path: Path) -> None:
    path = write_closures(
        tmp_path,
        "closures:\n"
        "  - {date: 2026-06-15, name: Institute anniversary}\n"
        "  - {from: 2026-12-21, to: 2026-12-31, name: End-of-year closure}\n",
    )
    time = BusinessTime(closures_file=path)
    friday = date(2026, 6, 12)
    assert time.add_days(friday, 1, working=True) == date(2026, 6, 16)
    assert BusinessTime().add_days(friday, 1, working=True) == date(2026, 6, 15)
    # the whole end-of-year closure, then New Year's Day, are skipped
    assert time.add_days(date(2026, 12, 18), 1, working=True) == date(2027, 1, 4)


def test_the_shipped_closures_file_reads_and_closes_the_end_of_the_year() -> None:
    closures = load_closures(CLOSURES_FILE)
    assert closures, "the shipped file lists example closure days"
    assert not BusinessTime().is_working_day(date(2026, 12, 22))


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{date: 2026-02-30, name: X}", "'date' is a date written YYYY-MM-DD, not '2026-02-30'"),
        ("{date: 15/06/2026, name: X}", "'date' is a date written YYYY-MM-DD, not '15/06/2026'"),
        ("{from: 2026-12-31, to: 2026-12-21, name: X}", "'to' (2026-12-21) is before 'from'"),
        ("{date: 2026-06-15}", "a closure needs its 'name'"),
        ("{from: 2026-01-01, name: X}", "a closure needs 'date', or 'from' and 'to'"),
        ("{date: 2026-06-15, name: X, until: 2026-06-16}", "unknown key 'until'"),
        ("{from: 2026-01-01, to: 2062-01-01, name: X}", "longer than 366 days"),
    ],
)
def test_a_mistake_in_the_closures_file_names_the_file_and_line(
    tmp_path: Path, entry: str, message: str
) -> None:
    path = write_closures(
        tmp_path, f"# INE\nclosures:\n  - {{date: 2026-06-15, name: Fine}}\n  - {entry}\n"
    )
    with pytest.raises(InvalidClosures) as caught:
        BusinessTime(closures_file=path)
    assert str(caught.value).startswith(f"{path}:4: ")
    assert message in str(caught.value)


def test_a_closures_file_that_is_not_yaml_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write_closures(tmp_path, "closures:\n  - {date: 2026-06-15, name: [X}\n")
    with pytest.raises(InvalidClosures, match=rf"^{path}:2: not valid YAML"):
        load_closures(path)


def test_a_missing_closures_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidClosures, match=r"nowhere\.yaml:1: cannot read the file"):
        load_closures(tmp_path / "nowhere.yaml")


# ------------------------------------------------------------------ an EMB's country
def test_a_count_on_a_brazilian_emb_calendar_skips_tiradentes_too() -> None:
    monday = date(2026, 4, 20)
    time = BusinessTime()
    assert time.add_days(monday, 1, working=True) == date(2026, 4, 21)
    assert time.add_days(monday, 1, working=True, country="BR") == date(2026, 4, 22)
    # and still Mexico's: 16 September is no working day, although Brazil works
    assert time.add_days(date(2026, 9, 15), 1, working=True, country="BR") == date(2026, 9, 17)


def test_a_country_with_a_friday_saturday_weekend_counts_its_own_weekend() -> None:
    saudi = country_calendar("SA")
    assert saudi.supported
    assert not saudi.is_working_day(date(2026, 6, 12))  # a Friday
    assert BusinessTime().add_days(date(2026, 6, 11), 1, working=True, country="SA") == date(
        2026, 6, 15
    )


def test_a_country_the_library_does_not_know_counts_weekends_only() -> None:
    unknown = country_calendar("TA")  # Tristan da Cunha: CLDR knows it, `holidays` does not
    assert unknown.supported is False
    assert "weekends only" in repr(unknown)
    assert unknown.is_working_day(date(2026, 1, 1))
    assert not unknown.is_working_day(date(2026, 1, 3))


# ------------------------------------------------------------------ a reminder to an EMB
REMINDER_TO_THE_EMB = """
timers:
  - id: ask_the_emb
    label: Ask the EMB for its dates
    kind: reminder
    states: [needs_assessment]
    at: {entered: 1}
    working_days: true
    notify:
      - template: reminder
        to: [emb_contacts]
  - id: remind_the_coordinator
    label: Remind the coordinator
    kind: reminder
    states: [needs_assessment]
    at: {entered: 1}
    working_days: true
    notify:
      - template: reminder
        to: [coordinator]
"""


@pytest.fixture
def timed_engine(tmp_path: Path, database_url: str) -> Iterator[Engine]:
    """An engine whose only workflow is the gallery lifecycle with two working-days reminders:
    one to the EMB's contacts, one to the coordinator."""
    folder = tmp_path / "workflows"
    folder.mkdir()
    text = LIFECYCLE.read_text(encoding="utf-8") + REMINDER_TO_THE_EMB
    (folder / "lifecycle.yaml").write_text(text, encoding="utf-8")
    settings = Settings(home=tmp_path / "home", database_url=database_url, environment="test")
    db = Database(settings.resolved_database_url)
    clock = ManualClock(datetime(2026, 4, 20, 16, 0, tzinfo=UTC))  # Monday, 10:00 in CDMX
    catalogues = load_catalogues()
    registry = WorkflowRegistry(catalogues, folder)
    registry.sync(db, clock)
    yield Engine(db, registry, catalogues, clock=clock)
    db.dispose()


@pytest.mark.parametrize(("country", "due"), [("BR", 22), ("HN", 21)])
def test_a_reminder_to_a_brazilian_emb_skips_tiradentes(
    timed_engine: Engine, country: str, due: int
) -> None:
    timed_engine.add_emb(
        code=f"{country}-EMB", name="Electoral body", country=country, language="pt"
    )
    view = timed_engine.create(
        "lifecycle", emb_code=f"{country}-EMB", title="Workshop", actor=COORDINATOR
    )
    timed_engine.advance(
        view.id,
        "accept",
        COORDINATOR,
        data={"requesting_body": "TSE", "themes": [THEME]},
    )
    with timed_engine.db.read() as conn:
        rows = {r.name: r.due_at for r in timers.for_request(conn, view.id)}
    assert rows["ask_the_emb"] == datetime(2026, 4, due, 15, 0, tzinfo=UTC)  # 09:00 in CDMX
    assert rows["remind_the_coordinator"] == datetime(2026, 4, 21, 15, 0, tzinfo=UTC)
