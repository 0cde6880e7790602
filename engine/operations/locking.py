"""The first step of every write: read and lock the request row, and check its version."""

from __future__ import annotations

import sqlalchemy as sa

from engine.errors import NotFound, VersionConflict
from i18n import Text
from storage import hot_path
from storage.requests import RequestRow


def lock_request(conn: sa.Connection, request_id: int, expected_version: int | None) -> RequestRow:
    """Read and lock the request; a stale `expected_version` is a conflict."""
    row = hot_path.lock_request(conn, request_id)
    if row is None:
        raise NotFound(Text("There is no request %(id)s.", id=request_id))
    if expected_version is not None and row.version != expected_version:
        raise VersionConflict(
            Text(
                "Request %(id)s changed since you read it (you had version %(expected)s, it is "
                "now %(actual)s); reload it and try again.",
                id=request_id,
                expected=expected_version,
                actual=row.version,
            ),
            {"expected": expected_version, "actual": row.version},
        )
    return row
