"""Business dates: calendar (or working) days in the configured zone, at a configured hour,
stored as UTC. Mexico City has no daylight saving time since 2022-10-30, but dates before that
did (and other zones still do), so days are counted on the local calendar, never as 24 h
multiples. Working days follow `engine.calendars`: Mexico's public holidays, INE's closure days
and, for a reminder addressed to an EMB, that EMB's country's holidays too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.calendars import CLOSURES_FILE, Calendar, country_calendar, home_calendar


@dataclass(frozen=True)
class BusinessTime:
    timezone: str = "America/Mexico_City"
    hour: int = 9  # reminders go out at this local hour
    closures_file: Path = CLOSURES_FILE  # INE's closure days (config/catalogues/)

    def __post_init__(self) -> None:
        home_calendar(self.closures_file)  # a broken closures file stops the start-up here

    @property
    def calendar(self) -> Calendar:
        """Mexico's public holidays and INE's closure days."""
        return home_calendar(self.closures_file)

    def is_working_day(self, day: date, country: str | None = None) -> bool:
        """A working day at INE and, when `country` is given, in that country too."""
        if not self.calendar.is_working_day(day):
            return False
        return country is None or country_calendar(country).is_working_day(day)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def at_hour(self, day: date) -> datetime:
        """`day` at the business hour, local, as UTC."""
        return datetime.combine(day, time(self.hour), tzinfo=self.zone).astimezone(UTC)

    def localize(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def add_days(
        self, day: date, days: int, *, working: bool = False, country: str | None = None
    ) -> date:
        """`days` calendar days after `day` (before it when negative), or `days` working days.

        A working day is one INE works: not a weekend, not a Mexican public holiday (the
        `holidays` package), not one of INE's closure days (`config/catalogues/ine_closures.yaml`).
        With `country` (an EMB's ISO alpha-2 code, for a reminder addressed to that EMB), a day
        counts only when it is also a working day there: its weekend and public holidays are
        skipped too, so the date reached is a working day in Mexico and in that country. A
        country the `holidays` package does not know adds its weekend only
        (`engine.calendars.country_calendar(code).supported` tells). Zero days is `day` itself,
        working or not: the date a timer hangs on is kept as it is."""
        if not working:
            return day + timedelta(days=days)
        return _working_days_from(self, day, days, country)


@lru_cache(maxsize=1 << 16)
def _working_days_from(business: BusinessTime, day: date, days: int, country: str | None) -> date:
    """`BusinessTime.add_days` in working days, kept per (calendar, day, days, country): the
    calendars do not change while the process runs, and a page of 50 requests asks for the
    same few (a programme's lead times from today and from each start date) again and again."""
    step = timedelta(days=1 if days >= 0 else -1)
    remaining = abs(days)
    home = business.calendar
    there = country_calendar(country) if country else None
    while remaining:
        day += step
        if home.is_working_day(day) and (there is None or there.is_working_day(day)):
            remaining -= 1
    return day
