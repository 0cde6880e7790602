"""What the account operations show and check: roles, limits, the views of users and
tokens, and the validation rules, kept apart from `engine.accounts` (the operations)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.users import TokenRow, UserRow

USER_ROLES = ("admin", "coordinator", "viewer")
LANGUAGES = ("es", "en", "fr", "pt", "ar", "ru")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 hashes anything, but nobody needs more and it bounds the work
MAX_LABEL = 120
DEMO_USERS = ("admin", "coordinator", "viewer")
SESSION_LIFETIME = timedelta(hours=12)  # without use; the cookie's max-age is the same
TOKEN_DAYS = 90  # a new token's default lifetime, and that of tokens issued before expiries
MAX_TOKEN_DAYS = 3650
TOUCH_EVERY = timedelta(minutes=1)  # last_seen / last_used: at most one write a minute
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,80}")


def iso_time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


@dataclass(frozen=True)
class UserView:
    """Who is signed in (or calling the API): what a role check and a page need."""

    id: int
    username: str
    role: str
    language: str | None  # the interface language they chose; None: not chosen yet

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "role": self.role,
            "language": self.language,
        }


@dataclass(frozen=True)
class AccountView:
    """An account as an administrator manages it."""

    id: int
    username: str
    role: str
    language: str | None
    active: bool
    created_at: datetime
    last_login: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "role": self.role,
            "active": self.active,
            "created_at": iso_time(self.created_at),
            "last_login": iso_time(self.last_login),
        }


@dataclass(frozen=True)
class TokenView:
    """An API token as its owner's administrator sees it (never the token itself)."""

    id: int
    label: str
    created_at: datetime
    expires_at: datetime
    last_used: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": iso_time(self.created_at),
            "expires_at": iso_time(self.expires_at),
            "last_used": iso_time(self.last_used),
        }


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: shown once, then only its digest is kept (kept out of repr so a
    log line or a traceback never shows it)."""

    id: int
    username: str
    token: str = field(repr=False)
    expires_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "token": self.token,
            "expires_at": iso_time(self.expires_at),
        }


def user_view(row: UserRow) -> UserView:
    return UserView(row.id, row.username, row.role, row.language or None)


def account_view(row: UserRow) -> AccountView:
    return AccountView(
        row.id,
        row.username,
        row.role,
        row.language or None,  # stored as "" while not chosen
        row.active,
        row.created_at,
        row.last_login,
    )


def token_expiry(row: TokenRow) -> datetime:
    """When a token stops working; one issued before tokens had an expiry gets the default."""
    return row.expires_at or row.created_at + timedelta(days=TOKEN_DAYS)


def token_view(row: TokenRow) -> TokenView:
    return TokenView(row.id, row.label, row.created_at, token_expiry(row), row.last_used)


def token_digest(token: str) -> str:
    """What is stored for a token or a session id: its SHA-256 in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def password_problems(password: object, field_name: str = "password") -> list[dict[str, str]]:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return [
            {
                "field": field_name,
                "message": f"{MIN_PASSWORD} to {MAX_PASSWORD} characters",
            }
        ]
    return []


def role_problems(role: object) -> list[dict[str, str]]:
    if role not in USER_ROLES:
        return [{"field": "role", "message": f"one of {', '.join(USER_ROLES)}"}]
    return []
