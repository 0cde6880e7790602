"""Calendar invitations: all-day, updatable (same UID, higher SEQUENCE), and injection-proof."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from icalendar import Calendar

from engine.errors import InvalidData
from notifications.ics import invitation

NOW = datetime(2016, 4, 20, 16, 30, tzinfo=UTC)


def _invite(**overrides: Any) -> bytes:
    values: dict[str, Any] = {
        "uid": "request-42@cicie.localhost",
        "sequence": 0,
        "title": "Taller Internacional — TSE Honduras",
        "start": date(2016, 6, 6),
        "end": date(2016, 6, 10),
        "location": "INE, Viaducto Tlalpan 100, Arenal Tepepan, Ciudad de México",
        "organizer": "CICIE <cicie@localhost>",
        "attendee": "Karla Méndez Zelaya <karla.mendez@example.org>",
        "description": "Sesiones:\n1. Censo electoral\n2. PREP",
        "now": NOW,
    }
    values.update(overrides)
    return invitation(**values)


def _event(data: bytes) -> Any:
    calendar = Calendar.from_ical(data)
    assert calendar["METHOD"] == "REQUEST"
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def test_an_invitation_is_an_all_day_request_with_an_exclusive_end() -> None:
    event = _event(_invite())
    assert str(event["UID"]) == "request-42@cicie.localhost"
    assert int(event["SEQUENCE"]) == 0
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert type(start) is date
    assert type(end) is date
    assert (start, end) == (date(2016, 6, 6), date(2016, 6, 11))
    assert event.decoded("DTSTAMP") == NOW
    assert str(event["ORGANIZER"]) == "mailto:cicie@localhost"
    assert event["ORGANIZER"].params["CN"] == "CICIE"
    assert str(event["ATTENDEE"]) == "mailto:karla.mendez@example.org"
    assert event["ATTENDEE"].params["CN"] == "Karla Méndez Zelaya"
    assert str(event["SUMMARY"]) == "Taller Internacional — TSE Honduras"
    assert str(event["DESCRIPTION"]) == "Sesiones:\n1. Censo electoral\n2. PREP"
    assert "Viaducto Tlalpan" in str(event["LOCATION"])


def test_a_one_day_event_ends_the_next_day() -> None:
    event = _event(_invite(start=date(2016, 10, 5), end=date(2016, 10, 5)))
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(days=1)


def test_a_new_date_keeps_the_uid_and_raises_the_sequence() -> None:
    first = _event(_invite(sequence=0))
    moved = _event(_invite(sequence=1, start=date(2016, 6, 13), end=date(2016, 6, 17)))
    assert str(first["UID"]) == str(moved["UID"])
    assert int(moved["SEQUENCE"]) > int(first["SEQUENCE"])
    assert moved.decoded("DTSTART") == date(2016, 6, 13)


def test_dtstamp_is_written_in_utc() -> None:
    mexico = timezone(timedelta(hours=-6))
    event = _event(_invite(now=datetime(2016, 4, 20, 10, 30, tzinfo=mexico)))
    assert event.decoded("DTSTAMP") == NOW
    assert b"DTSTAMP:20160420T163000Z" in _invite(now=NOW)


def test_the_location_is_optional() -> None:
    assert "LOCATION" not in _event(_invite(location=None))


def test_a_hostile_title_cannot_add_a_calendar_property() -> None:
    data = _invite(
        title="Taller\r\nATTENDEE:mailto:evil@x.org\r\nEND:VEVENT",
        location="Sede\nMETHOD:CANCEL",
        description="ok\r\nATTENDEE:mailto:evil@x.org",
    )
    event = _event(data)
    assert str(event["ATTENDEE"]) == "mailto:karla.mendez@example.org"
    lines = data.decode().split("\r\n")
    assert not any(line.startswith("ATTENDEE:mailto:evil") for line in lines)
    assert lines.count("END:VEVENT") == 1
    assert Calendar.from_ical(data)["METHOD"] == "REQUEST"


def test_an_attendee_must_be_one_valid_address() -> None:
    with pytest.raises(InvalidData) as caught:
        _invite(attendee="a@x.org, evil@y.org")
    assert caught.value.details[0]["field"] == "attendee"


def test_an_event_cannot_end_before_it_starts() -> None:
    with pytest.raises(InvalidData) as caught:
        _invite(start=date(2016, 6, 10), end=date(2016, 6, 6))
    assert caught.value.details[0]["field"] == "event_end"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"now": datetime(2016, 4, 20, 16, 30)}, ValueError),
        ({"sequence": -1}, ValueError),
        ({"uid": "a\r\nb@x"}, ValueError),
        ({"uid": ""}, ValueError),
        ({"start": datetime(2016, 6, 6, 9, tzinfo=UTC)}, TypeError),
    ],
)
def test_programming_errors_are_refused(overrides: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        _invite(**overrides)
