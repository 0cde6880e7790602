"""Header safety: nothing a partner typed can add a header, a line or a second recipient."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidData
from notifications.headers import clean_header, parse_address, parse_mailbox


# ---------------------------------------------------------------- clean_header
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Taller\r\nBcc: evil@x", "Taller Bcc: evil@x"),
        ("Taller\n Bcc: evil@x", "Taller Bcc: evil@x"),
        ("a\x00b\x1bc\x7fd", "a b c d"),
        ("line\u2028break\u2029para\x85nel", "line break para nel"),
        ("  lots   of\t\tspace  ", "lots of space"),
        ("=?UTF-8?Q?=0A?=Bcc: evil@x", "= ?UTF-8?Q?=0A?=Bcc: evil@x"),
        ("==??==??", "== ??== ??"),
        ("admin\u202egnp.exe", "admingnp.exe"),
        ("Taller sobre R&D <b>", "Taller sobre R&D <b>"),
        ("Méndez Zelaya — TSE", "Méndez Zelaya — TSE"),
    ],
)
def test_clean_header_leaves_one_plain_line(raw: str, expected: str) -> None:
    assert clean_header(raw) == expected


def test_clean_header_caps_the_length_with_an_ellipsis() -> None:
    cleaned = clean_header("x" * 500, max_len=50)
    assert len(cleaned) == 50
    assert cleaned.endswith("…")
    assert clean_header("short", max_len=50) == "short"


def test_clean_header_never_leaves_an_encoded_word_opener_behind() -> None:
    assert "=?" not in clean_header("=?=?==??utf-8?b?DQo=?=")


@settings(max_examples=300, deadline=None)
@given(st.text(), st.integers(min_value=1, max_value=300))
def test_clean_header_output_is_always_one_safe_line(raw: str, max_len: int) -> None:
    cleaned = clean_header(raw, max_len)
    assert len(cleaned) <= max_len
    assert "=?" not in cleaned
    assert not any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in cleaned)
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned


# ---------------------------------------------------------------- parse_address
@pytest.mark.parametrize(
    "raw",
    [
        "karla.mendez@example.org",
        "cicie@localhost",
        "o'brien+cicie@mail.example.co.uk",
        "x@a-b.example",
    ],
)
def test_parse_address_accepts_one_plain_address(raw: str) -> None:
    address = parse_address(raw, "Karla Méndez")
    assert address.addr_spec == raw
    assert address.display_name == "Karla Méndez"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("a@x.org, evil@y.org", "whitespace"),
        ("a@x.org,evil@y.org", "comma"),
        ("a@x.org;evil@y.org", "semicolon"),
        ("Evil <evil@y.org>", "whitespace"),
        ("<evil@y.org>", "angle bracket"),
        ('"a b"@x.org', "whitespace"),
        ('"ab"@x.org', "quote"),
        ("a@x.org\r\nBcc: evil@y.org", "control character"),
        ("a@x.org\n", "control character"),
        ("a@b@x.org", "exactly one '@'"),
        ("ax.org", "exactly one '@'"),
        ("=?utf-8?q?=0a?=@x.org", "encoded-word"),
        ("a@", "domain"),
        ("@x.org", "local part"),
        (".a@x.org", "local part"),
        ("a..b@x.org", "local part"),
        ("a@-x.org", "domain"),
        ("a@x..org", "domain"),
        ("a@[127.0.0.1]", "domain"),
        ("", "empty"),
        ("a" * 250 + "@x.org", "longer than 254"),
        ("a" * 65 + "@x.org", "local part"),
    ],
)
def test_parse_address_refuses_anything_but_one_addr_spec(raw: str, reason: str) -> None:
    with pytest.raises(InvalidData) as caught:
        parse_address(raw, field="contact_email")
    assert reason in caught.value.message
    assert caught.value.details == [
        {"field": "contact_email", "message": caught.value.details[0]["message"]}
    ]
    assert "\n" not in caught.value.message


def test_parse_address_cleans_the_display_name() -> None:
    address = parse_address("k@example.org", "Karla\r\nBcc: evil@x =?UTF-8?Q?=0A?=")
    assert address.display_name == "Karla Bcc: evil@x = ?UTF-8?Q?=0A?="


def test_a_display_name_with_a_comma_is_quoted_not_split() -> None:
    address = parse_address("k@example.org", "Méndez, Karla")
    assert str(address) == '"Méndez, Karla" <k@example.org>'


# ---------------------------------------------------------------- parse_mailbox
@pytest.mark.parametrize(
    ("raw", "name", "addr"),
    [
        ("CICIE <cicie@localhost>", "CICIE", "cicie@localhost"),
        ("cicie@localhost", "", "cicie@localhost"),
        ('"CICIE, INE" <cicie@ine.example>', "CICIE, INE", "cicie@ine.example"),
        ("  CICIE — INE   <cicie@ine.example>  ", "CICIE — INE", "cicie@ine.example"),
    ],
)
def test_parse_mailbox_reads_a_name_and_one_address(raw: str, name: str, addr: str) -> None:
    mailbox = parse_mailbox(raw)
    assert (mailbox.display_name, mailbox.addr_spec) == (name, addr)


@pytest.mark.parametrize(
    "raw",
    [
        "CICIE <cicie@localhost>, Evil <evil@y.org>",
        "CICIE <cicie@localhost> <evil@y.org>",
        "CICIE <cicie@localhost, evil@y.org>",
        "CICIE <>",
    ],
)
def test_parse_mailbox_refuses_several_addresses(raw: str) -> None:
    with pytest.raises(InvalidData):
        parse_mailbox(raw, field="mail_from")
