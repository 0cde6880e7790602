"""Shared fixtures: real databases (a fresh SQLite file per test, and the PostgreSQL server at
127.0.0.1:5432 with a database per test worker, emptied before each test), an engine with a
clock the tests move, and factories that return callables.

Every test that asks for `runtime` (or `engine`) runs once on SQLite and once on PostgreSQL.
Where no PostgreSQL answers, the PostgreSQL half skips with the reason; under CI=true it fails.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from config.catalogues import load_catalogues
from config.settings import Settings
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.registry import WorkflowRegistry
from engine.service import Engine
from engine.views import RequestView
from storage import (
    migrate,
    results_models,  # noqa: F401  (its tables are emptied between tests too)
)
from storage.db import Database
from storage.models import metadata
from workflows.loader import WORKFLOW_DIR


@pytest.fixture(autouse=True)
def _no_foreign_event_loop(request: pytest.FixtureRequest) -> Iterator[None]:
    """Playwright's synchronous API keeps its event loop marked as running in the main thread
    for the whole session (tests/browser); a test on the same xdist worker that runs a command
    in-process which calls `asyncio.run` (`worker --once`, `outbox send`) would be refused.
    Outside the browser tests the mark is set aside for the test and put back after it."""
    import asyncio

    if request.node.path.is_relative_to(Path(__file__).parent / "browser"):
        yield
        return
    loop = asyncio._get_running_loop()
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(loop)


PG_ADMIN_URL = os.environ.get(
    "CICIE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
EXAMPLES = WORKFLOW_DIR / "examples"
START = datetime(2026, 1, 12, 15, 0, tzinfo=UTC)
PROGRAMMES = [
    "international_workshop",
    "internship",
    "specialization_course",
    "seminar",
    "technical_assistance",
]


# ---------------------------------------------------------------- databases
@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per session; each test gets a copy (a fresh real file)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    db.dispose()
    with sqlite3.connect(path) as conn:  # fold the WAL into the file we copy
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def _postgres_available() -> str | None:
    """None when the server answers, else why not."""
    try:
        eng = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with eng.connect():
            pass
        eng.dispose()
        return None
    except Exception as exc:  # any reason the server cannot be used
        return f"PostgreSQL at {PG_ADMIN_URL} is not available: {type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def postgres_database(worker_id: str) -> Iterator[str]:
    """A database of our own for this test worker, migrated once, dropped at the end."""
    reason = _postgres_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
        pytest.skip(reason)
    name = f"cicie_test_{worker_id}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _empty_postgres(url: str) -> None:
    db = Database(url)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A real, migrated, empty database: a SQLite file of this test's own, or PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "cicie.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """For the few tests about SQLite itself."""
    path = tmp_path / "cicie.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


# ---------------------------------------------------------------- engine
@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(home=tmp_path / "home", database_url=database_url, environment="test")


@pytest.fixture
def runtime(settings: Settings, clock: ManualClock) -> Iterator[Runtime]:
    db = Database(settings.resolved_database_url)
    catalogues = load_catalogues()
    registry = WorkflowRegistry(catalogues)
    registry.sync(db, clock)
    engine = Engine(db, registry, catalogues, clock=clock)
    rt = Runtime(settings, db, catalogues, registry, engine)
    yield rt
    rt.close()


@pytest.fixture
def engine(runtime: Runtime) -> Engine:
    return runtime.engine


@pytest.fixture
def coordinator() -> Actor:
    return Actor("coordinator", "ana")


def example_steps(programme: str) -> list[dict[str, Any]]:
    """The realistic path from intake to closed bundled with each workflow."""
    with open(EXAMPLES / f"{programme}.yaml", encoding="utf-8") as fh:
        return list(yaml.safe_load(fh)["steps"])


@pytest.fixture
def make_emb(engine: Engine) -> Callable[..., str]:
    counter = iter(range(1, 10_000))

    def make(
        code: str | None = None, *, country: str = "HN", language: str = "es", **kw: Any
    ) -> str:
        code = code or f"EMB-{next(counter)}"
        engine.add_emb(
            code=code,
            name=kw.get("name", f"Electoral body {code}"),
            country=country,
            language=language,
            email=kw.get("email"),
        )
        return code

    return make


@pytest.fixture
def make_request(
    engine: Engine, make_emb: Callable[..., str], coordinator: Actor
) -> Callable[..., RequestView]:
    """A request of `programme`, driven along its bundled example until it reaches `state`."""

    def make(programme: str = "international_workshop", state: str = "intake") -> RequestView:
        view = engine.create(
            programme, emb_code=make_emb(), title=f"{programme} request", actor=coordinator
        )
        for step in example_steps(programme):
            if view.state == state:
                return view
            view = engine.advance(
                view.id, step["trigger"], Actor.parse(step["as"]), data=step.get("data") or {}
            )
        assert view.state == state, f"{programme} never reached {state}"
        return view

    return make
