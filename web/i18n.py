"""The web interface's languages: the shared catalogues of `i18n`, and the choice of a page's
language (an explicit choice, the signed-in user's, then the browser's q-weighted wishes)."""

from __future__ import annotations

from i18n import DEFAULT_LANGUAGE, LANGUAGES, UI_LANGUAGES, negotiate, pick, translations

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "UI_LANGUAGES", "pick_language", "translations"]


def pick_language(*candidates: str | None, accept_language: str | None = None) -> str:
    """The first supported language among explicit choices, then the browser's preference."""
    return pick(*candidates, available=UI_LANGUAGES) or negotiate(accept_language, UI_LANGUAGES)
