"""Every sentence a person reads, in their language: one gettext catalogue per language.

English is the source language: the msgids are the English sentences, so English needs no
catalogue. `i18n/locale/<lang>/LC_MESSAGES/messages.po` holds each other language, read with
Babel at start-up (no compiled `.mo` to keep in step). While a piece of work is in progress,
`i18n/fragments/<area>/<lang>.po` files are read after the catalogue and fill what it lacks;
`make messages` folds them into the catalogue.

The web interface speaks `UI_LANGUAGES`; what reaches people outside INE (mail, the public
report form and status page) speaks every language of `LANGUAGES`. Arabic is written right to
left (`direction`).
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable, Mapping
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.lists import format_list
from babel.support import Translations

from config import file_cache

if TYPE_CHECKING:  # Babel's catalogue tools: only to compile a catalogue (see `translations`)
    from babel.messages.catalog import Catalog

HERE = Path(__file__).parent
LOCALE_DIR = HERE / "locale"
FRAGMENT_DIR = HERE / "fragments"
SOURCE_LANGUAGE = "en"
LANGUAGES = ("es", "en", "fr", "pt", "ar")  # mail and public pages
UI_LANGUAGES = ("es", "en", "fr")  # the signed-in web interface and the CLI
DEFAULT_LANGUAGE = "es"
RTL_LANGUAGES = frozenset({"ar"})


def catalogue_files(language: str) -> list[Path]:
    """The catalogue of `language`, then the fragments that complete it (in name order)."""
    files = [LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"]
    files += sorted(FRAGMENT_DIR.glob(f"*/{language}.po"))
    return [f for f in files if f.exists()]


def read_catalogue(language: str) -> Catalog:
    """The catalogue and its fragments as one Babel catalogue: the first translation wins."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    merged = Catalog(locale=language)
    for path in catalogue_files(language):
        with path.open("rb") as fp:
            part = read_po(fp, locale=language)
        for message in part:
            if not message.id or message.fuzzy:
                continue
            current = merged.get(message.id, message.context)
            if current is None or not _has_text(current.string):
                if current is not None:  # Babel keeps an existing entry's text on assignment
                    merged.delete(message.id, message.context)
                merged[message.id] = message
    return merged


def _has_text(string: Any) -> bool:
    if isinstance(string, tuple | list):
        return all(string)
    return bool(string)


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The translations of one language; English (the source) and unknown ones translate to
    the English text itself. The catalogue compiled from its files is kept between processes
    when a cache folder is in use (`config.file_cache`: `cicie request show`), keyed by the
    files and this code."""
    if language == SOURCE_LANGUAGE or language not in LANGUAGES:
        return gettext.NullTranslations()
    files = [*catalogue_files(language), Path(__file__).resolve()]
    compiled = file_cache.cached(f"messages-{language}", files, lambda: _mo(language), bytes)
    return Translations(BytesIO(compiled))


def _mo(language: str) -> bytes:
    """The catalogue of `language` (with its fragments) compiled to gettext's binary form."""
    from babel.messages.mofile import write_mo

    buffer = BytesIO()
    write_mo(buffer, read_catalogue(language))
    return buffer.getvalue()


def gettext_in(language: str, msgid: str, /, **params: Any) -> str:
    """`msgid` in `language`, with its %(name)s parameters said in that language too."""
    text = translations(language).gettext(msgid)
    return text % {k: say(v, language) for k, v in params.items()} if params else text


def pgettext_in(language: str, context: str, msgid: str) -> str:
    return translations(language).pgettext(context, msgid)


def has_translation(language: str, msgid: str, context: str | None = None) -> bool:
    """Whether the catalogue of `language` really translates `msgid` (English always does)."""
    if language == SOURCE_LANGUAGE:
        return True
    if language not in LANGUAGES:
        return False
    message = read_catalogue_cached(language).get(msgid, context)
    return message is not None and _has_text(message.string)


@cache
def read_catalogue_cached(language: str) -> Catalog:
    return read_catalogue(language)


class Text:
    """A sentence to be said later, in its reader's language: the English msgid and its
    parameters. Domain code (guards, validation, the engine) returns these instead of English
    strings; the edge (page, mail, CLI, API) says them with `say(text, language)`.

    `Text` is a gettext keyword for extraction (`make messages`), like `_`."""

    __slots__ = ("context", "msgid", "params")

    def __init__(self, msgid: str, /, *, context: str | None = None, **params: Any) -> None:
        self.msgid = msgid
        self.params = params
        self.context = context

    def say(self, language: str) -> str:
        tr = translations(language)
        text = tr.pgettext(self.context, self.msgid) if self.context else tr.gettext(self.msgid)
        if not self.params:
            return text
        return text % {k: say(v, language) for k, v in self.params.items()}

    def __str__(self) -> str:  # English, for logs and exceptions
        return self.say(SOURCE_LANGUAGE)

    def __repr__(self) -> str:
        return f"Text({self.msgid!r}, {self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and (self.msgid, self.context, self.params) == (
            other.msgid,
            other.context,
            other.params,
        )

    def __hash__(self) -> int:
        return hash((self.msgid, self.context))


def say(value: Any, language: str) -> str:
    """Any value as a person reads it in `language`: a `Text` said, a label (anything with
    `.get(language)`) picked, a list joined the way the language joins lists, numbers as is."""
    if isinstance(value, Text):
        return value.say(language)
    if isinstance(value, str):
        return value
    getter = getattr(value, "get", None)
    if callable(getter) and not isinstance(value, Mapping):
        return str(getter(language))
    if isinstance(value, list | tuple):
        parts = [say(v, language) for v in value]
        return format_list(parts, locale=language) if parts else ""
    return str(value)


def direction(language: str) -> str:
    """ "rtl" for languages written right to left, else "ltr"."""
    return "rtl" if language in RTL_LANGUAGES else "ltr"


def negotiate(
    accept_language: str | None, available: Iterable[str], default: str = DEFAULT_LANGUAGE
) -> str:
    """The best of `available` for an `Accept-Language` header, q-values respected (RFC 9110:
    higher q first, ties in header order, q=0 means "not this one"); `default` when none fits.
    Bounded: at most 50 entries of a header are read."""
    offered = list(available)
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "")[:2000].split(",")[:50]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
                if not 0.0 <= quality <= 1.0:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag))
    for _, _, tag in sorted(ranked):
        if tag == "*":
            return default if default in offered else offered[0]
        primary = tag.split("-")[0].split("_")[0]
        if primary in offered:
            return primary
    return default


def pick(*candidates: str | None, available: Iterable[str] = UI_LANGUAGES) -> str | None:
    """The first candidate that is one of `available`."""
    offered = tuple(available)
    for candidate in candidates:
        if candidate in offered:
            return candidate
    return None
