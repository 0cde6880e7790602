"""Dates and times as a person reads them: in their language (Babel's locale data) and in the
centre's time zone, the zone named where a time is shown ("9:00 (Ciudad de México)"), never
an ISO timestamp."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time, get_timezone_location


@cache
def zone_name(zone: str, language: str) -> str:
    """The zone's city in `language`, e.g. "Ciudad de México", "Mexico City", "مكسيكو سيتي"."""
    return str(get_timezone_location(ZoneInfo(zone), locale=language, return_city=True))


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def moment(
    value: datetime | str | None,
    language: str,
    zone: str,
    *,
    fmt: str = "medium",
    with_zone: bool = True,
) -> str:
    """A date and time in `zone`, e.g. "2 dic 2026, 9:00 (Ciudad de México)". `fmt` is a Babel
    width (short, medium, long) or pattern; seconds are left out of the medium width."""
    if value is None or value == "":
        return ""
    local = _aware(value).astimezone(ZoneInfo(zone))
    if fmt == "medium":
        on_day = format_date(local, "medium", locale=language)
        text = f"{on_day} {format_time(local, 'short', locale=language)}"
    else:
        text = format_datetime(local, fmt, tzinfo=ZoneInfo(zone), locale=language)
    return f"{text} ({zone_name(zone, language)})" if with_zone else text


def day(value: date | datetime | str | None, language: str, fmt: str = "long") -> str:
    """A calendar date, e.g. "2 de diciembre de 2026"."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, fmt, locale=language)
