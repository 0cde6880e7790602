"""The dashboard's filters, the search and a request's page read indexes, never every request
(issues 15 and 16): every statement those pages run is captured and EXPLAINed on SQLite and on
PostgreSQL, so a scan cannot come back unnoticed. Also: the derived filter and search values
are written in the transaction of the change they derive from (a rollback leaves them as they
were), and migration 0012 fills them for rows that existed before it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import event

from engine.actor import Actor
from engine.service import Engine
from engine.views import RequestView
from storage import derived, hot_path, migrate
from storage.db import Database
from storage.models import request_facet_table, request_token_table
from tests.web.conftest import SignIn, accounts, app, sign_in  # noqa: F401  (fixtures)

# the tables a page must never read whole (small catalogues such as emb may be read)
BIG = ("request", "request_facet", "request_token", "history", "timer", "outbox")
FILTERS = [
    "theme=institutionalisation.electoral_justice",
    "year=2016",
    "year=2026",
    "state=intake",
    "programme=internship",
    "emb=PE-JNE",
    "region=America",
    "kind=emb",
    "theme=institutionalisation.electoral_justice&year=2016",
    "programme=international_workshop&state=ready&region=America",
    "year=2026&kind=emb&programme=seminar",
]
SEARCHES = ["peru", "PE-JNE", "mendez", "#1", "jurado nacional", "peru&programme=seminar"]


@contextmanager
def captured(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT the database is sent meanwhile, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def plan(db: Database, statement: str, parameters: Any) -> str:
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cur = raw.cursor()
        try:
            if db.is_sqlite:
                cur.execute(f"EXPLAIN QUERY PLAN {statement}", parameters or ())
                return " | ".join(str(r[-1]) for r in cur.fetchall())
            cur.execute("SET enable_seqscan = off")  # the tables are small in a test
            cur.execute(f"EXPLAIN {statement}", parameters or None)
            return " | ".join(str(r[0]) for r in cur.fetchall())
        finally:
            cur.close()
            conn.rollback()


def full_scans(db: Database, statement: str, parameters: Any) -> list[str]:
    found = plan(db, statement, parameters)
    if db.is_sqlite:
        # "SCAN request" (no index) or a whole-index walk of a big table; a scan in key order
        # stopped by LIMIT (the oldest stale requests) reads only what it returns
        bounded = "request.updated_at <" in statement and "ORDER BY request.id" in statement
        scans = re.findall(r"SCAN (\w+)(?: USING (?:COVERING )?INDEX \w+)?", found)
        return [t for t in scans if t in BIG and not bounded]
    return [t for t in re.findall(r"Seq Scan on (\w+)", found) if t in BIG]


@pytest.fixture
def world(
    engine: Engine, make_emb: Callable[..., str], make_request: Callable[..., RequestView]
) -> dict[str, Any]:
    ana = Actor("coordinator", "ana")
    peru = make_emb("PE-JNE", country="PE", name="Jurado Nacional de Elecciones")
    return {
        "peru": engine.create("seminar", emb_code=peru, title="Seminario en Lima", actor=ana),
        "ready": make_request("international_workshop", "ready"),
        "course": make_request("specialization_course", "intake"),
        "internship": make_request("internship", "intake"),
    }


def _pages(db: Database, browser: Any, paths: list[str]) -> list[tuple[str, str, Any]]:
    out = []
    for path in paths:
        with captured(db) as seen:
            response = browser.get(path)
        assert response.status_code == 200, path
        out += [(path, s, p) for s, p in seen]
    return out


def test_every_dashboard_filter_reads_indexes_only(
    engine: Engine,
    sign_in: SignIn,  # noqa: F811  (the fixture imported above)
    world: dict[str, Any],
) -> None:
    browser = sign_in("viewer")
    statements = _pages(engine.db, browser, [f"/?{f}" for f in FILTERS])
    assert statements
    scans = [
        (path, s, found) for path, s, p in statements if (found := full_scans(engine.db, s, p))
    ]
    assert scans == []


def test_the_search_reads_indexes_only(
    engine: Engine,
    sign_in: SignIn,  # noqa: F811  (the fixture imported above)
    world: dict[str, Any],
) -> None:
    browser = sign_in("viewer")
    statements = _pages(engine.db, browser, [f"/requests?q={q}" for q in SEARCHES])
    scans = [
        (path, s, found) for path, s, p in statements if (found := full_scans(engine.db, s, p))
    ]
    assert scans == []


def test_a_requests_page_reads_that_request_only(
    engine: Engine,
    sign_in: SignIn,  # noqa: F811  (the fixture imported above)
    world: dict[str, Any],
) -> None:
    browser = sign_in("coordinator", "ana")
    paths = [f"/requests/{world[k].id}" for k in ("ready", "course", "internship", "peru")]
    statements = _pages(engine.db, browser, paths)
    scans = [
        (path, s, found) for path, s, p in statements if (found := full_scans(engine.db, s, p))
    ]
    assert scans == []


# ---------------------------------------------------------------- same transaction
def _facets(engine: Engine, request_id: int) -> set[tuple[str, str, str]]:
    f = request_facet_table.c
    with engine.db.read() as conn:
        rows = conn.execute(
            sa.select(f.facet, f.value, f.state).where(f.request_id == request_id)
        ).all()
    return {(a, b, c) for a, b, c in rows}


def _tokens(engine: Engine, request_id: int) -> set[str]:
    t = request_token_table.c
    with engine.db.read() as conn:
        return set(conn.execute(sa.select(t.token).where(t.request_id == request_id)).scalars())


def test_derived_values_follow_every_change_in_its_transaction(
    engine: Engine, make_emb: Callable[..., str]
) -> None:
    ana = Actor("coordinator", "ana")
    view = engine.create("seminar", emb_code=make_emb(), title="Taller de Cómputo", actor=ana)
    assert {"taller", "de", "computo"} <= _tokens(engine, view.id)
    assert all(state == "intake" for _, _, state in _facets(engine, view.id))
    # a change of data: the new theme is a facet at once
    changed = engine.update(
        view.id, ana, data={"themes": ["institutionalisation.electoral_justice"]}
    )
    assert ("theme", "institutionalisation.electoral_justice", changed.state) in _facets(
        engine, view.id
    )


class Boom(Exception):
    pass


def _decline_with_a_theme_then_fail(engine: Engine, request_id: int) -> None:
    """A transition with new data whose transaction then fails: inside it, the derived
    values already show the change."""
    with engine.db.transaction() as conn:
        row = hot_path.lock_request(conn, request_id)
        assert row is not None
        hot_path.record_transition(
            conn,
            request_id=request_id,
            expected_version=row.version,
            state="declined",
            held_from=None,
            data={**row.data, "themes": ["institutionalisation.electoral_justice"]},
            now=engine.clock(),
            actor_role="coordinator",
            actor_name="ana",
            trigger="decline",
            from_state=row.state,
            comment=None,
            changes=None,
        )
        f = request_facet_table.c
        seen = conn.execute(
            sa.select(f.facet, f.value, f.state).where(f.request_id == request_id)
        ).all()
        assert ("theme", "institutionalisation.electoral_justice", "declined") in {
            tuple(r) for r in seen
        }
        raise Boom


def test_a_rolled_back_change_leaves_the_derived_values_as_they_were(
    engine: Engine, make_emb: Callable[..., str]
) -> None:
    ana = Actor("coordinator", "ana")
    view = engine.create("seminar", emb_code=make_emb(), title="Primer título", actor=ana)
    before_facets, before_tokens = _facets(engine, view.id), _tokens(engine, view.id)
    with pytest.raises(Boom):
        _decline_with_a_theme_then_fail(engine, view.id)
    assert _facets(engine, view.id) == before_facets
    assert _tokens(engine, view.id) == before_tokens


def test_the_migration_fills_the_derived_values_of_existing_rows(
    sqlite_url: str, make_emb: Callable[..., str], engine: Engine
) -> None:
    # the engine's own database: one request, then the derived rows wiped and 0012 run again
    ana = Actor("coordinator", "ana")
    view = engine.create("seminar", emb_code=make_emb(), title="Seminario en Lima", actor=ana)
    wanted_facets, wanted_tokens = _facets(engine, view.id), _tokens(engine, view.id)
    db = engine.db
    cfg = migrate.alembic_config(db)
    with db.engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011")
    migrate.upgrade(db)
    assert _facets(engine, view.id) == wanted_facets
    assert _tokens(engine, view.id) == wanted_tokens
    with db.read() as conn:
        assert derived.words("Perú") == {"peru"}
        emb_words = set(conn.execute(sa.text("SELECT token FROM emb_token")).scalars())
    assert {"honduras", "hn"} <= emb_words


def test_the_check_sees_a_scan(engine: Engine, world: dict[str, Any]) -> None:
    """The checker itself: a filter on an unindexed column is a full scan, and is caught."""
    assert full_scans(engine.db, "SELECT id FROM request WHERE title = 'x'", None) == ["request"]
