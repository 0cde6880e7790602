"""`cicie worker`: fire due timers and deliver mail — forever, or once (`--once`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import typer

from cli.background import Worker, build_dispatcher, worker_name
from cli.context import runtime
from cli.logs import configure_logging
from cli.output import LangOption, chosen_language, domain_errors, emit
from cli.words import delivery_text
from engine.bootstrap import Runtime
from engine.clock import ManualClock, system_clock
from engine.errors import InvalidData
from engine.sweep import SweepReport, TimerSweep
from i18n import Text
from notifications.dispatcher import Dispatcher

log = logging.getLogger(__name__)


@contextmanager
def _runtime(now: str | None, lang: str | None = None) -> Iterator[Runtime]:
    clock = system_clock
    if now is not None:
        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            raise InvalidData(
                Text("--now '%(value)s' is not an ISO-8601 date-time", value=now),
                [{"field": "now", "message": "expected e.g. 2026-12-01T09:00:00-06:00"}],
            ) from None
        if moment.tzinfo is None:
            raise InvalidData(
                Text("--now needs a UTC offset"), [{"field": "now", "message": "add e.g. -06:00"}]
            )
        clock = ManualClock(moment)
    with runtime(clock, language=lang) as rt:
        configure_logging(rt.settings)
        yield rt


def worker(
    once: Annotated[
        bool, typer.Option("--once", help="One sweep of timers and mail, then exit.")
    ] = False,
    now: Annotated[
        str | None, typer.Option("--now", help="Act as if it were this ISO-8601 moment.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was done as JSON.")] = False,
    lang: LangOption = None,
) -> None:
    """Fire due reminders, escalations and deadlines, and deliver the outbox."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), _runtime(now, lang) as rt:
        if once:
            timers = TimerSweep(rt.engine, worker=worker_name("once")).run_once()
            mail = asyncio.run(_dispatch_once(rt))
            emit(
                {"timers": timers.to_dict(), "mail": mail},
                as_json,
                lambda: f"{sweep_text(timers, lang)}\n{delivery_text(mail, lang)}",
            )
            return
        asyncio.run(_forever(rt))


def sweep_text(report: SweepReport, lang: str) -> str:
    """What one sweep of the timers did, in `lang`."""
    return Text(
        "Timers fired — reminders: %(reminders)s, escalations: %(escalations)s, deadlines: "
        "%(transitions)s (skipped: %(skipped)s, cancelled: %(cancelled)s, failed: %(failed)s).",
        reminders=report.reminders,
        escalations=report.escalations,
        transitions=report.transitions,
        skipped=report.skipped,
        cancelled=report.cancelled,
        failed=report.failed,
    ).say(lang)


async def _dispatch_once(rt: Runtime) -> dict[str, int]:
    dispatcher = build_dispatcher(Dispatcher, rt, worker=worker_name("once-mail"))
    async with dispatcher:
        report = await dispatcher.run_once()
    return report.to_dict()


async def _forever(rt: Runtime) -> None:
    """Until SIGINT/SIGTERM: then stop claiming, finish or hand back the work in flight
    (`Worker.stop`), exit 0. A second signal while stopping exits at once (130)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():
            log.warning("%s again while stopping: exiting now", sig.name)
            os._exit(130)
        log.info("%s: stopping", sig.name)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, on_signal, sig)
    background = Worker(rt)
    await background.start()
    log.info(
        "worker started (dispatch every %s s, sweep every %s s)",
        background.interval,
        background.sweep_interval,
    )
    try:
        await stop.wait()
    finally:
        await background.stop()
