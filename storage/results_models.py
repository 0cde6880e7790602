"""Tables of the programme results (issue 6): past activities imported from a source (the
brochure's history, or another file) and the figures that source states about them.

A module of its own, in the same `SQLModel.metadata` as `storage.models`; migration 0004
creates these tables. Requests handled in the system are not copied here: reports read them
where they live.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models import JSONData, UTCDateTime


class ActivitySource(SQLModel, table=True):
    """One imported file: its name, a checksum of what it said, and the figures it states
    (per-year and per-continent totals, countries reached) so reports can check them."""

    __tablename__ = "activity_source"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True, index=True)
    title: str = Field(max_length=300)
    checksum: str = Field(max_length=64)
    stated: list[Any] = Field(default_factory=list, sa_type=JSONData)
    topics: list[Any] = Field(default_factory=list, sa_type=JSONData)
    imported_at: datetime = Field(sa_type=UTCDateTime)


class Activity(SQLModel, table=True):
    """One past or planned activity (a workshop, an internship, a course, a seminar…).

    `key` is stable across re-imports of the same source, which is what makes importing
    idempotent; `listed_under` keeps the continent column the source printed it in."""

    __tablename__ = "activity"
    __table_args__ = (sa.UniqueConstraint("source_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="activity_source.id", index=True)
    key: str = Field(max_length=200)
    programme: str = Field(max_length=80, index=True)
    status: str = Field(max_length=20)  # held | planned
    year: int = Field(index=True)
    start_date: date | None = Field(default=None)
    end_date: date | None = Field(default=None)
    period: str | None = Field(default=None, max_length=120)
    title: str = Field(default="", max_length=300)
    region: str | None = Field(default=None, max_length=40)
    listed_under: str | None = Field(default=None, max_length=20)
    participants: int | None = Field(default=None)
    institutions: int | None = Field(default=None)
    partners: list[Any] = Field(default_factory=list, sa_type=JSONData)
    themes: list[Any] = Field(default_factory=list, sa_type=JSONData)
    stated: dict[str, Any] = Field(default_factory=dict, sa_type=JSONData)
    as_printed: str | None = Field(default=None, sa_type=sa.Text)
    reading: str | None = Field(default=None, sa_type=sa.Text)
    notes: str | None = Field(default=None, sa_type=sa.Text)


class ActivityCountry(SQLModel, table=True):
    """A country an activity served or drew participants from (`participant`), or one that
    showed interest in a planned activity (`candidate`)."""

    __tablename__ = "activity_country"
    activity_id: int = Field(foreign_key="activity.id", primary_key=True)
    country: str = Field(max_length=2, primary_key=True, index=True)
    role: str = Field(default="participant", max_length=20, primary_key=True)
    position: int = Field(default=0)  # the order the source listed the countries in


activity_source_table: sa.Table = ActivitySource.__table__  # type: ignore[attr-defined]
activity_table: sa.Table = Activity.__table__  # type: ignore[attr-defined]
activity_country_table: sa.Table = ActivityCountry.__table__  # type: ignore[attr-defined]
