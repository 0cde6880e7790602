"""What the engine hands back: plain, immutable views with their JSON form."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from i18n import say


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
    # the state's label in every language (`.get(language)`), for `to_dict(language)`
    state_labels: Any = field(default=None, compare=False, repr=False)
    # what does not block but a coordinator must see (`engine.warnings.Notice`s): filled by
    # `Engine.show` only; `warnings_dicts(language)` is their JSON form
    warnings: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    def warnings_dicts(self, language: str) -> list[dict[str, Any]]:
        """[{"code", "message" (said in `language`), "field"}] — `request show --json`."""
        return [notice.to_dict(language) for notice in self.warnings]

    def to_dict(self, language: str | None = None) -> dict[str, Any]:
        """The JSON form; `language` chooses the language of the state's label (else the
        engine's)."""
        state_label = self.state_label
        if language is not None and self.state_labels is not None:
            state_label = self.state_labels.get(language)
        return {
            "id": self.id,
            "programme": self.programme,
            "workflow_version": self.workflow_version,
            "emb": self.emb,
            "title": self.title,
            "state": self.state,
            "state_label": state_label,
            "held_from": self.held_from,
            "version": self.version,
            "data": self.data,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class Availability:
    """Whether a trigger may fire now, and if not, why. `label` and `reasons` are said in the
    engine's language; `failures` are the same refusals as data ({"code", "message": an
    `i18n.Text`, plus "field" for a required field}) and `labels` the trigger's label in every
    language, so a page, the CLI or the API says them in its reader's language."""

    trigger: str
    label: str
    allowed: bool
    reasons: tuple[str, ...]
    failures: tuple[dict[str, Any], ...] = ()
    labels: Any = field(default=None, compare=False, repr=False)
    language: str = "en"  # the language of `label` and `reasons`

    def messages(self, language: str | None = None) -> list[str]:
        """The reasons, said in `language` (else the engine's)."""
        if language is None or not self.failures:
            return list(self.reasons)
        return [say(f["message"], language) for f in self.failures]

    def to_dict(self, language: str | None = None) -> dict[str, Any]:
        """The JSON form: `reasons` as [{"code", "message"}] (plus "field" for a required
        field), the messages and the label in `language` (else the engine's)."""
        language = language or self.language
        label = self.labels.get(language) if self.labels is not None else self.label
        reasons = []
        for f in self.failures:
            reason = {"code": f["code"], "message": say(f["message"], language)}
            if f.get("field"):
                reason["field"] = f["field"]
            reasons.append(reason)
        return {
            "trigger": self.trigger,
            "label": label,
            "allowed": self.allowed,
            "reasons": reasons,
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
    kind: str = "emb"  # emb | civil_society | political_party | academic | other
    active: bool = True  # a deactivated organisation may not open new requests

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "name": self.name,
            "country": self.country,
            "language": self.language,
            "email": self.email,
            "kind": self.kind,
            "active": self.active,
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


def shown_dict(
    view: RequestView, available: Sequence[Availability], language: str
) -> dict[str, Any]:
    """A request as `show` gives it (`request show --json`, `GET /api/requests/{id}`): the
    request, each trigger of its state for the caller (`available`) and its `warnings`, said
    in `language`."""
    return view.to_dict(language) | {
        "available": [a.to_dict(language) for a in available],
        "warnings": view.warnings_dicts(language),
    }
