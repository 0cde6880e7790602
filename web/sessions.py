"""Browser sessions and CSRF tokens (the sign-in throttle is web/throttle.py).

The session is Starlette's signed cookie (`cicie_session`: HttpOnly, SameSite=Lax, Secure
when the site is served over HTTPS) holding only a random session id, a CSRF token and the
chosen language. The server keeps the session as a row (`engine.accounts`, keyed by the id's
SHA-256) and checks it with the user on every request, so logging out, a new password,
disabling the user or "sign out everywhere" ends it even for a copy of the cookie, and a
changed role takes effect at once. Every form carries the session's CSRF token and every
state-changing page route checks it (`checked_form`).
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from typing import Any

from engine.account_views import SESSION_LIFETIME

SESSION_COOKIE = "cicie_session"
SESSION_MAX_AGE = int(SESSION_LIFETIME.total_seconds())  # the cookie lives as long as its row
CSRF_FIELD = "csrf_token"


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token, made on first need."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_matches(session: MutableMapping[str, Any], submitted: object) -> bool:
    expected = session.get("csrf")
    return (
        isinstance(expected, str)
        and isinstance(submitted, str)
        and secrets.compare_digest(expected.encode(), submitted.encode())
    )


def sign_in(session: MutableMapping[str, Any], session_id: str) -> None:
    """The cookie of a fresh server-side session (`Accounts.open_session`): nothing of the
    old cookie but the language is carried over, not even its CSRF token (no fixation)."""
    language = session.get("lang")
    session.clear()
    session["sid"] = session_id
    if language:
        session["lang"] = language
    csrf_token(session)


def session_id_of(session: MutableMapping[str, Any]) -> str | None:
    """The server-side session the cookie names, if any."""
    session_id = session.get("sid")
    return session_id if isinstance(session_id, str) and session_id else None


def sign_out(session: MutableMapping[str, Any]) -> None:
    """Forget the session in this browser (the caller ends its row); the language stays."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
