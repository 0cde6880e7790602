"""The worker inside a long-running process (`cicie worker`, and `cicie serve`).

APScheduler 3.11's AsyncIOScheduler with its in-memory job store is only the clock: one
interval job sweeps due timers, another runs a mail dispatcher pass (`coalesce=True`,
`max_instances=1`), and a committed change moves the next dispatch to "now" so partners hear
of it within a moment. The queues themselves are tables (timers, outbox), so nothing is lost
when the process stops, and several workers may run at once. With no SMTP relay configured,
an aiosmtpd catcher on loopback receives the mail (under `$CICIE_HOME/mail`), so the real
delivery path always runs.

Stopping (SIGTERM/SIGINT on `cicie worker`, shutdown of `cicie serve`) is graceful: no new
claims are taken; the timer being fired finishes (one transaction) and the rest of its claimed
batch is handed back; the mail batch in flight is sent and recorded if that takes less than
`CICIE_SHUTDOWN_GRACE` seconds, else it is cancelled. Whatever this process still holds then
(timers `claimed`, messages `sending` under its name) gets its lease cleared, so another worker
takes it at once instead of after the lease.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.bootstrap import Runtime
from engine.service import Engine
from engine.sweep import SweepReport, TimerSweep
from notifications.catcher import MailCatcher
from notifications.dispatcher import Dispatcher
from notifications.smtp import SmtpConfig
from storage import outbox, timers
from storage.db import Database
from storage.outbox import Claimed
from storage.timers import ClaimedTimer

log = logging.getLogger(__name__)


def worker_name(role: str) -> str:
    """Unique among running workers: it owns the leases it takes."""
    return f"{socket.gethostname()}:{os.getpid()}:{role}"


D = TypeVar("D", bound=Dispatcher)


def build_dispatcher(
    kind: type[D],
    runtime: Runtime,
    *,
    worker: str,
    catcher_port: int | None = None,
    **extra: Any,
) -> D:
    """A dispatcher (`kind`) configured from the runtime's settings, delivering as `worker`."""
    settings = runtime.settings
    return kind(
        runtime.db,
        SmtpConfig.from_settings(settings, catcher_port=catcher_port),
        clock=runtime.engine.clock,
        worker=worker,
        connections=settings.smtp_connections,
        max_attempts=settings.mail_max_attempts,
        lease_seconds=settings.outbox_lease_seconds,
        **extra,
    )


JOB_ID = "outbox-dispatch"
SWEEP_ID = "timer-sweep"


class Stopping(Exception):
    """The worker is stopping: the sweep leaves the rest of its batch to `release_leases`."""


class StoppableSweep(TimerSweep):
    """The timer sweep, checked before each timer: once `stopping` is set, the timer being
    fired has finished (its transaction is whole) and no other is started or claimed."""

    def __init__(self, engine: Engine, *, stopping: threading.Event, **kwargs: Any) -> None:
        super().__init__(engine, **kwargs)
        self.stopping = stopping

    def _fire(self, item: ClaimedTimer, now: datetime, report: SweepReport) -> None:
        if self.stopping.is_set():
            raise Stopping
        super()._fire(item, now, report)


class StoppableDispatcher(Dispatcher):
    """The dispatcher, which takes no new batch once `stopping` is set (the batch in flight is
    still sent and recorded)."""

    def __init__(self, *args: Any, stopping: threading.Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stopping = stopping

    async def _claim(self, start: datetime) -> tuple[datetime, list[Claimed]] | None:
        if self.stopping.is_set():
            return None
        return await super()._claim(start)


def release_leases(db: Database, *, timer_worker: str, mail_worker: str) -> tuple[int, int]:
    """Hand back every timer and message still leased to this process: due again at once for
    any worker. A message's attempt is not counted (as `outbox.settle(release=…)` does).
    Returns (timers, messages) released."""
    with db.transaction() as conn:
        released = timers.release_all(conn, timer_worker)
        messages = outbox.release_all(conn, mail_worker)
    return released, messages


class Worker:
    def __init__(
        self,
        runtime: Runtime,
        *,
        interval: float | None = None,
        sweep_interval: float | None = None,
        grace: float | None = None,
    ) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.interval = settings.dispatch_interval if interval is None else interval
        self.sweep_interval = settings.sweep_interval if sweep_interval is None else sweep_interval
        self.grace = settings.shutdown_grace if grace is None else grace
        self.stopping = threading.Event()
        self.sweep = StoppableSweep(
            runtime.engine,
            worker=worker_name("worker"),
            lease_seconds=settings.timer_lease_seconds,
            stopping=self.stopping,
        )
        self.catcher: MailCatcher | None = None
        self.dispatcher: StoppableDispatcher | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: set[asyncio.Task[Any]] = set()
        # set once the first mail pass and the first timer sweep have ended, so that
        # `serve` can print its address and login after their log lines (issue 15: quiet start)
        self.first_passes_done = threading.Event()
        self._passes_pending = {"dispatch", "sweep"}

    async def start(self) -> None:
        settings = self.runtime.settings
        catcher_port = None
        if settings.smtp_host is None:
            self.catcher = MailCatcher(settings.mail_dir, port=settings.catcher_port)
            catcher_port = await self.catcher.start()
            log.info("no SMTP relay configured: catching mail on 127.0.0.1:%s", catcher_port)
        self.dispatcher = build_dispatcher(
            StoppableDispatcher,
            self.runtime,
            worker=worker_name("mail"),
            catcher_port=catcher_port,
            stopping=self.stopping,
        )
        self._loop = asyncio.get_running_loop()
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.scheduler.add_job(
            self._dispatch,
            "interval",
            seconds=self.interval,
            id=JOB_ID,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )
        self.scheduler.add_job(
            self._sweep,
            "interval",
            seconds=self.sweep_interval,
            id=SWEEP_ID,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )
        self.scheduler.start()
        self.runtime.engine.after_commit.append(self.nudge)

    def _track(self) -> asyncio.Task[Any] | None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return task

    async def _dispatch(self) -> None:
        assert self.dispatcher is not None
        if self.stopping.is_set():
            return
        self._track()
        try:
            report = await self.dispatcher.run_once()
        except Exception:  # a pass must never kill the schedule; the next one retries
            log.exception("mail dispatch pass failed")
            self._pass_ended("dispatch")
            return
        if report.sent or report.retrying or report.dead:
            log.info(
                "mail: %s sent, %s retrying, %s dead", report.sent, report.retrying, report.dead
            )
        self._pass_ended("dispatch")

    async def _sweep(self) -> None:
        if self.stopping.is_set():
            return
        self._track()
        try:
            report = await asyncio.to_thread(self.sweep.run_once)
        except Stopping:
            log.info("timer sweep interrupted: the worker is stopping")
            self._pass_ended("sweep")
            return
        except Exception:  # a pass must never kill the schedule; the next one retries
            log.exception("timer sweep failed")
            self._pass_ended("sweep")
            return
        summary = {k: v for k, v in report.to_dict().items() if k != "fired"}
        if report.fired or report.skipped:
            log.info("timers: %s", summary)
        self._pass_ended("sweep")

    def _pass_ended(self, name: str) -> None:
        self._passes_pending.discard(name)
        if not self._passes_pending:
            self.first_passes_done.set()

    def nudge(self) -> None:
        """Run a pass now (called after a commit, possibly from a worker thread)."""
        loop, scheduler = self._loop, self.scheduler
        if loop is None or scheduler is None or loop.is_closed():
            return

        def wake() -> None:
            job = scheduler.get_job(JOB_ID)
            if job is not None:
                job.modify(next_run_time=datetime.now(UTC))

        loop.call_soon_threadsafe(wake)

    async def stop(self) -> None:
        """Stop claiming, let the work in flight end (within the grace period), hand back
        what is still leased to this process."""
        if self.nudge in self.runtime.engine.after_commit:
            self.runtime.engine.after_commit.remove(self.nudge)
        self.stopping.set()
        if self.scheduler is not None:
            # pause first: shutdown() would cancel the passes that are running
            self.scheduler.pause()
        running = [t for t in self._running if not t.done()]
        if running:
            log.info("stopping: waiting up to %s s for %s pass(es)", self.grace, len(running))
            _done, late = await asyncio.wait(running, timeout=self.grace)
            for task in late:
                task.cancel()
            if late:
                log.warning("stopping: %s pass(es) cancelled after the grace period", len(late))
                await asyncio.wait(late, timeout=5)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self.dispatcher is not None:
            try:
                n_timers, n_messages = await asyncio.to_thread(
                    release_leases,
                    self.runtime.db,
                    timer_worker=self.sweep.worker,
                    mail_worker=self.dispatcher.worker,
                )
            except sa.exc.SQLAlchemyError:
                log.exception("stopping: could not hand back leases; they expire on their own")
            else:
                if n_timers or n_messages:
                    log.info(
                        "stopping: handed back %s timers and %s messages", n_timers, n_messages
                    )
            await self.dispatcher.aclose()
        if self.catcher is not None:
            await self.catcher.stop()
        log.info("worker stopped")
