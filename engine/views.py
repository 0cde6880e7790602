"""What the engine hands back: plain, immutable views with their JSON form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RequestView:
    id: int
    programme: str
    workflow_version: int
    emb: str | None
    title: str
    state: str
    state_label: str
    held_from: str | None
    data: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "programme": self.programme,
            "workflow_version": self.workflow_version,
            "emb": self.emb,
            "title": self.title,
            "state": self.state,
            "state_label": self.state_label,
            "held_from": self.held_from,
            "version": self.version,
            "data": self.data,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class Availability:
    trigger: str
    label: str
    allowed: bool
    reasons: tuple[str, ...]
    # the same refusals as data ({"guard", "reason"}, plus "field" for a required field), so a
    # page can say them in its reader's language
    failures: tuple[dict[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger,
            "label": self.label,
            "allowed": self.allowed,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    version: int
    at: datetime
    actor: str
    trigger: str
    from_state: str | None
    to_state: str
    comment: str | None
    changes: dict[str, Any] | None
    mails: tuple[dict[str, Any], ...] = ()  # the messages this change queued

    def to_dict(self) -> dict[str, Any]:
        return {
            "mails": list(self.mails),
            "from": self.from_state,
            "to": self.to_state,
            "trigger": self.trigger,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "comment": self.comment,
            "version": self.version,
            "changes": self.changes or {},
        }


@dataclass(frozen=True)
class EmbView:
    id: int
    code: str
    name: str
    country: str
    language: str
    email: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "name": self.name,
            "country": self.country,
            "language": self.language,
            "email": self.email,
        }


@dataclass(frozen=True)
class TimelineEntry:
    due_at: datetime  # local business time, with its offset
    kind: str  # reminder | escalation | transition
    what: str  # the template, or the trigger a deadline fires
    recipients: tuple[str, ...]  # recipient roles
    timer: str
    label: str
    occurrence: int
    status: str  # armed | projected

    def to_dict(self) -> dict[str, Any]:
        return {
            "due_at": self.due_at.isoformat(),
            "kind": self.kind,
            "what": self.what,
            "recipients": list(self.recipients),
            "timer": self.timer,
            "label": self.label,
            "occurrence": self.occurrence,
            "status": self.status,
        }
