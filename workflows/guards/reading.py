"""How a guard reads a request's data: never raising on a missing or ill-typed value, and
naming what it found in words a coordinator can act on (`i18n.Text`, said later in the reader's
language; lists of choices joined with "or", dates written the reader's way). Shared by every
programme's guards."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.lists import format_list
from pydantic import BaseModel, ConfigDict

from i18n import Text, say
from i18n.formatting import day


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def text(value: Any) -> str:
    """A non-blank string, stripped; anything else is ''."""
    return value.strip() if isinstance(value, str) else ""


def quoted(value: Any) -> str:
    """A value a person typed, quoted as found (not translated)."""
    return f"“{value}”" if isinstance(value, str) else repr(value)


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


def partner_codes(data: Mapping[str, Any], field: str, legacy: str | None = None) -> list[Any]:
    """The partner codes of a list field (`co_organisers`), read the way it may be stored: a
    list, a single code (a one-item list), or — for requests recorded before the list — the
    single code of the `legacy` field (`partner_institution`). Entries are kept as found (a
    guard names an ill-typed one)."""
    value = data.get(field)
    if legacy and (value is None or value == "" or value == []):
        value = data.get(legacy)
    return choices(value)


class Either:
    """Choices said as a list with "or" in the reader's language ("a, b or c")."""

    def __init__(self, choices: Sequence[Any]) -> None:
        self.choices = list(choices)

    def get(self, language: str) -> str:
        parts = [say(c, language) for c in self.choices]
        try:
            return format_list(parts, style="or", locale=language) if parts else ""
        except ValueError:  # pragma: no cover - a locale without an "or" pattern
            return ", ".join(parts)


class Listed:
    """Items said one after the other, separated by semicolons (for items that themselves
    contain commas, such as cost categories)."""

    def __init__(self, items: Sequence[Any]) -> None:
        self.items = list(items)

    def get(self, language: str) -> str:
        return "; ".join(say(i, language) for i in self.items)


class Day:
    """A calendar date said the way the reader's language writes dates."""

    def __init__(self, value: date) -> None:
        self.value = value

    def get(self, language: str) -> str:
        return day(self.value, language)


class Country:
    """An ISO 3166-1 alpha-2 code said as the country's name in the reader's language."""

    def __init__(self, code: str) -> None:
        self.code = code

    def get(self, language: str) -> str:
        try:
            names = Locale.parse(language).territories
        except (ValueError, UnknownLocaleError):  # pragma: no cover - every LANGUAGES is known
            return self.code
        return str(names.get(self.code.upper(), self.code))


def item_name(kind: str, index: int, item: Any, key: str) -> Text:
    """'Agenda session 2 “Voter registry”' — 1-based, with the title when there is one.
    `kind` is "session" or "participant"."""
    title = text(item.get(key)) if isinstance(item, Mapping) else ""
    if kind == "participant":
        if title:
            return Text("Participant %(number)s “%(title)s”", number=index, title=title)
        return Text("Participant %(number)s", number=index)
    if title:
        return Text("Agenda session %(number)s “%(title)s”", number=index, title=title)
    return Text("Agenda session %(number)s", number=index)


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
    value: Any, allowed: Mapping[str, Any], field: Any, missing: Callable[..., Text]
) -> list[Text]:
    """What is wrong with one or several choices among `allowed` (code → label): none made
    (`missing(field=…, choices=…)` says what to choose from), or one not among them."""
    chosen = choices(value)
    options = Either(list(allowed.values()))
    if not chosen:
        return [missing(field=field, choices=options)]
    return [
        Text(
            "%(value)s is not a valid choice for “%(field)s”; choose %(choices)s.",
            value=quoted(c),
            field=field,
            choices=options,
        )
        for c in chosen
        if not isinstance(c, str) or c not in allowed
    ]
