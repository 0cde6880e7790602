"""Queries on `sign_in_attempt`: the sign-in attempts the throttle counts (web/throttle.py).

A row is one attempt under one key (`user:…`, `addr:…`, `pair:…`); counting, locking and
purging happen here, deciding does not. The rows live in the database so that every web
instance counts the same attempts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from storage.models import sign_in_attempt_table

A = sign_in_attempt_table
KEY_MAX = 200  # the column's length


@dataclass(frozen=True)
class KeyCount:
    """Attempts under one key since a time, and when the latest was made."""

    count: int
    last: datetime | None


NONE = KeyCount(0, None)


def _lock_id(key: str) -> int:
    """A signed 64-bit advisory-lock id for `key`, the same in every process."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def lock(conn: sa.Connection, keys: Iterable[str]) -> None:
    """Serialise attempts on `keys` until the transaction ends. PostgreSQL: one transaction
    advisory lock per key, taken in one global order (so two attempts never wait on each
    other crosswise); SQLite: the write transaction (`BEGIN IMMEDIATE`) already excludes
    every other writer."""
    if conn.dialect.name != "postgresql":
        return
    for lock_id in sorted({_lock_id(key) for key in keys}):
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_id)))


def counts(conn: sa.Connection, keys: Sequence[str], since: datetime) -> dict[str, KeyCount]:
    """For each of `keys`: the attempts made after `since` (index on key, at)."""
    rows = conn.execute(
        sa.select(A.c.key, sa.func.count(), sa.func.max(A.c.at))
        .where(A.c.key.in_(list(keys)), A.c.at > since)
        .group_by(A.c.key)
    ).all()
    found = {key: KeyCount(int(n), last) for key, n, last in rows}
    return {key: found.get(key, NONE) for key in keys}


def record(conn: sa.Connection, keys: Sequence[str], at: datetime) -> list[int]:
    """One attempt under each key; returns the rows' ids (to take the attempt back)."""
    ids = []
    for key in keys:
        ids.append(
            int(conn.execute(sa.insert(A).values(key=key, at=at).returning(A.c.id)).scalar_one())
        )
    return ids


def forget(conn: sa.Connection, ids: Sequence[int] = (), keys: Sequence[str] = ()) -> None:
    """Delete the rows `ids` and every row under `keys`."""
    if ids:
        conn.execute(sa.delete(A).where(A.c.id.in_(list(ids))))
    if keys:
        conn.execute(sa.delete(A).where(A.c.key.in_(list(keys))))


def purge(conn: sa.Connection, before: datetime, limit: int) -> int:
    """Delete at most `limit` rows older than `before` (index on at): called at each attempt,
    it keeps the table to what the window needs without one long delete."""
    oldest = sa.select(A.c.id).where(A.c.at <= before).order_by(A.c.at).limit(limit)
    result = conn.execute(sa.delete(A).where(A.c.id.in_(oldest.scalar_subquery())))
    return int(result.rowcount or 0)


def count_all(conn: sa.Connection) -> int:
    """Rows kept (for tests and operators: the table stays bounded)."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(A)).scalar_one())
