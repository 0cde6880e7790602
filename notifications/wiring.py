"""Attach partner e-mail to an engine: the outbox writer listens to its transitions."""

from __future__ import annotations

from engine.bootstrap import Runtime
from notifications.outbox_writer import OutboxWriter
from notifications.recipients import RecipientResolver
from notifications.render import MailRenderer


def install_mail(runtime: Runtime) -> OutboxWriter:
    settings = runtime.settings
    writer = OutboxWriter(
        MailRenderer(timezone=settings.timezone),
        RecipientResolver(runtime.catalogues, settings),
        settings,
        clock=runtime.engine.clock,
    )
    runtime.engine.subscribe(writer)
    return writer
