"""Assemble an engine from settings: the one place that wires storage, catalogues and
workflows together for the CLI, the web application and the worker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from config import file_cache
from config.catalogues import Catalogues, load_catalogues
from config.planning import load_planning
from config.settings import Settings
from engine.business_time import BusinessTime
from engine.clock import Clock, system_clock
from engine.registry import WorkflowRegistry
from engine.service import Engine
from storage import migrate
from storage.db import Database
from workflows.load.cache import cached_catalogues
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
    read_only: bool = False,
) -> Runtime:
    """Open the database (migrating it unless told not to), register the workflow files.

    `read_only` (the commands that only look): no migration and no write at all — the schema
    must be at this code's head already (else `storage.migrate.SchemaBehind`, which the
    command line turns into "run `cicie db upgrade`"), and the workflow files are matched with
    the stored versions without registering a changed one (`WorkflowRegistry.attach`).
    Otherwise the schema is migrated when it is behind, and a changed file is registered."""
    settings = settings or Settings()
    from storage import derived  # the creation year of the year filter: in the business zone

    derived.use_zone(ZoneInfo(settings.timezone))
    db = open_database(settings)
    try:
        if read_only:
            migrate.require_head(db)
        elif upgrade:
            migrate.upgrade_if_behind(db)
        cache_dir = definition_cache_dir(settings)
        # the closures, planning, holidays and compiled translations kept there too
        file_cache.use_dir(cache_dir)
        catalogues = cached_catalogues(cache_dir, load_catalogues)
        registry = WorkflowRegistry(
            catalogues, settings.workflow_dir or WORKFLOW_DIR, cache_dir=cache_dir
        )
        load_planning()  # lead times and elections: a mistake stops the start here
        if read_only:
            registry.attach(db)
        else:
            registry.sync(db, clock)
    except BaseException:
        db.dispose()
        raise
    engine = Engine(
        db,
        registry,
        catalogues,
        clock=clock,
        language="en",
        business_time=BusinessTime(settings.timezone, settings.reminder_hour),
    )
    return Runtime(settings, db, catalogues, registry, engine)


def definition_cache_dir(settings: Settings) -> Path:
    """Where the checked workflow definitions and the data catalogues are kept between
    processes (`workflows.load.cache`)."""
    return settings.home / "cache"
