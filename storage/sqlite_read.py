"""The few reads `cicie request show` makes, in plain SQL on the standard library's `sqlite3`
(issue 16: SQLAlchemy alone costs a command ten times the bare interpreter's start).

Opened read-only (`mode=ro`: it can neither write nor create the file) with the busy timeout
of `storage.db.Database`, in one deferred read transaction, like `Database.read()`. Each read
returns what the SQLAlchemy query of the same name returns (`storage.requests.get`,
`storage.requests.in_year`, `storage.embs.by_code(…).country`,
`storage.workflow_versions.source_of`, `storage.migrate.stored_revision`): datetimes as aware
UTC (`storage.models.UTCDateTime`), JSON columns decoded with `json.loads` (SQLAlchemy's
default on SQLite). tests/cli/test_lean_show.py holds them equal on a seeded database. The
code that uses these reads (`storage.reads`) is the same on both paths.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storage.rows import RequestRow

BUSY_TIMEOUT_S = 30.0  # storage.db.Database's busy_timeout_ms

_COLUMNS = (
    "r.id, r.programme, r.workflow_version, r.emb_id, e.code, r.title, r.state, r.held_from, "
    "r.data, r.version, r.created_at, r.updated_at"
)
_FROM = "request AS r LEFT OUTER JOIN emb AS e ON r.emb_id = e.id"


def _moment(value: Any) -> datetime:
    """A stored DATETIME as SQLAlchemy gives it back: aware, in UTC."""
    found = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _row(r: tuple[Any, ...]) -> RequestRow:
    return RequestRow(
        int(r[0]),
        r[1],
        int(r[2]),
        r[3],
        r[4],
        r[5],
        r[6],
        r[7],
        _json(r[8]),
        int(r[9]),
        _moment(r[10]),
        _moment(r[11]),
    )


class SqliteReader:
    """A read-only connection to a SQLite database with the reads of one request's page."""

    def __init__(self, path: Path) -> None:
        uri = path.resolve().as_uri() + "?mode=ro"
        self.connection = sqlite3.connect(
            uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        self.connection.execute("BEGIN")  # one snapshot for every read, as Database.read()

    def close(self) -> None:
        try:
            if self.connection.in_transaction:
                self.connection.execute("ROLLBACK")
        finally:
            self.connection.close()

    def __enter__(self) -> SqliteReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stored_revision(self) -> str | None:
        """`storage.migrate.stored_revision`: None when never migrated (or branched)."""
        found = self.connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if found is None:
            return None
        rows = self.connection.execute("SELECT version_num FROM alembic_version").fetchall()
        return str(rows[0][0]) if len(rows) == 1 else None

    def stored_versions(self) -> list[tuple[str, str, int]]:
        """(name, checksum, version) of every stored workflow version, by name, newest
        version first (`engine.registry._stored_versions`)."""
        rows = self.connection.execute(
            "SELECT name, checksum, version FROM workflow_version ORDER BY name, version DESC"
        )
        return [(str(name), str(checksum), int(version)) for name, checksum, version in rows]

    def get(self, request_id: int) -> RequestRow | None:
        found = self.connection.execute(
            f"SELECT {_COLUMNS} FROM {_FROM} WHERE r.id = ?", (request_id,)
        ).fetchone()
        return _row(found) if found is not None else None

    def in_year(self, programme: str, year: int) -> list[RequestRow]:
        rows = self.connection.execute(
            f"SELECT {_COLUMNS} FROM {_FROM} WHERE r.id IN (SELECT request_id FROM "
            "request_facet WHERE facet = 'year' AND value = ? AND programme = ?) ORDER BY r.id",
            (f"{year:04d}", programme),
        )
        return [_row(r) for r in rows]

    def emb_country(self, code: str) -> str | None:
        found = self.connection.execute(
            "SELECT country FROM emb WHERE code = ?", (code,)
        ).fetchone()
        return found[0] if found is not None else None

    def source_of(self, name: str, version: int) -> str | None:
        found = self.connection.execute(
            "SELECT source FROM workflow_version WHERE name = ? AND version = ?", (name, version)
        ).fetchone()
        return str(found[0]) if found is not None else None
