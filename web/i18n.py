"""The interface speaks Spanish and English. Templates are written in English and marked for
translation (`{% trans %}`, `_()`); `web/locale/es/LC_MESSAGES/messages.po` is the Spanish
catalogue, read with Babel at start-up (no compiled `.mo` file to keep in step).

Workflow labels (states, triggers, fields) are not here: they come from each workflow file,
which carries them in every language it supports."""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
UI_LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of one interface language; English is the source language."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == "en" or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def pick_language(*candidates: str | None, accept_language: str | None = None) -> str:
    """The first supported language among explicit choices, then the browser's preference."""
    for candidate in candidates:
        if candidate in UI_LANGUAGES:
            return candidate
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in UI_LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE
