"""Queries on server-side browser sessions (`user_session`).

A row is keyed by the SHA-256 of the random id the cookie carries, so the table alone cannot
be replayed as cookies. Looking a session up joins its user in the same query: a page costs one
query to know who is signed in, whether the session is still live and the user still active.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from storage.models import user_session_table, user_table
from storage.users import USER_COLUMNS, UserRow, user_row

S = user_session_table
U = user_table


@dataclass(frozen=True)
class SessionUser:
    """A live session's user and when the session was last seen."""

    user: UserRow
    last_seen: datetime


def insert(
    conn: sa.Connection, *, session_hash: str, user_id: int, now: datetime, expires_at: datetime
) -> None:
    conn.execute(
        S.insert().values(
            id=session_hash, user_id=user_id, created_at=now, last_seen=now, expires_at=expires_at
        )
    )


def live_user(conn: sa.Connection, session_hash: str, now: datetime) -> SessionUser | None:
    """The session's user when the session has not expired and the user is active."""
    row = conn.execute(
        sa.select(*USER_COLUMNS, S.c.last_seen)
        .select_from(S.join(U, S.c.user_id == U.c.id))
        .where(S.c.id == session_hash, S.c.expires_at > now, U.c.active.is_(True))
    ).first()
    if row is None:
        return None
    values = tuple(row)
    return SessionUser(user_row(values), values[len(USER_COLUMNS)])


def touch(conn: sa.Connection, session_hash: str, now: datetime, expires_at: datetime) -> None:
    """Record activity and move the expiry on (an idle session ends, a used one goes on)."""
    conn.execute(
        S.update()
        .where(S.c.id == session_hash, S.c.expires_at > now)
        .values(last_seen=now, expires_at=expires_at)
    )


def delete(conn: sa.Connection, session_hash: str) -> bool:
    return bool(conn.execute(S.delete().where(S.c.id == session_hash)).rowcount)


def delete_for_user(conn: sa.Connection, user_id: int) -> int:
    """End every session of a user; how many there were."""
    return int(conn.execute(S.delete().where(S.c.user_id == user_id)).rowcount)


def purge_expired(conn: sa.Connection, now: datetime) -> int:
    return int(conn.execute(S.delete().where(S.c.expires_at <= now)).rowcount)
