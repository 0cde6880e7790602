"""Business dates: calendar (or working) days in the configured zone, at a configured hour,
stored as UTC. Mexico City has no daylight saving time since 2022-10-30, but dates before that
did (and other zones still do), so days are counted on the local calendar, never as 24 h
multiples."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo


def _nth_monday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    offset = (7 - first.weekday()) % 7  # days to the first Monday
    return first + timedelta(days=offset + 7 * (n - 1))


@cache
def mexican_holidays(year: int) -> frozenset[date]:
    """Mandatory rest days (Ley Federal del Trabajo, art. 74)."""
    days = {
        date(year, 1, 1),
        _nth_monday(year, 2, 1),  # Constitution Day
        _nth_monday(year, 3, 3),  # Benito Juárez
        date(year, 5, 1),
        date(year, 9, 16),
        _nth_monday(year, 11, 3),  # Revolution Day
        date(year, 12, 25),
    }
    if (year - 2024) % 6 == 0:  # transfer of the federal executive power
        days.add(date(year, 10, 1))
    return frozenset(days)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in mexican_holidays(day.year)


@dataclass(frozen=True)
class BusinessTime:
    timezone: str = "America/Mexico_City"
    hour: int = 9  # reminders go out at this local hour

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def at_hour(self, day: date) -> datetime:
        """`day` at the business hour, local, as UTC."""
        return datetime.combine(day, time(self.hour), tzinfo=self.zone).astimezone(UTC)

    def localize(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    @staticmethod
    def add_days(day: date, days: int, *, working: bool = False) -> date:
        """Calendar days, or working days (weekends and Mexican holidays skipped)."""
        if not working:
            return day + timedelta(days=days)
        step = 1 if days >= 0 else -1
        remaining = abs(days)
        while remaining:
            day += timedelta(days=step)
            if is_working_day(day):
                remaining -= 1
        return day
