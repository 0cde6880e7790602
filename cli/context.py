"""The runtime a command works on, built from the environment (CICIE_DATABASE_URL, CICIE_HOME).

This is the composition root: the engine knows nothing of mail; here its transitions get the
outbox writer as a listener."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from engine.clock import Clock, system_clock

if TYPE_CHECKING:
    from engine.bootstrap import Runtime


@contextmanager
def runtime(
    clock: Clock = system_clock, language: str | None = None, *, read_only: bool = False
) -> Iterator[Runtime]:
    """Opened (and migrated) for the one command being run, closed after it; with `language`,
    the engine labels states and actions and says refusals in it (`--lang`).

    `read_only`, for the commands that only look: no migration, no write lock, no workflow
    version registered, no mail listener (nothing moves). A schema that is behind stops the
    command with `storage.migrate.SchemaBehind` (`cli.output.domain_errors`: exit 4, run
    `cicie db upgrade`)."""
    from engine.bootstrap import build_runtime  # not for a command's `--help`

    rt = build_runtime(clock=clock, read_only=read_only)
    if language is not None:
        rt.engine.language = language
    if not read_only:
        from notifications.wiring import install_mail  # the mail code: only when it can send

        install_mail(rt)
    try:
        yield rt
    finally:
        rt.close()
