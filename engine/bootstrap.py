"""Assemble an engine from settings: the one place that wires storage, catalogues and
workflows together for the CLI, the web application and the worker."""

from __future__ import annotations

from dataclasses import dataclass

from config.catalogues import Catalogues, load_catalogues
from config.planning import load_planning
from config.settings import Settings
from engine.business_time import BusinessTime
from engine.clock import Clock, system_clock
from engine.registry import WorkflowRegistry
from engine.service import Engine
from storage import migrate
from storage.db import Database
from workflows.loader import WORKFLOW_DIR


@dataclass
class Runtime:
    settings: Settings
    db: Database
    catalogues: Catalogues
    registry: WorkflowRegistry
    engine: Engine

    def close(self) -> None:
        self.db.dispose()


def open_database(settings: Settings) -> Database:
    settings.home.mkdir(parents=True, exist_ok=True)
    return Database(
        settings.resolved_database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        pool_size=settings.db_pool_size,
    )


def build_runtime(
    settings: Settings | None = None,
    *,
    clock: Clock = system_clock,
    upgrade: bool = True,
) -> Runtime:
    """Open the database (migrating it unless told not to), register the workflow files."""
    settings = settings or Settings()
    db = open_database(settings)
    if upgrade:
        migrate.upgrade(db)
    catalogues = load_catalogues()
    registry = WorkflowRegistry(catalogues, settings.workflow_dir or WORKFLOW_DIR)
    load_planning()  # lead times and elections: a mistake stops the start here
    registry.sync(db, clock)
    engine = Engine(
        db,
        registry,
        catalogues,
        clock=clock,
        language="en",
        business_time=BusinessTime(settings.timezone, settings.reminder_hour),
    )
    return Runtime(settings, db, catalogues, registry, engine)
