"""Queries on the organisations that request programmes (electoral management bodies, and
civil society organisations, political parties, academic and other institutions: `kind`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from storage import derived
from storage.models import emb_table, request_table

E = emb_table


@dataclass(frozen=True)
class EmbRow:
    id: int
    code: str
    name: str
    country: str
    language: str
    email: str | None
    kind: str = "emb"
    active: bool = True  # a deactivated one is not offered for new requests (migration 0013)


_COLS = (E.c.id, E.c.code, E.c.name, E.c.country, E.c.language, E.c.email, E.c.kind, E.c.active)


def by_code(conn: sa.Connection, code: str) -> EmbRow | None:
    row = conn.execute(sa.select(*_COLS).where(E.c.code == code)).first()
    return EmbRow(*row) if row else None


def by_id(conn: sa.Connection, emb_id: int) -> EmbRow | None:
    row = conn.execute(sa.select(*_COLS).where(E.c.id == emb_id)).first()
    return EmbRow(*row) if row else None


def insert(
    conn: sa.Connection,
    *,
    code: str,
    name: str,
    country: str,
    language: str,
    email: str | None,
    now: datetime,
    kind: str = "emb",
) -> int:
    result = conn.execute(
        E.insert().values(
            code=code,
            name=name,
            country=country,
            language=language,
            email=email,
            kind=kind,
            created_at=now,
        )
    )
    emb_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    derived.refresh_emb(conn, emb_id)  # its search words, in this transaction (storage/derived)
    return emb_id


def update(conn: sa.Connection, emb_id: int, **values: str | bool | None) -> None:
    """Change some of an organisation's name, e-mail address, language, kind, active
    (validated)."""
    if values:
        conn.execute(E.update().where(E.c.id == emb_id).values(**values))
        derived.refresh_emb(conn, emb_id)  # its search words, in this transaction (storage/derived)


def all_embs(conn: sa.Connection, *, active_only: bool = False) -> list[EmbRow]:
    query = sa.select(*_COLS).order_by(E.c.code)
    if active_only:
        query = query.where(E.c.active == sa.true())
    return [EmbRow(*r) for r in conn.execute(query)]


def by_codes(conn: sa.Connection, codes: Iterable[str]) -> dict[str, EmbRow]:
    """The organisations of these codes, by code (an import's existing rows, in one query)."""
    wanted = sorted(set(codes))
    found: dict[str, EmbRow] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        chunk = wanted[start : start + 500]
        for r in conn.execute(sa.select(*_COLS).where(E.c.code.in_(chunk))):
            found[r.code] = EmbRow(*r)
    return found


def request_counts(conn: sa.Connection) -> dict[int, int]:
    """How many requests each organisation has made (organisations with none are absent)."""
    emb_id = request_table.c.emb_id
    query = sa.select(emb_id, sa.func.count()).where(emb_id.is_not(None)).group_by(emb_id)
    return {int(i): int(n) for i, n in conn.execute(query)}
