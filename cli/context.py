"""The runtime a command works on, built from the environment (CICIE_DATABASE_URL, CICIE_HOME)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from engine.bootstrap import Runtime, build_runtime


@contextmanager
def runtime() -> Iterator[Runtime]:
    """Opened (and migrated) for the one command being run, closed after it."""
    rt = build_runtime()
    try:
        yield rt
    finally:
        rt.close()
