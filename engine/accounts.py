"""People who sign in (admin, coordinator, viewer) and their API tokens.

Passwords are kept only as argon2id hashes; API tokens only as their SHA-256 (a token is 256
random bits, so a fast hash is enough and lets us look it up by equality). Authentication
spends the same argon2 work whether or not the user exists, so response time does not reveal
which usernames are taken.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine.clock import Clock, system_clock
from engine.errors import InvalidData, NotFound
from storage import users
from storage.db import Database
from storage.users import UserRow

USER_ROLES = ("admin", "coordinator", "viewer")
LANGUAGES = ("es", "en", "fr", "pt", "ar", "ru")
MIN_PASSWORD = 10
MAX_LABEL = 120
DEMO_USERS = ("admin", "coordinator", "viewer")
_USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,80}$")


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    role: str
    language: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "role": self.role,
            "language": self.language,
        }


def _view(row: UserRow) -> UserView:
    return UserView(row.id, row.username, row.role, row.language)


def token_digest(token: str) -> str:
    """What is stored for a token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Accounts:
    def __init__(
        self, db: Database, clock: Clock = system_clock, hasher: PasswordHasher | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    def add_user(
        self, username: str, role: str, password: str, *, language: str = "es"
    ) -> UserView:
        errors = []
        if not isinstance(username, str) or not _USERNAME.match(username):
            errors.append({"field": "username", "message": "1–80 letters, digits, . _ or -"})
        if role not in USER_ROLES:
            errors.append({"field": "role", "message": f"one of {', '.join(USER_ROLES)}"})
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            errors.append({"field": "password", "message": f"at least {MIN_PASSWORD} characters"})
        if language not in LANGUAGES:
            errors.append({"field": "language", "message": f"one of {', '.join(LANGUAGES)}"})
        if errors:
            raise InvalidData("the user's data is not valid", errors)
        password_hash = self.hasher.hash(password)
        duplicate = InvalidData(
            f"a user named '{username}' already exists",
            [{"field": "username", "message": "already exists"}],
        )
        try:
            with self.db.transaction() as conn:
                if users.by_username(conn, username) is not None:
                    raise duplicate
                user_id = users.insert(
                    conn,
                    username=username,
                    role=role,
                    password_hash=password_hash,
                    language=language,
                    now=self.clock(),
                )
        except sa.exc.IntegrityError as exc:  # a concurrent add won the unique index
            raise duplicate from exc
        return UserView(user_id, username, role, language)

    def authenticate(self, username: str, password: str) -> UserView | None:
        """The user when the password matches, else None (same argon2 work either way)."""
        with self.db.read() as conn:
            row = users.by_username(conn, username)
        if row is None:
            self._verify(self._dummy(), password)
            return None
        if not self._verify(row.password_hash, password):
            return None
        if self.hasher.check_needs_rehash(row.password_hash):
            with self.db.transaction() as conn:
                users.set_password_hash(conn, row.id, self.hasher.hash(password))
        return _view(row)

    def user_by_id(self, user_id: int) -> UserView | None:
        """The user a signed-in session names (None once the user is gone)."""
        with self.db.read() as conn:
            row = users.by_id(conn, user_id)
        return _view(row) if row else None

    def set_language(self, user_id: int, language: str) -> None:
        """The user's interface and mail language preference."""
        if language not in LANGUAGES:
            raise InvalidData(
                f"unknown language '{language}'",
                [{"field": "language", "message": f"one of {', '.join(LANGUAGES)}"}],
            )
        with self.db.transaction() as conn:
            users.set_language(conn, user_id, language)

    def issue_token(self, username: str, label: str = "") -> str:
        """A new bearer token; it is shown once and only its digest is kept."""
        if len(label) > MAX_LABEL or "\n" in label or "\r" in label:
            raise InvalidData(
                "a token label is one line of at most 120 characters",
                [{"field": "label", "message": f"one line of at most {MAX_LABEL} characters"}],
            )
        token = secrets.token_urlsafe(32)
        with self.db.transaction() as conn:
            row = users.by_username(conn, username)
            if row is None:
                raise NotFound(f"no user '{username}'")
            users.insert_token(
                conn, user_id=row.id, token_hash=token_digest(token), label=label, now=self.clock()
            )
        return token

    def user_for_token(self, token: str) -> UserView | None:
        if not token:
            return None
        with self.db.read() as conn:
            row = users.user_by_token_hash(conn, token_digest(token))
        return _view(row) if row else None

    def revoke_token(self, token: str) -> bool:
        """True when the token was live and is now refused."""
        with self.db.transaction() as conn:
            return users.revoke_token(conn, token_digest(token))

    def list_users(self) -> list[UserView]:
        with self.db.read() as conn:
            return [_view(r) for r in users.all_users(conn)]

    def has_users(self) -> bool:
        with self.db.read() as conn:
            return users.count(conn) > 0

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        """A hash to verify against for unknown users, made on first need (hashing is slow)."""
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash


def ensure_demo_users(accounts: Accounts) -> dict[str, str] | None:
    """On a database with nobody in it, one user per role with a random password
    ({username: password}, to show once); None when users already exist."""
    if accounts.has_users():
        return None
    created: dict[str, str] = {}
    for role in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        try:
            accounts.add_user(role, role, password)
        except InvalidData:
            if not created:  # another process started at the same time and made them
                return None
            raise
        created[role] = password
    return created
