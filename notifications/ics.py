"""Calendar invitations (RFC 5545 / iTIP) attached to the mails that fix an event's dates.

A request keeps one UID for its event; each new invitation raises SEQUENCE, which calendar
clients treat as an update of the entry they already have rather than a second event.
Events are all-day: CICIE's dates are calendar days in Mexico City, not instants.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event, vCalAddress

from engine.errors import InvalidData
from notifications.headers import clean_header, parse_mailbox

PRODID = "-//INE//CICIE request engine//ES"
MAX_TEXT = 4000


def _calendar_address(raw: str, field: str, role: str | None = None) -> vCalAddress:
    """A `mailto:` calendar address from `addr` or `Name <addr>`, validated like a header."""
    address = parse_mailbox(raw, field=field)
    value = vCalAddress(f"mailto:{address.addr_spec}")
    if address.display_name:
        value.params["CN"] = address.display_name
    if role is not None:
        value.params["ROLE"] = role
        value.params["PARTSTAT"] = "NEEDS-ACTION"
        value.params["RSVP"] = "FALSE"  # nobody reads replies sent to the organizer
    return value


def _text(value: str) -> str:
    """Multi-line text without control characters other than line breaks and tabs."""
    lines = str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = ["".join(c for c in line if c == "\t" or c.isprintable()) for line in lines]
    return "\n".join(kept)[:MAX_TEXT]


def invitation(
    *,
    uid: str,
    sequence: int,
    title: str,
    start: date,
    end: date,
    location: str | None,
    organizer: str,
    attendee: str,
    description: str,
    now: datetime,
) -> bytes:
    """An all-day `METHOD:REQUEST` invitation from `start` to `end` inclusive.

    DTEND is exclusive in iCalendar, so it is `end` + 1 day. `organizer` and `attendee` are
    `addr` or `Name <addr>`; `now` (aware) becomes DTSTAMP in UTC.
    """
    if isinstance(start, datetime) or isinstance(end, datetime):
        raise TypeError("start and end are calendar dates, not datetimes")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    if sequence < 0:
        raise ValueError("sequence must be 0 or more")
    clean_uid = clean_header(uid, 255)
    if not clean_uid or clean_uid != uid:
        raise ValueError("uid must be one non-empty line without control characters")
    if end < start:
        raise InvalidData(
            f"the event ends ({end.isoformat()}) before it starts ({start.isoformat()})",
            [{"field": "event_end", "message": "before the start date"}],
        )

    event = Event()
    event.add("uid", clean_uid)
    event.add("sequence", sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", end + timedelta(days=1))
    event.add("summary", clean_header(title, 250))
    if location:
        event.add("location", clean_header(location, 250))
    event.add("description", _text(description))
    event.add("status", "CONFIRMED")
    event.add("organizer", _calendar_address(organizer, "organizer"))
    event.add("attendee", _calendar_address(attendee, "attendee", role="REQ-PARTICIPANT"))

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "REQUEST")
    calendar.add_component(event)
    return calendar.to_ical()
