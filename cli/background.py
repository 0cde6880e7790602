"""The worker inside a long-running process (`cicie worker`, and `cicie serve`).

APScheduler 3.11's AsyncIOScheduler with its in-memory job store is only the clock: one
interval job sweeps due timers, another runs a mail dispatcher pass (`coalesce=True`,
`max_instances=1`), and a committed change moves the next dispatch to "now" so partners hear
of it within a moment. The queues themselves are tables (timers, outbox), so nothing is lost
when the process stops, and several workers may run at once. With no SMTP relay configured,
an aiosmtpd catcher on loopback receives the mail (under `$CICIE_HOME/mail`), so the real
delivery path always runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.bootstrap import Runtime
from engine.sweep import TimerSweep
from notifications.catcher import MailCatcher
from notifications.dispatcher import Dispatcher
from notifications.smtp import SmtpConfig

log = logging.getLogger(__name__)


def worker_name(role: str) -> str:
    """Unique among running workers: it owns the leases it takes."""
    return f"{socket.gethostname()}:{os.getpid()}:{role}"


JOB_ID = "outbox-dispatch"
SWEEP_ID = "timer-sweep"


class Worker:
    def __init__(
        self, runtime: Runtime, *, interval: float = 10.0, sweep_interval: float = 30.0
    ) -> None:
        self.runtime = runtime
        self.interval = interval
        self.sweep_interval = sweep_interval
        self.sweep = TimerSweep(runtime.engine, worker=worker_name("worker"))
        self.catcher: MailCatcher | None = None
        self.dispatcher: Dispatcher | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        settings = self.runtime.settings
        catcher_port = None
        if settings.smtp_host is None:
            self.catcher = MailCatcher(settings.mail_dir, port=settings.catcher_port)
            catcher_port = await self.catcher.start()
            log.info("no SMTP relay configured: catching mail on 127.0.0.1:%s", catcher_port)
        self.dispatcher = Dispatcher(
            self.runtime.db,
            SmtpConfig.from_settings(settings, catcher_port=catcher_port),
            clock=self.runtime.engine.clock,
            worker=worker_name("mail"),
            connections=settings.smtp_connections,
            max_attempts=settings.mail_max_attempts,
            lease_seconds=settings.outbox_lease_seconds,
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

    async def _dispatch(self) -> None:
        assert self.dispatcher is not None
        try:
            report = await self.dispatcher.run_once()
        except Exception:  # a pass must never kill the schedule; the next one retries
            log.exception("mail dispatch pass failed")
            return
        if report.sent or report.retrying or report.dead:
            log.info(
                "mail: %s sent, %s retrying, %s dead", report.sent, report.retrying, report.dead
            )

    async def _sweep(self) -> None:
        try:
            report = await asyncio.to_thread(self.sweep.run_once)
        except Exception:  # a pass must never kill the schedule; the next one retries
            log.exception("timer sweep failed")
            return
        if report.fired or report.skipped:
            log.info("timers: %s", report.to_dict())

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
        if self.nudge in self.runtime.engine.after_commit:
            self.runtime.engine.after_commit.remove(self.nudge)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self.dispatcher is not None:
            await self.dispatcher.aclose()
        if self.catcher is not None:
            await self.catcher.stop()
