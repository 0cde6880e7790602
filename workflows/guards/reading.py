"""How a guard reads a request's data: never raising on a missing or ill-typed value, and
naming what it found in words a coordinator can act on. Shared by every programme's guards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def text(value: Any) -> str:
    """A non-blank string, stripped; anything else is ''."""
    return value.strip() if isinstance(value, str) else ""


def quoted(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else repr(value)


def items(value: Any) -> list[Any] | None:
    """A list (or tuple) as a list; None when the value is missing or not a list."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return None


def choices(value: Any) -> list[Any]:
    """One choice or a list of choices."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    return items(value) or []


def count(n: int, noun: str) -> str:
    """'1 speaker', '2 speakers', 'no speaker'."""
    if n == 0:
        return f"no {noun}"
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def one_of(labels: Mapping[str, str]) -> str:
    return "; ".join(labels.values())


def item_name(kind: str, index: int, item: Any, key: str) -> str:
    """'Agenda session 2 'Voter registry'' — 1-based, with the title when there is one."""
    title = text(item.get(key)) if isinstance(item, Mapping) else ""
    return f"{kind} {index} '{title}'" if title else f"{kind} {index}"


def parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def choice_problems(
    value: Any, allowed: Mapping[str, str], what: str, field: str, at_least_one: str
) -> list[str]:
    chosen = choices(value)
    if not chosen:
        return [f"No {what} has been recorded ({field}); {at_least_one}: {one_of(allowed)}."]
    return [
        f"{quoted(c)} is not a valid {what} ({field}); use one of: {', '.join(allowed)}."
        for c in chosen
        if not isinstance(c, str) or c not in allowed
    ]
