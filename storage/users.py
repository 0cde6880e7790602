"""Queries on people who sign in and their API tokens (only tokens' SHA-256 is ever stored).

Nothing here decides: whether a token has expired, whether an account may be disabled, when
`last_used` is worth a write — `engine.accounts` does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.models import api_token_table, user_table

U = user_table
T = api_token_table


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    role: str
    password_hash: str
    language: str  # "" until the user chooses one (the pages follow the browser)
    active: bool
    created_at: datetime
    last_login: datetime | None


# the columns a `UserRow` is built from, in its order (storage.sessions joins on them too)
USER_COLUMNS = (
    U.c.id,
    U.c.username,
    U.c.role,
    U.c.password_hash,
    U.c.language,
    U.c.active,
    U.c.created_at,
    U.c.last_login,
)


def user_row(values: sa.Row[Any] | tuple[Any, ...]) -> UserRow:
    """A `UserRow` from the first `len(USER_COLUMNS)` values of a selected row."""
    return UserRow(*tuple(values)[: len(USER_COLUMNS)])


def by_username(conn: sa.Connection, username: str) -> UserRow | None:
    row = conn.execute(sa.select(*USER_COLUMNS).where(U.c.username == username)).first()
    return user_row(row) if row else None


def insert(
    conn: sa.Connection,
    *,
    username: str,
    role: str,
    password_hash: str,
    language: str,
    now: datetime,
) -> int:
    result = conn.execute(
        U.insert().values(
            username=username,
            role=role,
            password_hash=password_hash,
            language=language,
            created_at=now,
            active=True,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def by_id(conn: sa.Connection, user_id: int) -> UserRow | None:
    row = conn.execute(sa.select(*USER_COLUMNS).where(U.c.id == user_id)).first()
    return user_row(row) if row else None


def set_language(conn: sa.Connection, user_id: int, language: str) -> None:
    conn.execute(U.update().where(U.c.id == user_id).values(language=language))


def set_password_hash(conn: sa.Connection, user_id: int, password_hash: str) -> None:
    """Store a fresh hash (a new password, or a rehash with stronger parameters)."""
    conn.execute(U.update().where(U.c.id == user_id).values(password_hash=password_hash))


def set_role(conn: sa.Connection, user_id: int, role: str) -> None:
    conn.execute(U.update().where(U.c.id == user_id).values(role=role))


def set_active(conn: sa.Connection, user_id: int, active: bool) -> None:
    conn.execute(U.update().where(U.c.id == user_id).values(active=active))


def record_login(conn: sa.Connection, user_id: int, now: datetime) -> None:
    conn.execute(U.update().where(U.c.id == user_id).values(last_login=now))


def active_admin_ids(conn: sa.Connection) -> list[int]:
    """The active admins, their rows locked (PostgreSQL) until the transaction ends, so two
    administrators demoting each other at once cannot both succeed. SQLite's write
    transaction (`BEGIN IMMEDIATE`) already serialises them."""
    rows = conn.execute(
        sa.select(U.c.id)
        .where(U.c.role == "admin", U.c.active.is_(True))
        .order_by(U.c.id)
        .with_for_update()
    )
    return [int(r[0]) for r in rows]


def all_users(conn: sa.Connection) -> list[UserRow]:
    return [user_row(r) for r in conn.execute(sa.select(*USER_COLUMNS).order_by(U.c.username))]


def count(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(U)).scalar_one())


# ---------------------------------------------------------------- API tokens
@dataclass(frozen=True)
class TokenRow:
    id: int
    user_id: int
    label: str
    created_at: datetime
    expires_at: datetime | None  # None: issued before tokens had an expiry (migration 0007)
    last_used: datetime | None


_TOKEN_COLUMNS = (
    T.c.id,
    T.c.user_id,
    T.c.label,
    T.c.created_at,
    T.c.expires_at,
    T.c.last_used,
)


def _token_row(values: sa.Row[Any] | tuple[Any, ...]) -> TokenRow:
    return TokenRow(*tuple(values)[: len(_TOKEN_COLUMNS)])


def insert_token(
    conn: sa.Connection,
    *,
    user_id: int,
    token_hash: str,
    label: str,
    now: datetime,
    expires_at: datetime | None,
) -> int:
    result = conn.execute(
        T.insert().values(
            user_id=user_id,
            token_hash=token_hash,
            label=label,
            created_at=now,
            revoked=False,
            expires_at=expires_at,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def token_with_owner(conn: sa.Connection, token_hash: str) -> tuple[TokenRow, UserRow] | None:
    """A token that has not been revoked and its owner, in one query (expiry and the owner's
    being active are the caller's to judge)."""
    row = conn.execute(
        sa.select(*_TOKEN_COLUMNS, *USER_COLUMNS)
        .select_from(T.join(U, T.c.user_id == U.c.id))
        .where(T.c.token_hash == token_hash, T.c.revoked.is_(False))
    ).first()
    if row is None:
        return None
    values = tuple(row)
    return _token_row(values), user_row(values[len(_TOKEN_COLUMNS) :])


def live_tokens_of(conn: sa.Connection, user_id: int) -> list[TokenRow]:
    """A user's tokens that have not been revoked, oldest first (expired ones included)."""
    rows = conn.execute(
        sa.select(*_TOKEN_COLUMNS)
        .where(T.c.user_id == user_id, T.c.revoked.is_(False))
        .order_by(T.c.created_at, T.c.id)
    )
    return [_token_row(r) for r in rows]


def token_by_id(conn: sa.Connection, token_id: int) -> TokenRow | None:
    """A token that has not been revoked, by its id."""
    row = conn.execute(
        sa.select(*_TOKEN_COLUMNS).where(T.c.id == token_id, T.c.revoked.is_(False))
    ).first()
    return _token_row(row) if row else None


def touch_token(conn: sa.Connection, token_id: int, now: datetime, since: datetime) -> None:
    """Record a use, unless one after `since` is already recorded (by a parallel call)."""
    conn.execute(
        T.update()
        .where(
            T.c.id == token_id,
            sa.or_(T.c.last_used.is_(None), T.c.last_used <= since),
        )
        .values(last_used=now)
    )


def revoke_token(conn: sa.Connection, token_hash: str) -> bool:
    """True when a live token was revoked by this call."""
    result = conn.execute(
        T.update().where(T.c.token_hash == token_hash, T.c.revoked.is_(False)).values(revoked=True)
    )
    return bool(result.rowcount)


def revoke_token_id(conn: sa.Connection, token_id: int) -> bool:
    """True when a live token was revoked by this call."""
    result = conn.execute(
        T.update().where(T.c.id == token_id, T.c.revoked.is_(False)).values(revoked=True)
    )
    return bool(result.rowcount)


def revoke_tokens_of(conn: sa.Connection, user_id: int) -> int:
    """Revoke every live token of a user; how many there were."""
    result = conn.execute(
        T.update().where(T.c.user_id == user_id, T.c.revoked.is_(False)).values(revoked=True)
    )
    return int(result.rowcount)
