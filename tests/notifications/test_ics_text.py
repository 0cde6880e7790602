"""The invitation written as text (the transition's path) is, byte for byte, the one the
icalendar library builds: same escaping, parameter quoting, property order and folding — over
awkward titles, places, names and descriptions (commas, semicolons, quotes, carets,
backslashes, line breaks, right-to-left and astral characters, lines long enough to fold)."""

from __future__ import annotations

import random
import string
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from engine.errors import InvalidData
from notifications.ics import invitation, invitation_by_library

ALPHABET = string.ascii_letters + string.digits + " ,;:'\"\\^\n\r\t.-_/()<>@’éñüأحمد中文😀"
NAMES = [
    "",
    "Karla Méndez",
    "O'Brien, Ann",
    'Ann "The" Boss',
    "a^b",
    "أحمد علي",
    "Zoë; x",
    "Ω" * 40,
]


def _text(rnd: random.Random, longest: int) -> str:
    return "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, longest)))


@pytest.mark.parametrize("seed", range(4))
def test_the_text_invitation_is_the_librarys_byte_for_byte(seed: int) -> None:
    rnd = random.Random(seed)
    for n in range(150):
        name = rnd.choice([*NAMES, _text(rnd, 30).replace("\n", "").replace("\r", "")])
        values = {
            "uid": f"cicie-request-{n}@localhost",
            "sequence": rnd.randint(0, 50),
            "title": _text(rnd, 300),
            "start": date(2026, 1, 1) + timedelta(days=rnd.randint(0, 400)),
            "end": date(2027, 3, 1),
            "location": rnd.choice([None, "", _text(rnd, 300)]),
            "organizer": rnd.choice(["cicie@localhost", "Centro CICIE, INE <cicie@ine.mx>"]),
            "attendee": f"{name} <p{n}@example.org>" if name else f"p{n}@example.org",
            "description": _text(rnd, 500),
            "now": datetime(
                2026,
                1,
                12,
                15,
                0,
                rnd.randint(0, 59),
                rnd.randint(0, 999_999),
                tzinfo=rnd.choice([UTC, timezone(timedelta(hours=-6))]),
            ),
        }
        try:
            expected = invitation_by_library(**values)
        except InvalidData as refused:  # an address neither accepts
            with pytest.raises(type(refused)):
                invitation(**values)
            continue
        assert invitation(**values) == expected, values


def test_both_refuse_an_event_that_ends_before_it_starts() -> None:
    values = {
        "uid": "r-1@localhost",
        "sequence": 0,
        "title": "x",
        "start": date(2026, 6, 2),
        "end": date(2026, 6, 1),
        "location": None,
        "organizer": "cicie@localhost",
        "attendee": "a@example.org",
        "description": "",
        "now": datetime(2026, 1, 1, tzinfo=UTC),
    }
    for build in (invitation, invitation_by_library):
        with pytest.raises(InvalidData):
            build(**values)
