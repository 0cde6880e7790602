"""The reads the code that shows a request makes of other rows, on either connection: a
SQLAlchemy one (every command, the web, the worker) or the plain `sqlite3` one of
`cicie request show` (`storage.sqlite_read`, issue 16). One function per read, so the rules
and the registry that call them are the same code on both paths; only the row reading
differs, and tests/cli/test_lean_show.py holds both answers equal."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from storage.rows import RequestRow
from storage.sqlite_read import SqliteReader

if TYPE_CHECKING:
    import sqlalchemy as sa

ReadConnection: TypeAlias = "sa.Connection | SqliteReader"


def get(conn: ReadConnection, request_id: int) -> RequestRow | None:
    """One request (`storage.requests.get`)."""
    if isinstance(conn, SqliteReader):
        return conn.get(request_id)
    from storage import requests

    return requests.get(conn, request_id)


def in_year(conn: ReadConnection, programme: str, year: int) -> list[RequestRow]:
    """The requests of `programme` of `year` (`storage.requests.in_year`)."""
    if isinstance(conn, SqliteReader):
        return conn.in_year(programme, year)
    from storage import requests

    return requests.in_year(conn, programme, year)


def emb_country(conn: ReadConnection, emb_code: str | None) -> str | None:
    """The country of the request's EMB (ISO alpha-2; `engine.timers.emb_country`)."""
    if not emb_code:
        return None
    if isinstance(conn, SqliteReader):
        return conn.emb_country(emb_code)
    from storage import embs

    row = embs.by_code(conn, emb_code)
    return row.country if row is not None else None


def source_of(conn: ReadConnection, name: str, version: int) -> str | None:
    """A stored workflow version's text (`storage.workflow_versions.source_of`)."""
    if isinstance(conn, SqliteReader):
        return conn.source_of(name, version)
    from storage import workflow_versions

    return workflow_versions.source_of(conn, name, version)
