"""Importing is idempotent (the same file twice leaves the tables as they were), a changed
file changes only what changed, and a file with problems writes nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from results.history_format import InvalidHistory, parse_history, read_history
from results.importer import brochure_path, import_history
from results.records import HistorySource
from storage.db import Database
from tests.results.conftest import NOW, dump


def test_importing_the_same_file_twice_leaves_the_database_unchanged(
    db: Database, brochure: HistorySource
) -> None:
    first = import_history(db, brochure, NOW)
    assert (first.inserted, first.updated, first.deleted) == (88, 0, 0)
    before = dump(db)
    assert len(before["activity"]) == 88

    again = import_history(db, read_history(brochure_path()), NOW.replace(year=2027))
    assert not again.changed
    assert again.unchanged == 88
    assert dump(db) == before


def test_a_changed_entry_is_updated_in_place_and_a_dropped_one_deleted(
    db: Database, brochure: HistorySource
) -> None:
    import_history(db, brochure, NOW)
    before = dump(db)
    edited = list(brochure.activities)
    edited[0] = replace(edited[0], notes="checked against the printed PDF")
    dropped = edited.pop()
    changed = HistorySource(brochure.name, brochure.title, edited, brochure.claims, brochure.topics)

    result = import_history(db, changed, NOW)
    assert (result.inserted, result.updated, result.deleted) == (0, 1, 1)
    after = dump(db)
    ids_before = {row[0] for row in before["activity"]}
    ids_after = {row[0] for row in after["activity"]}
    assert ids_after == ids_before - {next(r[0] for r in before["activity"] if r[2] == dropped.key)}

    # back to the original: the edit is undone in place, the dropped entry comes back
    result = import_history(db, brochure, NOW)
    assert (result.inserted, result.updated, result.deleted) == (1, 1, 0)
    restored = dump(db)
    unchanged_rows = [r for r in before["activity"] if r[2] != dropped.key]
    assert [r for r in restored["activity"] if r[2] != dropped.key] == unchanged_rows


def test_a_file_with_an_unknown_country_is_refused_and_nothing_is_written(db: Database) -> None:
    text = (
        brochure_path()
        .read_text(encoding="utf-8")
        .replace(
            'countries: [IQ], listed_under: Asia, as_printed: "Irak"',
            'countries: [Irak, Mesopotamia], listed_under: Asia, as_printed: "Irak"',
        )
    )
    with pytest.raises(InvalidHistory) as error:
        parse_history(text, path="brochure.yaml")
    assert [p.message for p in error.value.problems] == [
        "unknown country 'Mesopotamia' in 'countries'"
    ]
    assert error.value.problems[0].line > 1
    assert dump(db) == {"activity_source": [], "activity": [], "activity_country": []}


def test_two_sources_live_side_by_side(db: Database, brochure: HistorySource) -> None:
    import_history(db, brochure, NOW)
    other = parse_history(
        "source: annual-report-2016\nactivities:\n"
        "  - {programme: international_workshop, year: 2016, countries: [HN]}\n",
        path="x.yaml",
    )
    result = import_history(db, other, NOW)
    assert result.inserted == 1
    tables = dump(db)
    assert len(tables["activity_source"]) == 2
    assert len(tables["activity"]) == 89


def test_two_imports_of_the_same_file_at_once_leave_one_copy(
    database_url: str, brochure: HistorySource
) -> None:
    """Each import in its own process-like connection pool, started together."""
    from concurrent.futures import ThreadPoolExecutor

    databases = [Database(database_url) for _ in range(2)]
    try:
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda d: import_history(d, brochure, NOW), databases))
        assert sorted(r.inserted for r in results) == [0, 88]
        tables = dump(databases[0])
        assert len(tables["activity_source"]) == 1
        assert len(tables["activity"]) == 88
    finally:
        for d in databases:
            d.dispose()
