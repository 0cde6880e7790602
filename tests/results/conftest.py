"""Fixtures for the results tests: a real database (SQLite file and PostgreSQL, through
`database_url`), the bundled brochure transcription, and a dump of the results tables."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from config.catalogues import load_catalogues
from results.history_format import read_history
from results.importer import brochure_path, import_history
from results.records import HistorySource
from storage.db import Database
from storage.results_models import (
    activity_country_table,
    activity_source_table,
    activity_table,
)

NOW = datetime(2026, 1, 12, 15, 0, tzinfo=UTC)
TODAY = date(2026, 1, 12)

# The brochure's workshop table (§ III) as printed: its Total column and its Total row.
PRINTED_YEAR_TOTALS = {
    "2004": 2,
    "2005": 3,
    "2008": 1,
    "2009": 6,
    "2010": 6,
    "2011": 10,
    "2012": 10,
    "2013": 9,
    "2014": 10,
    "2015": 4,
}
PRINTED_COLUMN_TOTALS = {"Africa": 17, "America": 25, "Asia": 10, "Europe": 9}


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def brochure() -> HistorySource:
    return read_history(brochure_path(), theme_ids=load_catalogues().themes)


@pytest.fixture
def imported(db: Database, brochure: HistorySource) -> Database:
    """A database holding the brochure's history."""
    import_history(db, brochure, NOW)
    return db


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the results tables, in primary-key order (ids included)."""
    out = {}
    with db.read() as conn:
        for table in (activity_source_table, activity_table, activity_country_table):
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(r) for r in rows]
    return out
