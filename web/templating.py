"""Server-rendered pages: one autoescaping Jinja2 environment per interface language, and the
context every page gets (the signed-in user, the CSRF token, the language, flash messages).

Autoescaping is on for every template, so a value typed into any field is shown as text:
nothing in a page is marked safe except markup the server built itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from i18n import LANGUAGES, direction, say, vocabulary
from i18n.formatting import day, moment
from web.i18n import UI_LANGUAGES, pick_language, translations
from web.sessions import csrf_token
from web.work_badge import work_badge

TEMPLATE_DIR = Path(__file__).parent / "templates"


def request_language(request: Request) -> str:
    """The language of a signed-in page, in order:

    1. the signed-in user's choice, stored on the user (/account or the header picker): the
       same on every page and in every browser until they choose again;
    2. this browser's choice with the header picker (kept in the session, also across a
       sign-in: a user who never chose stays in the language of the sign-in page);
    3. the browser's `Accept-Language`, q-values respected (`es;q=0.1, en;q=0.9` is English).
    """
    user = getattr(request.state, "user", None)
    return pick_language(
        user.language if user is not None else None,
        request.session.get("lang"),
        accept_language=request.headers.get("accept-language"),
    )


def gettext_for(request: Request) -> Callable[[str], str]:
    """`gettext` in the page's language. Bind it as `_` or `gettext` at the call site
    (`gettext = gettext_for(request)`) so `make messages` finds the strings."""
    return translations(request_language(request)).gettext


def flash(request: Request, message: str, kind: str = "info") -> None:
    """A message shown once on the next page (after a redirect)."""
    request.session.setdefault("flash", []).append({"kind": kind, "message": message})


class Pages:
    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)
        # every language of the public pages (web/public_language.py); the signed-in pages
        # only ever ask for one of UI_LANGUAGES (request_language)
        self.envs = {language: self._environment(language) for language in LANGUAGES}

    def _environment(self, language: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(TEMPLATE_DIR),
            autoescape=select_autoescape(default=True, default_for_string=True),
            extensions=["jinja2.ext.i18n"],
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
        zone = self.zone.key
        # times in the centre's zone, named ("1 dic 2026 15:40 (Ciudad de México)"); dates
        env.filters["localdt"] = lambda value, fmt="medium", with_zone=True: moment(
            value, language, zone, fmt=fmt, with_zone=with_zone
        )
        env.filters["moment"] = env.filters["localdt"]
        env.filters["localdate"] = lambda value, fmt="medium": day(value, language, fmt)
        env.filters["day"] = env.filters["localdate"]
        env.filters["label"] = lambda value: value.get(language) if value is not None else ""
        # codes as words (i18n.vocabulary): {{ "emb_contacts"|term("recipient") }}
        env.filters["term"] = lambda code, kind: vocabulary.term(kind, code, language)
        env.filters["terms"] = lambda codes, kind: vocabulary.terms(kind, codes, language)
        env.filters["actor"] = lambda value: vocabulary.actor(value, language)
        env.filters["language_name"] = lambda code: vocabulary.language_name(code, language)
        env.filters["humanise"] = vocabulary.humanise
        env.filters["say"] = lambda value: say(value, language)
        return env

    def local_datetime(self, value: datetime | str | None, language: str, fmt: str) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return format_datetime(value, fmt, tzinfo=self.zone, locale=language)

    def local_date(self, value: date | str | None, language: str, fmt: str) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        return format_date(value, fmt, locale=language)

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        language: str | None = None,
    ) -> HTMLResponse:
        """`language`: the public pages' own choice (web/public_language.py); by default the
        signed-in interface's (`request_language`)."""
        language = language if language in self.envs else request_language(request)
        env = self.envs[language]
        page = {
            "request": request,
            "user": getattr(request.state, "user", None),
            "lang": language,
            "dir": direction(language),
            "csrf_token": csrf_token(request.session),
            "flashes": request.session.pop("flash", []),
            "ui_languages": UI_LANGUAGES,
            # the navigation's "Needs my action" count, read only if the page shows it
            "work_badge": partial(work_badge, request),
            **(context or {}),
        }
        body = env.get_template(template).render(page)
        return HTMLResponse(body, status_code=status_code, headers=headers)


def get_pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages
