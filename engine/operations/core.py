"""What every engine operation shares: the database it writes in, the registry of compiled
workflows, the catalogues the guards read, the clock, the interface language, the business
calendar with its timer planner, and the listeners an operation publishes its event to inside
its transaction (the planner first; mail and the rest subscribe after it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from engine.business_time import BusinessTime
from engine.clock import Clock, system_clock

if TYPE_CHECKING:  # the read path imports neither SQLAlchemy nor the timer planner (issue 16)
    import sqlalchemy as sa

    from config.catalogues import Catalogues
    from engine.events import DomainEvent, Listener
    from engine.registry import WorkflowRegistry
    from storage.db import Database


class EngineReader:
    """What reading a request needs: the registry of compiled workflows, the catalogues the
    guards read, the clock, the interface language and the business calendar. `EngineCore`
    adds the database and what writing needs; `cicie request show` on SQLite reads with this
    alone (`cli.lean_show`), its rows read through `storage.reads`."""

    def __init__(
        self,
        registry: WorkflowRegistry,
        catalogues: Catalogues,
        *,
        clock: Clock = system_clock,
        language: str = "en",
        business_time: BusinessTime | None = None,
    ) -> None:
        self.registry = registry
        self.catalogues = catalogues
        self.clock = clock
        self.business_time = business_time or BusinessTime()
        self.language = language


class EngineCore(EngineReader):
    def __init__(
        self,
        db: Database,
        registry: WorkflowRegistry,
        catalogues: Catalogues,
        *,
        clock: Clock = system_clock,
        listeners: Iterable[Listener] = (),
        language: str = "en",
        business_time: BusinessTime | None = None,
    ) -> None:
        from engine.timers import TimerPlanner  # SQLAlchemy: only for an engine that writes

        super().__init__(
            registry, catalogues, clock=clock, language=language, business_time=business_time
        )
        self.db = db
        self.timers = TimerPlanner(self.business_time)
        # timers are the engine's own plan; mail and the rest subscribe after it
        self.listeners: list[Listener] = [self.timers, *listeners]
        self.after_commit: list[Callable[[], None]] = []  # e.g. wake the mail dispatcher

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def committed(self) -> None:
        """Run the after-commit hooks (e.g. wake the mail dispatcher)."""
        for hook in self.after_commit:
            hook()

    def publish(self, conn: sa.Connection, event: DomainEvent) -> None:
        """Hand an event to every listener, in the caller's transaction (timers first)."""
        for listener in self.listeners:
            listener(conn, event)
