"""The language of the pages people without an account reach through a signed link (the final
report form, the status page, the "report received" page, the link's error pages).

These pages speak every language of `i18n.LANGUAGES` (the signed-in interface only
`UI_LANGUAGES`, see web/templating.py). The language is, in order:

1. `?lang=xx` in the address: mail links carry the recipient's correspondence language so;
2. a choice made on the page with the language switcher, remembered in this browser's session
   for that link's pages (a `?lang=` of the address is remembered too, so the pages after a
   form is sent stay in it);
3. the recipient's correspondence language, read from the request (the link names the
   address, the request says which language that address is written to in);
4. the browser's `Accept-Language`, q-values respected;
5. Spanish.

An unknown or malformed `lang` is ignored: the page opens in the next language of the list.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from typing import Any

from fastapi import Request

from i18n import DEFAULT_LANGUAGE, LANGUAGES, direction, negotiate, pick

__all__ = [
    "LANGUAGE_NAMES",
    "QUERY",
    "SESSION_KEY",
    "choose_language",
    "language_choices",
    "public_language",
    "remember",
    "requested",
]

QUERY = "lang"
SESSION_KEY = "link_lang"  # {link key: language}, a few links at most
REMEMBERED = 8  # links whose language one browser remembers (the cookie stays small)
# each language named in itself, as a reader looks for their own
LANGUAGE_NAMES = {
    "es": "Español",
    "en": "English",
    "fr": "Français",
    "pt": "Português",
    "ar": "العربية",
}


def valid(value: object) -> str | None:
    """`value` as a language of the public pages, or None (never an error)."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower()[:8]
    return code if code in LANGUAGES else None


def requested(request: Request) -> str | None:
    """The language the address asks for (`?lang=fr`), if it is one of the pages'."""
    return valid(request.query_params.get(QUERY))


def _link_key(token: str) -> str:
    """A short, fixed-length name of one link for the session (not the token itself)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _chosen(session: MutableMapping[str, Any]) -> dict[str, str]:
    value = session.get(SESSION_KEY)
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and valid(v)}


def remembered(request: Request, token: str) -> str | None:
    return valid(_chosen(request.session).get(_link_key(token)))


def remember(request: Request, token: str, language: str) -> None:
    """Keep `language` for this link's pages in this browser (the latest few links)."""
    if valid(language) is None:
        return
    chosen = _chosen(request.session)
    key = _link_key(token)
    chosen.pop(key, None)
    chosen[key] = language
    request.session[SESSION_KEY] = dict(list(chosen.items())[-REMEMBERED:])


def public_language(request: Request, token: str, correspondence: str | None = None) -> str:
    """The language of one link's page (see the module's docstring), without remembering."""
    return pick(
        requested(request),
        remembered(request, token),
        valid(correspondence),
        available=LANGUAGES,
    ) or negotiate(request.headers.get("accept-language"), LANGUAGES, DEFAULT_LANGUAGE)


def choose_language(request: Request, token: str, correspondence: str | None = None) -> str:
    """The page's language; a `?lang=` of the address is remembered for the link's next
    pages (the one after a form is sent is addressed without it)."""
    asked = requested(request)
    if asked is not None and remembered(request, token) != asked:
        remember(request, token, asked)
    return public_language(request, token, correspondence)


def language_choices(request: Request, current: str) -> list[dict[str, Any]]:
    """The switcher's entries: every language named in itself, with the address of this page
    in it (the token is in the path, so the link is kept)."""
    path = request.url.path
    return [
        {
            "code": code,
            "name": LANGUAGE_NAMES[code],
            "dir": direction(code),
            "href": f"{path}?{QUERY}={code}",
            "current": code == current,
        }
        for code in LANGUAGES
    ]
