"""Queries on people who sign in and their API tokens (only tokens' SHA-256 is ever stored)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
    language: str


_COLS = (U.c.id, U.c.username, U.c.role, U.c.password_hash, U.c.language)


def by_username(conn: sa.Connection, username: str) -> UserRow | None:
    row = conn.execute(sa.select(*_COLS).where(U.c.username == username)).first()
    return UserRow(*row) if row else None


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
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def by_id(conn: sa.Connection, user_id: int) -> UserRow | None:
    row = conn.execute(sa.select(*_COLS).where(U.c.id == user_id)).first()
    return UserRow(*row) if row else None


def set_language(conn: sa.Connection, user_id: int, language: str) -> None:
    conn.execute(U.update().where(U.c.id == user_id).values(language=language))


def set_password_hash(conn: sa.Connection, user_id: int, password_hash: str) -> None:
    """Store a fresh hash (after a rehash with stronger parameters)."""
    conn.execute(U.update().where(U.c.id == user_id).values(password_hash=password_hash))


def all_users(conn: sa.Connection) -> list[UserRow]:
    return [UserRow(*r) for r in conn.execute(sa.select(*_COLS).order_by(U.c.username))]


def count(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(U)).scalar_one())


def insert_token(
    conn: sa.Connection, *, user_id: int, token_hash: str, label: str, now: datetime
) -> int:
    result = conn.execute(
        T.insert().values(
            user_id=user_id, token_hash=token_hash, label=label, created_at=now, revoked=False
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def user_by_token_hash(conn: sa.Connection, token_hash: str) -> UserRow | None:
    """The owner of a token that has not been revoked."""
    row = conn.execute(
        sa.select(*_COLS)
        .select_from(T.join(U, T.c.user_id == U.c.id))
        .where(T.c.token_hash == token_hash, T.c.revoked.is_(False))
    ).first()
    return UserRow(*row) if row else None


def revoke_token(conn: sa.Connection, token_hash: str) -> bool:
    """True when a live token was revoked by this call."""
    result = conn.execute(
        T.update().where(T.c.token_hash == token_hash, T.c.revoked.is_(False)).values(revoked=True)
    )
    return bool(result.rowcount)
