"""The runtime a command works on, built from the environment (CICIE_DATABASE_URL, CICIE_HOME).

This is the composition root: the engine knows nothing of mail; here its transitions get the
outbox writer as a listener."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from engine.bootstrap import Runtime, build_runtime
from engine.clock import Clock, system_clock
from notifications.wiring import install_mail


@contextmanager
def runtime(clock: Clock = system_clock, language: str | None = None) -> Iterator[Runtime]:
    """Opened (and migrated) for the one command being run, closed after it; with `language`,
    the engine labels states and actions and says refusals in it (`--lang`)."""
    rt = build_runtime(clock=clock)
    if language is not None:
        rt.engine.language = language
    install_mail(rt)
    try:
        yield rt
    finally:
        rt.close()
