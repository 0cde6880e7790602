"""Import a history file: make the database hold exactly what the file says for its source,
changing nothing that is already so (re-importing the same file writes nothing at all), and
report the source's inconsistencies instead of fixing them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from results.history_format import checksum
from results.records import ActivityRecord, Discrepancy, HistorySource, check
from storage import activities as store
from storage.db import Database

BROCHURE = Path(__file__).parent / "data" / "brochure_history.yaml"


def brochure_path() -> Path:
    """The bundled transcription of the 2016 brochure's results and calendar."""
    return BROCHURE


@dataclass
class ImportResult:
    source: str
    title: str
    activities: int
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    discrepancies: list[Discrepancy] = field(default_factory=list)
    readings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.deleted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "activities": self.activities,
            "inserted": self.inserted,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "changed": self.changed,
            "discrepancies": [d.to_dict() for d in self.discrepancies],
            "readings": self.readings,
        }


INVITED = "invited"


def stored_partners(record: ActivityRecord) -> list[Any]:
    """The activity's `partners` column: the co-organising partners' codes, then each invited
    organisation as `{"code": …, "role": "invited"}` (one JSON column holds both, so a source
    imported before invitations were recorded reads the same)."""
    return [*record.partners, *({"code": code, "role": INVITED} for code in record.invited)]


def partners_from_row(value: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(partners, invited) from a stored `partners` column (see `stored_partners`)."""
    partners: list[str] = []
    invited: list[str] = []
    for item in value or ():
        if isinstance(item, dict):
            if item.get("role") == INVITED and item.get("code"):
                invited.append(str(item["code"]))
        elif item:
            partners.append(str(item))
    return tuple(partners), tuple(invited)


def row_fields(record: ActivityRecord) -> dict[str, Any]:
    """The activity row a record becomes (what the importer compares and writes)."""
    return {
        "programme": record.programme,
        "status": record.status,
        "year": record.year,
        "start_date": record.start,
        "end_date": record.end,
        "period": record.period,
        "title": record.title,
        "region": record.region,
        "listed_under": record.listed_under,
        "participants": record.participants,
        "institutions": record.institutions,
        "partners": stored_partners(record),
        "themes": list(record.themes),
        "stated": record.stated(),
        "as_printed": record.as_printed,
        "reading": record.reading,
        "notes": record.notes,
    }


def country_rows(record: ActivityRecord) -> list[store.CountryRow]:
    return [(c, "participant", i) for i, c in enumerate(record.countries)] + [
        (c, "candidate", i) for i, c in enumerate(record.candidates)
    ]


def readings(source: str, records: list[ActivityRecord]) -> list[dict[str, Any]]:
    """How the transcriber read each ambiguous entry (one line per printed entry)."""
    seen: set[tuple[int, str]] = set()
    out = []
    for r in records:
        if not r.reading:
            continue
        mark = (r.year, r.as_printed or r.key)
        if mark in seen:
            continue
        seen.add(mark)
        counted = sum(
            1
            for other in records
            if other.year == r.year
            and other.programme == r.programme
            and (other.as_printed or other.key) == (r.as_printed or r.key)
        )
        out.append(
            {
                "source": source,
                "year": r.year,
                "programme": r.programme,
                "as_printed": r.as_printed,
                "counted_as": counted,
                "reading": r.reading,
            }
        )
    return out


def import_history(db: Database, source: HistorySource, now: datetime) -> ImportResult:
    """Sync `source` into the database in one transaction; see the module docstring.

    Two imports of a new source at once both try to insert it; the loser's transaction is
    rolled back by the unique name and it runs again, finding the winner's rows."""
    try:
        return _sync(db, source, now)
    except sa.exc.IntegrityError:
        return _sync(db, source, now)


def _sync(db: Database, source: HistorySource, now: datetime) -> ImportResult:
    digest = checksum(source)
    result = ImportResult(source.name, source.title, len(source.activities))
    result.discrepancies = check(source.name, source.activities, source.claims)
    result.readings = readings(source.name, source.activities)
    with db.transaction() as conn:
        existing_source = store.source_by_name(conn, source.name)
        if existing_source is not None and existing_source.checksum == digest:
            result.unchanged = len(source.activities)
            return result
        meta = {
            "title": source.title,
            "checksum": digest,
            "stated": [c.to_dict() for c in source.claims],
            "topics": [t.to_dict() for t in source.topics],
            "imported_at": now,
        }
        if existing_source is None:
            source_id = store.insert_source(conn, name=source.name, **meta)
            existing = {}
        else:
            source_id = existing_source.id
            store.update_source(conn, source_id, **meta)
            existing = {a.key: a for a in store.activities(conn, source_id=source_id)}
        for record in source.activities:
            fields, links = row_fields(record), country_rows(record)
            stored = existing.pop(record.key, None)
            if stored is None:
                activity_id = store.insert_activity(conn, source_id, record.key, fields)
                store.set_countries(conn, activity_id, links)
                result.inserted += 1
                continue
            same_fields = stored.fields == fields
            same_links = sorted(stored.countries) == sorted(links)
            if not same_fields:
                store.update_activity(conn, stored.id, fields)
            if not same_links:
                store.set_countries(conn, stored.id, links)
            if same_fields and same_links:
                result.unchanged += 1
            else:
                result.updated += 1
        store.delete_activities(conn, [a.id for a in existing.values()])
        result.deleted = len(existing)
    return result
