"""Browser sessions, CSRF tokens and the sign-in throttle.

The session is Starlette's signed cookie (`cicie_session`: HttpOnly, SameSite=Lax, Secure
when the site is served over HTTPS) holding only the user's id, a CSRF token and the chosen
language; the user's role is read from the database on every request, so a changed role or a
removed user takes effect at once. Every form carries the session's CSRF token and every
state-changing page route checks it (`checked_form`).
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Callable, MutableMapping
from datetime import datetime, timedelta
from typing import Any

SESSION_COOKIE = "cicie_session"
SESSION_MAX_AGE = 12 * 3600
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


def sign_in(session: MutableMapping[str, Any], user_id: int) -> None:
    """A fresh session for the user: the old CSRF token is not carried over (no fixation)."""
    language = session.get("lang")
    session.clear()
    session["uid"] = user_id
    if language:
        session["lang"] = language
    csrf_token(session)


def sign_out(session: MutableMapping[str, Any]) -> None:
    session.clear()


class SignInThrottle:
    """At most `limit` failed sign-ins per username and per client address in a sliding
    window; past it, sign-in is refused (429) until the window has moved on. Kept in the
    process: each web instance throttles on its own, which bounds a guesser per instance."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        limit: int = 5,
        window: timedelta = timedelta(minutes=15),
    ) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _keys(self, username: str, client: str) -> tuple[str, str]:
        return (f"user:{username.lower()}", f"addr:{client}")

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def _wait(self, username: str, client: str, now: datetime) -> int | None:
        waits = []
        for key in self._keys(username, client):
            times = self._recent(key, now)
            if len(times) >= self.limit:
                waits.append((times[0] + self.window - now).total_seconds())
        return max(1, int(max(waits)) + 1) if waits else None

    def attempt(self, username: str, client: str) -> int | None:
        """Check and count one attempt in one step: seconds to wait (nothing counted), or None
        with the attempt counted as a failure until `succeeded` takes it back. Checking first
        and counting after the password check would let parallel guesses all pass the check."""
        now = self.clock()
        with self._lock:
            wait = self._wait(username, client, now)
            if wait is None:
                for key in self._keys(username, client):
                    self._recent(key, now).append(now)
            return wait

    def succeeded(self, username: str, client: str) -> None:
        """The user's failures are forgotten; the address keeps its earlier failures but not
        the attempt `attempt` counted for this sign-in."""
        user_key, addr_key = self._keys(username, client)
        with self._lock:
            self._failures.pop(user_key, None)
            times = self._failures.get(addr_key)
            if times:
                times.pop()
