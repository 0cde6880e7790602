"""Domain events, published to in-transaction listeners.

Mail and reminders subscribe here, so the engine never imports them; a listener writes its rows
with the connection it is given, inside the operation's transaction, and an exception from it
rolls the whole operation back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine.actor import Actor
from engine.views import RequestView
from workflows.definition import TimerDef, TransitionDef, WorkflowDefinition


@dataclass(frozen=True)
class RequestCreated:
    request: RequestView
    definition: WorkflowDefinition
    history_id: int
    actor: Actor
    at: datetime
    comment: str | None = None


@dataclass(frozen=True)
class RequestAdvanced:
    request: RequestView  # as it stands after the transition
    definition: WorkflowDefinition
    from_state: str
    trigger: str
    transition: TransitionDef
    history_id: int
    actor: Actor
    at: datetime
    changes: dict[str, Any]
    comment: str | None = None


@dataclass(frozen=True)
class RequestUpdated:
    """Data changed without a transition (e.g. the event postponed)."""

    request: RequestView
    definition: WorkflowDefinition
    history_id: int
    actor: Actor
    at: datetime
    changes: dict[str, Any]
    comment: str | None = None


@dataclass(frozen=True)
class TimerFired:
    """A reminder or escalation fell due: its messages are queued with this event."""

    request: RequestView
    definition: WorkflowDefinition
    timer: TimerDef
    history_id: int
    at: datetime
    due_at: datetime


DomainEvent = RequestCreated | RequestAdvanced | RequestUpdated | TimerFired
Listener = Callable[[sa.Connection, DomainEvent], None]
