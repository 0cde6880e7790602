"""Queries on imported activities and their sources, and the read of requests that the
results reports need (with their EMB's country). SQLAlchemy Core, like the other query
modules; no rule lives here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.models import emb_table, request_table
from storage.results_models import (
    activity_country_table,
    activity_source_table,
    activity_table,
)

S = activity_source_table
A = activity_table
AC = activity_country_table

# The activity columns a record fills (everything but id, source_id and key).
FIELDS = (
    "programme",
    "status",
    "year",
    "start_date",
    "end_date",
    "period",
    "title",
    "region",
    "listed_under",
    "participants",
    "institutions",
    "partners",
    "themes",
    "stated",
    "as_printed",
    "reading",
    "notes",
)
CountryRow = tuple[str, str, int]  # (country, role, position)


@dataclass(frozen=True)
class SourceRow:
    id: int
    name: str
    title: str
    checksum: str
    stated: list[Any]
    topics: list[Any]
    imported_at: datetime


@dataclass(frozen=True)
class StoredActivity:
    id: int
    source: str
    key: str
    fields: dict[str, Any]
    countries: tuple[CountryRow, ...]


@dataclass(frozen=True)
class RequestRow:
    id: int
    programme: str
    state: str
    held_from: str | None
    title: str
    data: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime
    emb_code: str | None
    emb_name: str | None
    emb_country: str | None


_SOURCE_COLS = (S.c.id, S.c.name, S.c.title, S.c.checksum, S.c.stated, S.c.topics, S.c.imported_at)


def source_by_name(conn: sa.Connection, name: str) -> SourceRow | None:
    row = conn.execute(sa.select(*_SOURCE_COLS).where(S.c.name == name)).first()
    return SourceRow(*row) if row else None


def sources(conn: sa.Connection) -> list[SourceRow]:
    return [SourceRow(*r) for r in conn.execute(sa.select(*_SOURCE_COLS).order_by(S.c.name))]


def insert_source(conn: sa.Connection, **values: Any) -> int:
    return int(conn.execute(S.insert().values(**values).returning(S.c.id)).scalar_one())


def update_source(conn: sa.Connection, source_id: int, **values: Any) -> None:
    conn.execute(S.update().where(S.c.id == source_id).values(**values))


def _countries_of(conn: sa.Connection, ids: list[int]) -> dict[int, list[CountryRow]]:
    out: dict[int, list[CountryRow]] = defaultdict(list)
    if not ids:
        return out
    rows = conn.execute(
        sa.select(AC.c.activity_id, AC.c.country, AC.c.role, AC.c.position)
        .where(AC.c.activity_id.in_(ids))
        .order_by(AC.c.activity_id, AC.c.role, AC.c.position)
    )
    for activity_id, country, role, position in rows:
        out[activity_id].append((country, role, position))
    return out


def activities(conn: sa.Connection, *, source_id: int | None = None) -> list[StoredActivity]:
    """Activities (of one source, or of all), in a stable order, with their countries."""
    query = sa.select(A.c.id, S.c.name, A.c.key, *(A.c[f] for f in FIELDS)).join(
        S, S.c.id == A.c.source_id
    )
    if source_id is not None:
        query = query.where(A.c.source_id == source_id)
    rows = conn.execute(query.order_by(S.c.name, A.c.year, A.c.id)).all()
    linked = _countries_of(conn, [r[0] for r in rows])
    return [
        StoredActivity(
            id=r[0],
            source=r[1],
            key=r[2],
            fields=dict(zip(FIELDS, r[3:], strict=True)),
            countries=tuple(linked.get(r[0], [])),
        )
        for r in rows
    ]


def insert_activity(conn: sa.Connection, source_id: int, key: str, fields: dict[str, Any]) -> int:
    result = conn.execute(
        A.insert().values(source_id=source_id, key=key, **fields).returning(A.c.id)
    )
    return int(result.scalar_one())


def update_activity(conn: sa.Connection, activity_id: int, fields: dict[str, Any]) -> None:
    conn.execute(A.update().where(A.c.id == activity_id).values(**fields))


def set_countries(conn: sa.Connection, activity_id: int, rows: list[CountryRow]) -> None:
    conn.execute(AC.delete().where(AC.c.activity_id == activity_id))
    if rows:
        conn.execute(
            AC.insert(),
            [
                {"activity_id": activity_id, "country": c, "role": role, "position": pos}
                for c, role, pos in rows
            ],
        )


def delete_activities(conn: sa.Connection, ids: list[int]) -> None:
    if ids:
        conn.execute(AC.delete().where(AC.c.activity_id.in_(ids)))
        conn.execute(A.delete().where(A.c.id.in_(ids)))


def requests_with_emb(conn: sa.Connection) -> list[RequestRow]:
    """Every request with its EMB's code, name and country (reports filter in Python)."""
    r, e = request_table.c, emb_table.c
    query = (
        sa.select(
            r.id,
            r.programme,
            r.state,
            r.held_from,
            r.title,
            r.data,
            r.version,
            r.created_at,
            r.updated_at,
            e.code.label("emb_code"),
            e.name.label("emb_name"),
            e.country.label("emb_country"),
        )
        .select_from(request_table.outerjoin(emb_table, e.id == r.emb_id))
        .order_by(r.id)
    )
    return [RequestRow(**row._asdict()) for row in conn.execute(query)]
