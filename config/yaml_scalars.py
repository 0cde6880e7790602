"""One YAML scalar → one plain value, by the YAML 1.2 core schema, with bounds.

PyYAML resolves YAML 1.1: `NO` (Norway) and `yes` become booleans, `2016-02-30` a date that
cannot be built, `1_000` a number. Our files are written by people, so we resolve plain scalars
the 1.2 way — only `true`/`false` are booleans, only `null`/`~`/empty is null, dates stay text —
and refuse what could not be used later: numbers past a bound, over-long text, and any tag but
the core ones (`!!python/name:…` and `!custom` are refused, never constructed).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

CORE = "tag:yaml.org,2002:"
NULLS = frozenset({"", "~", "null", "Null", "NULL"})
BOOLEANS = {
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
}
DECIMAL = re.compile(r"[-+]?[0-9]+")
OCTAL = re.compile(r"0o[0-7]+")
HEXADECIMAL = re.compile(r"0x[0-9a-fA-F]+")
FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
INFINITY = re.compile(r"[-+]?\.(inf|Inf|INF)")
NAN = re.compile(r"\.(nan|NaN|NAN)")
# written as escapes ("\\u0000") they pass the reader, but no database column or mail header
# takes them: refused in every text, keys included
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class ScalarRefused(Exception):
    """A scalar that cannot become a value; the message says why, for the file's author."""


@dataclass(frozen=True)
class ScalarLimits:
    max_int: int = 10**9
    max_chars: int = 20_000


def resolve(value: str, tag: str | None, plain: bool, limits: ScalarLimits) -> Any:
    """The value of a scalar as written (`plain`: unquoted, untagged). Raises ScalarRefused."""
    if len(value) > limits.max_chars:
        raise ScalarRefused(
            f"a text of {len(value):,} characters is longer than the limit of {limits.max_chars:,}"
        )
    check_text(value)
    if tag is None:
        return _plain(value, limits) if plain else value
    if tag == "!" or tag == CORE + "str":
        return value
    kind = tag[len(CORE) :] if tag.startswith(CORE) else None
    if kind in ("null", "bool", "int", "float"):
        resolved = _plain(value, limits)
        if kind == "float" and isinstance(resolved, int) and not isinstance(resolved, bool):
            return float(resolved)
        wanted = {"null": type(None), "bool": bool, "int": int, "float": float}[kind]
        if type(resolved) is wanted:
            return resolved
        raise ScalarRefused(f"{value!r} is not a {kind} as its tag !!{kind} says")
    shown = f"!!{kind}" if kind is not None else tag
    raise ScalarRefused(
        f"the tag {shown} is not allowed: write plain values (text, numbers, true/false)"
    )


def check_text(value: str) -> None:
    """Refuse a control character (or a lone surrogate) a quoted escape put in a text."""
    bad = CONTROL.search(value)
    if bad:
        raise ScalarRefused(
            f"the text contains the control character U+{ord(bad.group()):04X}; remove it"
        )


def _plain(value: str, limits: ScalarLimits) -> Any:
    if value in NULLS:
        return None
    if value in BOOLEANS:
        return BOOLEANS[value]
    if DECIMAL.fullmatch(value):
        return _bounded(value, 10, limits)
    if OCTAL.fullmatch(value):
        return _bounded(value[2:], 8, limits, shown=value)
    if HEXADECIMAL.fullmatch(value):
        return _bounded(value[2:], 16, limits, shown=value)
    if FLOAT.fullmatch(value):
        number = float(value)
        if math.isinf(number) or abs(number) > limits.max_int:
            raise _too_large(value, limits)
        return number
    if INFINITY.fullmatch(value) or NAN.fullmatch(value):
        raise ScalarRefused(f"{value} is not a usable number; write a number or quote the text")
    return value


def _bounded(digits: str, base: int, limits: ScalarLimits, shown: str | None = None) -> int:
    """The integer, refused past ±max_int before Python builds a huge one (or refuses to:
    `int()` raises on more than 4,300 digits)."""
    shown = shown or digits
    body = digits.lstrip("+-").lstrip("0")
    if len(body) > len(format(limits.max_int, "x" if base == 16 else "o" if base == 8 else "d")):
        raise _too_large(shown, limits)
    number = int(digits, base)
    if abs(number) > limits.max_int:
        raise _too_large(shown, limits)
    return number


def _too_large(shown: str, limits: ScalarLimits) -> ScalarRefused:
    text = shown if len(shown) <= 24 else f"{shown[:20]}… ({len(shown):,} characters)"
    return ScalarRefused(f"the number {text} is too large (the limit is ±{limits.max_int:,})")
