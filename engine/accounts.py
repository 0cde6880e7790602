"""People who sign in (admin, coordinator, viewer), their browser sessions and API tokens.

Passwords are kept only as argon2id hashes; API tokens and session ids only as their SHA-256
(each is 256 random bits, so a fast hash is enough and lets us look it up by equality).
Authentication spends the same argon2 work whether or not the user exists or is disabled, so
neither the answer nor its time reveals which usernames are taken.

Everything can be taken back: a session is a row (logging out, a new password, disabling the
user or "sign out everywhere" deletes it, so a copied cookie stops working), a token can be
revoked and expires, and a disabled user's sessions and tokens are refused at once. The last
active admin cannot be disabled or demoted, so an installation cannot lock itself out.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine.account_views import (
    LANGUAGES,
    MAX_LABEL,
    MAX_TOKEN_DAYS,
    SESSION_LIFETIME,
    TOKEN_DAYS,
    TOUCH_EVERY,
    USERNAME_PATTERN,
    AccountView,
    IssuedToken,
    TokenView,
    UserView,
    account_view,
    password_problems,
    role_problems,
    token_digest,
    token_expiry,
    token_view,
    user_view,
)
from engine.clock import Clock, system_clock
from engine.errors import InvalidData, NotAllowed, NotFound
from storage import sessions, users
from storage.db import Database
from storage.users import UserRow


class Accounts:
    def __init__(
        self, db: Database, clock: Clock = system_clock, hasher: PasswordHasher | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    # ------------------------------------------------------------ users
    def add_user(
        self, username: str, role: str, password: str, *, language: str | None = None
    ) -> UserView:
        """A new user; without `language` they have not chosen one, and the pages follow
        their browser until they do (`set_language`)."""
        errors = []
        if not isinstance(username, str) or not USERNAME_PATTERN.fullmatch(username):
            errors.append({"field": "username", "message": "1–80 letters, digits, . _ or -"})
        errors += role_problems(role)
        errors += password_problems(password)
        if language is not None and language not in LANGUAGES:
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
                    language=language or "",
                    now=self.clock(),
                )
        except sa.exc.IntegrityError as exc:  # a concurrent add won the unique index
            raise duplicate from exc
        return UserView(user_id, username, role, language)

    def authenticate(self, username: str, password: str) -> UserView | None:
        """The user when the password matches and the account is active, else None (the same
        argon2 work and the same answer for an unknown, a disabled or a wrong one)."""
        with self.db.read() as conn:
            row = users.by_username(conn, username)
        if row is None:
            self._verify(self._dummy(), password)
            return None
        if not self._verify(row.password_hash, password) or not row.active:
            return None
        if self.hasher.check_needs_rehash(row.password_hash):
            with self.db.transaction() as conn:
                users.set_password_hash(conn, row.id, self.hasher.hash(password))
        return user_view(row)

    def user_by_id(self, user_id: int) -> UserView | None:
        """An active user by id (None once the user is gone or disabled)."""
        with self.db.read() as conn:
            row = users.by_id(conn, user_id)
        return user_view(row) if row and row.active else None

    def set_language(self, user_id: int, language: str | None) -> None:
        """The interface language the user chose, kept until they choose again; None forgets
        the choice (the pages follow the browser again)."""
        if language is not None and language not in LANGUAGES:
            raise InvalidData(
                f"unknown language '{language}'",
                [{"field": "language", "message": f"one of {', '.join(LANGUAGES)}"}],
            )
        with self.db.transaction() as conn:
            users.set_language(conn, user_id, language or "")

    def list_users(self) -> list[UserView]:
        with self.db.read() as conn:
            return [user_view(r) for r in users.all_users(conn)]

    def list_accounts(self) -> list[AccountView]:
        """Every account, active or not, by username."""
        with self.db.read() as conn:
            return [account_view(r) for r in users.all_users(conn)]

    def account(self, username: str) -> AccountView:
        with self.db.read() as conn:
            return account_view(self._existing(conn, username))

    def account_by_id(self, user_id: int) -> AccountView:
        with self.db.read() as conn:
            row = users.by_id(conn, user_id)
        if row is None:
            raise NotFound(f"no user with id {user_id}")
        return account_view(row)

    def has_users(self) -> bool:
        with self.db.read() as conn:
            return users.count(conn) > 0

    def set_role(self, username: str, role: str) -> AccountView:
        """Change a user's role; it applies to their next page or API call. The last active
        admin keeps theirs."""
        problems = role_problems(role)
        if problems:
            raise InvalidData(f"unknown role '{role}'", problems)
        with self.db.transaction() as conn:
            row = self._existing(conn, username)
            if row.role == "admin" and role != "admin":
                self._keep_an_admin(conn, row, "demoted")
            users.set_role(conn, row.id, role)
            return account_view(users.by_id(conn, row.id) or row)

    def disable(self, username: str) -> AccountView:
        """The user can no longer sign in; their sessions end and their tokens are revoked at
        once. Refused for the last active admin."""
        with self.db.transaction() as conn:
            row = self._existing(conn, username)
            if row.role == "admin" and row.active:
                self._keep_an_admin(conn, row, "disabled")
            users.set_active(conn, row.id, False)
            sessions.delete_for_user(conn, row.id)
            users.revoke_tokens_of(conn, row.id)
            return account_view(users.by_id(conn, row.id) or row)

    def enable(self, username: str) -> AccountView:
        """The user may sign in again (tokens revoked when they were disabled stay revoked)."""
        with self.db.transaction() as conn:
            row = self._existing(conn, username)
            users.set_active(conn, row.id, True)
            return account_view(users.by_id(conn, row.id) or row)

    def set_password(self, username: str, password: str) -> int:
        """A new password set by an administrator: every session of the user ends (how many
        did). API tokens are separate credentials and stay."""
        problems = password_problems(password)
        if problems:
            raise InvalidData("the password is not valid", problems)
        with self.db.read() as conn:
            self._existing(conn, username)
        password_hash = self.hasher.hash(password)  # slow: outside the write transaction
        with self.db.transaction() as conn:
            row = self._existing(conn, username)
            users.set_password_hash(conn, row.id, password_hash)
            return sessions.delete_for_user(conn, row.id)

    def change_own_password(self, user_id: int, current: str, new: str) -> str:
        """A signed-in user's new password, given the current one. Every session of theirs
        ends; the one they are using is re-issued: the new session id is returned."""
        with self.db.read() as conn:
            row = users.by_id(conn, user_id)
        if row is None or not row.active:
            raise NotFound(f"no active user with id {user_id}")
        if not self._verify(row.password_hash, current):
            raise InvalidData(
                "the current password is not right",
                [{"field": "current_password", "message": "not right"}],
            )
        problems = password_problems(new, "new_password")
        if problems:
            raise InvalidData("the new password is not valid", problems)
        password_hash = self.hasher.hash(new)
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self.db.transaction() as conn:
            users.set_password_hash(conn, row.id, password_hash)
            sessions.delete_for_user(conn, row.id)
            sessions.insert(
                conn,
                session_hash=token_digest(session_id),
                user_id=row.id,
                now=now,
                expires_at=now + SESSION_LIFETIME,
            )
        return session_id

    # ------------------------------------------------------------ sessions
    def open_session(self, user_id: int) -> str:
        """A new server-side session for a user who just signed in: the random id for the
        cookie (only its SHA-256 is stored). Records the sign-in and purges expired rows."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self.db.transaction() as conn:
            sessions.purge_expired(conn, now)
            sessions.insert(
                conn,
                session_hash=token_digest(session_id),
                user_id=user_id,
                now=now,
                expires_at=now + SESSION_LIFETIME,
            )
            users.record_login(conn, user_id, now)
        return session_id

    def session_user(self, session_id: str) -> UserView | None:
        """The user a live session names; None when the session ended, expired or the user is
        disabled. One query; a write at most once a minute to move the expiry on."""
        if not session_id:
            return None
        session_hash = token_digest(session_id)
        now = self.clock()
        with self.db.read() as conn:
            found = sessions.live_user(conn, session_hash, now)
        if found is None:
            return None
        if now - found.last_seen >= TOUCH_EVERY:
            with self.db.transaction() as conn:
                sessions.touch(conn, session_hash, now, now + SESSION_LIFETIME)
        return user_view(found.user)

    def end_session(self, session_id: str) -> bool:
        """Log out: the session's row goes, so a copy of the cookie is refused from now on."""
        if not session_id:
            return False
        with self.db.transaction() as conn:
            return sessions.delete(conn, token_digest(session_id))

    def sign_out_everywhere(self, user_id: int) -> int:
        """End every session of the user, this one included (how many there were)."""
        with self.db.transaction() as conn:
            return sessions.delete_for_user(conn, user_id)

    # ------------------------------------------------------------ API tokens
    def new_token(
        self, username: str, label: str = "", *, expires_days: int = TOKEN_DAYS
    ) -> IssuedToken:
        """A new bearer token that expires after `expires_days` days (1–3650)."""
        problems = []
        if not isinstance(label, str) or len(label) > MAX_LABEL or "\n" in label or "\r" in label:
            problems.append(
                {"field": "label", "message": f"one line of at most {MAX_LABEL} characters"}
            )
        if (
            not isinstance(expires_days, int)
            or isinstance(expires_days, bool)
            or not 1 <= expires_days <= MAX_TOKEN_DAYS
        ):
            problems.append(
                {"field": "expires_days", "message": f"a whole number from 1 to {MAX_TOKEN_DAYS}"}
            )
        if problems:
            raise InvalidData("the token's settings are not valid", problems)
        token = secrets.token_urlsafe(32)
        now = self.clock()
        expires_at = now + timedelta(days=expires_days)
        with self.db.transaction() as conn:
            row = self._existing(conn, username)
            if not row.active:
                raise NotAllowed(
                    f"user '{username}' is disabled; enable them first "
                    f"(`cicie user enable {username}`)"
                )
            token_id = users.insert_token(
                conn,
                user_id=row.id,
                token_hash=token_digest(token),
                label=label,
                now=now,
                expires_at=expires_at,
            )
        return IssuedToken(token_id, username, token, expires_at)

    def issue_token(self, username: str, label: str = "", *, expires_days: int = TOKEN_DAYS) -> str:
        """A new bearer token; it is shown once and only its digest is kept."""
        return self.new_token(username, label, expires_days=expires_days).token

    def user_for_token(self, token: str) -> UserView | None:
        """The owner of a live token: not revoked, not expired, owner active. Records the use
        (at most once a minute per token, not a write per API call)."""
        if not token:
            return None
        now = self.clock()
        with self.db.read() as conn:
            found = users.token_with_owner(conn, token_digest(token))
        if found is None:
            return None
        token_row, owner = found
        if not owner.active or token_expiry(token_row) <= now:
            return None
        if token_row.last_used is None or now - token_row.last_used >= TOUCH_EVERY:
            with self.db.transaction() as conn:
                users.touch_token(conn, token_row.id, now, now - TOUCH_EVERY)
        return user_view(owner)

    def tokens(self, username: str) -> list[TokenView]:
        """A user's tokens that still work (not revoked, not expired), oldest first."""
        now = self.clock()
        with self.db.read() as conn:
            row = self._existing(conn, username)
            found = users.live_tokens_of(conn, row.id)
        return [view for view in map(token_view, found) if view.expires_at > now]

    def revoke_token(self, token: str) -> bool:
        """True when the token was live and is now refused."""
        with self.db.transaction() as conn:
            return users.revoke_token(conn, token_digest(token))

    def revoke_token_id(self, token_id: int, *, owner: str | None = None) -> None:
        """Revoke a token by the id `tokens` lists (of `owner`, when given)."""
        with self.db.transaction() as conn:
            row = users.token_by_id(conn, token_id)
            if owner is not None and row is not None:
                owner_row = users.by_username(conn, owner)
                if owner_row is None or owner_row.id != row.user_id:
                    row = None
            if row is None or not users.revoke_token_id(conn, token_id):
                whose = f" of user '{owner}'" if owner is not None else ""
                raise NotFound(
                    f"no live API token {token_id}{whose} (`cicie user tokens USERNAME` lists them)"
                )

    # ------------------------------------------------------------ helpers
    def _existing(self, conn: sa.Connection, username: str) -> UserRow:
        row = users.by_username(conn, username)
        if row is None:
            raise NotFound(f"no user '{username}' (`cicie user list` shows who exists)")
        return row

    def _keep_an_admin(self, conn: sa.Connection, row: UserRow, change: str) -> None:
        if users.active_admin_ids(conn) == [row.id]:
            raise NotAllowed(
                f"'{row.username}' is the last active admin and cannot be {change}; "
                "make another user admin first",
                [{"field": "role", "message": "the last active admin"}],
            )

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
