"""Calendar invitations (RFC 5545 / iTIP) attached to the mails that fix an event's dates.

A request keeps one UID for its event; each new invitation raises SEQUENCE, which calendar
clients treat as an update of the entry they already have rather than a second event.
Events are all-day: CICIE's dates are calendar days in Mexico City, not instants.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from engine.errors import InvalidData
from notifications.headers import clean_header, parse_mailbox

if TYPE_CHECKING:
    from icalendar import vCalAddress

PRODID = "-//INE//CICIE request engine//ES"
MAX_TEXT = 4000


def _calendar_address(raw: str, field: str, role: str | None = None) -> vCalAddress:
    """A `mailto:` calendar address from `addr` or `Name <addr>`, validated like a header."""
    from icalendar import vCalAddress

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


def _check(start: date, end: date, now: datetime, sequence: int, uid: str) -> str:
    """The arguments' checks (both builders): the cleaned UID."""
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
    return clean_uid


def check(
    *, uid: str, sequence: int, start: date, end: date, organizer: str, now: datetime
) -> None:
    """What `invitation` would refuse but for the attendee's address, refused now (the outbox
    writer checks in the transition an invitation that is written when the message is sent)."""
    _check(start, end, now, sequence, uid)
    parse_mailbox(organizer, field="organizer")


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

    Written as text, in a transition's transaction (~20× cheaper than building it with the
    icalendar library), with the library's escaping, parameter quoting, property order and
    line folding: `tests/notifications/test_ics.py` checks that both give the same bytes
    (`invitation_by_library`).
    """
    clean_uid = _check(start, end, now, sequence, uid)
    stamp = now.astimezone(UTC)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{_escape(PRODID)}",
        "CALSCALE:GREGORIAN",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        f"SUMMARY:{_escape(clean_header(title, 250))}",
        f"DTSTART;VALUE=DATE:{start.year:04d}{start.month:02d}{start.day:02d}",
        f"DTEND;VALUE=DATE:{_day(end + timedelta(days=1))}",
        f"DTSTAMP:{stamp.year:04d}{stamp.month:02d}{stamp.day:02d}T"
        f"{stamp.hour:02d}{stamp.minute:02d}{stamp.second:02d}Z",
        f"UID:{_escape(clean_uid)}",
        f"SEQUENCE:{int(sequence)}",
        "ATTENDEE" + _address(attendee, "attendee", role="REQ-PARTICIPANT"),
        f"DESCRIPTION:{_escape(_text(description))}",
    ]
    if location:
        lines.append(f"LOCATION:{_escape(clean_header(location, 250))}")
    lines += [
        "ORGANIZER" + _address(organizer, "organizer"),
        "STATUS:CONFIRMED",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode("utf-8")


def _day(value: date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _escape(text: str) -> str:
    """iCalendar TEXT escaping, in the library's order."""
    return (
        text.replace(r"\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", r"\;")
        .replace(",", r"\,")
        .replace("\r\n", r"\n")
        .replace("\n", r"\n")
        .replace("\r", r"\n")
    )


_RFC6868 = re.compile(r'\^|\r\n|\r|\n|"')
_RFC6868_BY = {"^": "^^", "\n": "^n", "\r": "^n", "\r\n": "^n", '"': "^'"}
_QUOTABLE = re.compile("[,;:\u2019]")


def _cn(value: str) -> str:
    """A CN parameter value: RFC 6868 escapes, quoted when it holds , ; : ’ space or '."""
    escaped = _RFC6868.sub(lambda m: _RFC6868_BY[m.group(0)], value).replace('"', "'")
    if _QUOTABLE.search(escaped) or " " in value or "'" in value:
        return f'"{escaped}"'
    return escaped


def _address(raw: str, field: str, role: str | None = None) -> str:
    """`;PARAMS:mailto:addr` of an ORGANIZER or ATTENDEE (parameters in sorted order)."""
    address = parse_mailbox(raw, field=field)
    params = [""]
    if address.display_name:
        params.append(f"CN={_cn(address.display_name)}")
    if role is not None:
        params += ["PARTSTAT=NEEDS-ACTION", f"ROLE={role}", "RSVP=FALSE"]
    return ";".join(params) + f":mailto:{address.addr_spec}"


def _fold(line: str, limit: int = 75) -> str:
    """RFC 5545 folding as the library does it: under `limit` octets a line, never right
    after a backslash or caret (an escape is not split)."""
    if line.isascii() and len(line) < limit:
        return line
    if line.isascii() and limit > 1:
        return "\r\n ".join(_fold_ascii(line, limit))
    folded: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        code = ord(char)  # its UTF-8 length, without encoding it
        width = 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        if current and size + width >= limit:
            if len(current) > 1 and current[-1] in "\\^":
                kept = current.pop()
                folded.append("".join(current))
                current = [kept]
                size = len(kept.encode("utf-8"))
            else:
                folded.append("".join(current))
                current = []
                size = 0
        current.append(char)
        size += width
    if current:
        folded.append("".join(current))
    return "\r\n ".join(folded)


def _fold_ascii(line: str, limit: int) -> list[str]:
    """`_fold`'s pieces of an ASCII line (a character an octet): `limit` − 1 characters a
    piece (`limit` ≥ 2), one fewer when the piece would end in a backslash or caret."""
    pieces: list[str] = []
    start, size = 0, len(line)
    while size - start > limit - 1:
        end = start + limit - 1
        if end - 1 > start and line[end - 1] in "\\^":  # not a piece of one character
            end -= 1
        pieces.append(line[start:end])
        start = end
    pieces.append(line[start:])
    return pieces


def invitation_by_library(
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
    """`invitation` built with the icalendar library: the reference the text builder is
    checked against (tests), and nothing else."""
    clean_uid = _check(start, end, now, sequence, uid)
    from icalendar import Calendar, Event

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
