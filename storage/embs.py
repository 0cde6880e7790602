"""Queries on the organisations that request programmes (electoral management bodies, and
civil society organisations, political parties, academic and other institutions: `kind`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from storage.models import emb_table

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


_COLS = (E.c.id, E.c.code, E.c.name, E.c.country, E.c.language, E.c.email, E.c.kind)


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
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def update(conn: sa.Connection, emb_id: int, **values: str | None) -> None:
    """Change some of an organisation's name, e-mail address, language, kind (validated)."""
    if values:
        conn.execute(E.update().where(E.c.id == emb_id).values(**values))


def all_embs(conn: sa.Connection) -> list[EmbRow]:
    return [EmbRow(*r) for r in conn.execute(sa.select(*_COLS).order_by(E.c.code))]
