"""Header safety: every value that reaches an e-mail header passes through here.

CPython 3.11.7 (CVE-2024-6923) decodes RFC 2047 encoded-words while parsing a header value
and then writes the decoded text out raw, so `=?UTF-8?Q?=0A?=Bcc: x` in a subject becomes a
real `Bcc:` header; and `msg["To"] = "a@x, evil@y"` silently makes two recipients. So we
neutralise control characters and encoded-word openers ourselves, and build each address as
an `Address` from exactly one validated addr-spec.
"""

from __future__ import annotations

import re
from email.headerregistry import Address

from engine.errors import InvalidData

ELLIPSIS = "…"
MAX_ADDRESS = 254
MAX_LOCAL_PART = 64

# bidi embeddings, overrides and isolates can make a header read differently from what it is
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Unicode's Cc (C0/C1 controls incl. CR, LF, NUL, NEL), Zl (U+2028) and Zp (U+2029), as one
# character class: a regex pass instead of a category lookup per character
# (tests/notifications/test_render.py checks it against unicodedata for every code point)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BIDI = re.compile("[" + "".join(sorted(_BIDI_CONTROLS)) + "]")
_BIDI_OR_CONTROL = re.compile(_CONTROL.pattern[:-1] + "".join(sorted(_BIDI_CONTROLS)) + "]")
_WHITESPACE = re.compile(r"\s+")
_SPACE = re.compile(r"\s")
# RFC 5322 atext, without the quoted forms; dot-atom rules are checked separately
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_MAILBOX = re.compile(r"(?P<name>[^<>]*)<(?P<addr>[^<>]*)>")


def clean_header(value: str, max_len: int = 200) -> str:
    """One safe line: no control characters, no encoded-word opener, collapsed whitespace.

    Control characters become spaces (so `a\\r\\nb` reads `a b`, not `ab`) and bidi
    overrides are dropped; `=?` becomes `= ?`, which no decoder takes for the start of an
    encoded-word; the result is at most `max_len` characters, ending in "…" when cut.
    """
    if max_len < 1:
        raise ValueError("max_len must be at least 1")
    text = _CONTROL.sub(" ", _BIDI.sub("", str(value)))
    # "= ?" cannot form a new "=?" with its neighbours, so one pass is enough
    text = _WHITESPACE.sub(" ", text).strip().replace("=?", "= ?")
    if len(text) > max_len:
        text = text[: max_len - 1].rstrip() + ELLIPSIS
    return text


def _problem(field: str, raw: str, reason: str) -> InvalidData:
    shown = clean_header(raw, 80)
    return InvalidData(
        f"'{shown}' is not a single valid e-mail address: {reason}",
        [{"field": field, "message": f"not a single valid e-mail address ({reason})"}],
    )


def _address_problem(raw: str) -> str | None:
    """Why `raw` is not exactly one plain addr-spec, or None when it is one."""
    if not raw:
        return "empty"
    if len(raw) > MAX_ADDRESS:
        return f"longer than {MAX_ADDRESS} characters"
    if _BIDI_OR_CONTROL.search(raw):
        return "contains a control character or line break"
    if _SPACE.search(raw):  # \s is str.isspace(): Unicode whitespace
        return "contains whitespace"
    for char, what in ((",", "a comma"), (";", "a semicolon"), ('"', "a quote")):
        if char in raw:
            return f"contains {what}"
    if "<" in raw or ">" in raw:
        return "contains an angle bracket"
    if "=?" in raw:
        return "contains an encoded-word opener '=?'"
    if raw.count("@") != 1:
        return "needs exactly one '@'"
    local, domain = raw.split("@")
    if not local or len(local) > MAX_LOCAL_PART or not _LOCAL_PART.fullmatch(local):
        return "the part before '@' is not a plain local part"
    labels = domain.split(".")
    if not domain or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        return "the part after '@' is not a domain name"
    return None


def address_problem(raw: object) -> str | None:
    """Why `raw` cannot be a recipient's address (None when it can): for messages that name
    where the address came from (notifications/recipients.py) rather than `parse_address`'s."""
    if not isinstance(raw, str):
        return "not text"
    return _address_problem(raw)


def parse_address(raw: str, display_name: str = "", *, field: str = "address") -> Address:
    """Exactly one addr-spec (`user@example.org`) as an `Address`, or `InvalidData`.

    Refuses anything that could name a second recipient or smuggle a header: commas,
    semicolons, angle brackets, quotes, whitespace, line breaks, several `@`. Single-label
    domains (`cicie@localhost`) are accepted for development mail catchers. `field` names the
    data field in the error's details.
    """
    if not isinstance(raw, str):
        raise _problem(field, repr(raw), "not text")
    reason = _address_problem(raw)
    if reason is not None:
        raise _problem(field, raw, reason)
    local, domain = raw.split("@")
    return Address(display_name=clean_header(display_name), username=local, domain=domain)


def parse_mailbox(raw: str, *, field: str = "address") -> Address:
    """`Name <user@example.org>` or a bare `user@example.org` (e.g. `CICIE_MAIL_FROM`).

    The name is cleaned with `clean_header`; the address must pass `parse_address`.
    """
    if not isinstance(raw, str):
        raise _problem(field, repr(raw), "not text")
    text = raw.strip()
    match = _MAILBOX.fullmatch(text)
    if match is None:
        return parse_address(text, field=field)
    name = match.group("name").strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return parse_address(match.group("addr"), name, field=field)
