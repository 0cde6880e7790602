"""Immutable workflow definitions: what the loader produces and the engine compiles.

Nothing here parses or validates; `workflows.loader` guarantees that every name in these
objects (states, fields, guards, roles) resolves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from config.catalogues import Label

ROLES = ("admin", "coordinator", "viewer", "intern", "delegate", "partner", "system")
DEFAULT_ROLES = ("coordinator", "admin")
ACTIVE = "active"  # source keyword: every active state
PREVIOUS = "previous"  # dest keyword: back to the state held from
FIELD_TYPES = (
    "string",
    "text",
    "integer",
    "number",
    "boolean",
    "date",
    "email",
    "enum",
    "list",
    "object",
    "theme",
    "country",
    "language",
    "partner",
    "cost_matrix",
)


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    label: Label | None = None
    required: bool = True
    values: tuple[str, ...] = ()
    items: FieldDef | None = None
    fields: tuple[FieldDef, ...] = ()
    min_items: int | None = None
    max_items: int | None = None
    minimum: int | date | None = None  # `min`: integer and date fields
    maximum: int | date | None = None  # `max`
    # enum fields: what a person reads for a value (`labels:`); a value without one is said
    # in words made from it
    value_labels: Mapping[str, Label] = field(default_factory=dict, hash=False)

    def value_label(self, value: Any) -> Label | None:
        """The label of one of this enum field's values, or None when it has none."""
        return self.value_labels.get(value) if isinstance(value, str) else None


# who a notification can go to; internal recipients read Spanish, the others any language
RECIPIENT_ROLES = (
    "founders",
    "associate_partner",
    "emb_contacts",
    "coordinator",
    "programme_lead",
    "intern",
    "delegates",
    "speakers",
)
INTERNAL_RECIPIENTS = ("founders", "coordinator", "programme_lead")
REQUIRED_LANGUAGES = ("es", "en", "fr")  # every partner-facing template has these
# what a message may carry: `ics` (a calendar invitation, made when the mail is queued) and
# the delegates' documents (issue 15: PDFs made by the dispatcher when it sends, documents/)
ATTACHMENTS = ("ics", "invitation_letter", "agenda_pack")
DELEGATE_DOCUMENTS = ("invitation_letter", "agenda_pack")


@dataclass(frozen=True)
class NotifyDef:
    """A message a transition (or entering a state) sends: template, recipients, attachments."""

    template: str
    to: tuple[str, ...]
    attach: tuple[str, ...] = ()
    due_field: str | None = None  # "what is due by when": a date field …
    due_days: int = 0  # … plus (or minus) these calendar days
    line: int = 0


@dataclass(frozen=True)
class ChangeRule:
    """Messages to send when fields change without a transition (e.g. the event is postponed)
    while the request is in one of `states`."""

    fields: tuple[str, ...]
    states: tuple[str, ...]
    notify: tuple[NotifyDef, ...]
    line: int = 0


TIMER_KINDS = ("reminder", "escalation", "transition")
# the kinds of organisation that request programmes (brochure: "To whom are the Center's
# programs addressed to?": EMBs, and now civil society organisations and political parties)
ORGANISATION_KINDS = ("emb", "civil_society", "political_party", "academic", "other")


@dataclass(frozen=True)
class TimerDef:
    """A deadline or reminder, live while the request is in one of `states`.

    Due `days` after entering those states (`anchor_field` None), or `days` from a date field
    (negative: before it). Reminders and escalations send `notify`; a `transition` timer fires
    `fire` as the system (an interrupting deadline: the request moves, other timers of the
    states it leaves are cancelled)."""

    id: str
    label: Label
    kind: str
    states: tuple[str, ...]
    days: int
    anchor_field: str | None = None
    working_days: bool = False
    notify: tuple[NotifyDef, ...] = ()
    fire: str | None = None
    repeat_every: int = 0
    repeat_times: int = 1
    line: int = 0


@dataclass(frozen=True)
class StateDef:
    name: str
    label: Label
    final: bool = False
    hold: bool = False
    actors: tuple[str, ...] = ()
    collects: tuple[str, ...] = ()
    notify: tuple[NotifyDef, ...] = ()  # sent whenever a request enters this state

    @property
    def active(self) -> bool:
        return not (self.final or self.hold)


@dataclass(frozen=True)
class GuardRef:
    name: str
    params: Any = None


@dataclass(frozen=True)
class TransitionDef:
    trigger: str
    sources: tuple[str, ...]
    dest: str  # a state name or PREVIOUS
    label: Label
    roles: tuple[str, ...] = DEFAULT_ROLES
    requires: tuple[str, ...] = ()
    guards: tuple[GuardRef, ...] = ()
    collects: tuple[str, ...] = ()
    line: int = 0
    # sources that came only from the `active` keyword (generic exits such as withdraw):
    # they do not count as a way forward when looking for dead ends and traps
    generic_sources: frozenset[str] = frozenset()
    notify: tuple[NotifyDef, ...] = ()


@dataclass(frozen=True)
class MigrationDef:
    """How requests of earlier versions move to this one (`migrations:` in the file): a state's
    old name → its state in this version. `from_versions` empty: any earlier version."""

    states: Mapping[str, str]
    from_versions: tuple[int, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class WorkflowDefinition:
    name: str
    title: Label
    initial: str
    fields: Mapping[str, FieldDef]
    states: Mapping[str, StateDef]
    transitions: tuple[TransitionDef, ...]
    on_change: tuple[ChangeRule, ...] = ()
    timers: tuple[TimerDef, ...] = ()
    migrations: tuple[MigrationDef, ...] = ()
    requesters: tuple[str, ...] = ORGANISATION_KINDS  # the kinds that may request it
    source: str = field(repr=False, default="")
    checksum: str = ""
    path: str = ""

    def active_states(self) -> list[str]:
        return [s.name for s in self.states.values() if s.active]

    def final_states(self) -> list[str]:
        return [s.name for s in self.states.values() if s.final]

    def hold_state(self) -> str | None:
        return next((s.name for s in self.states.values() if s.hold), None)

    def known_as(self, state: str) -> str | None:
        """A state's name in this version: itself, or what a migration renamed it to (history
        rows keep the names of the version they were written under)."""
        if state in self.states:
            return state
        return next((r.states[state] for r in self.migrations if state in r.states), None)

    def migrated_state(self, state: str, from_version: int) -> str | None:
        """The state in this version of a request of `from_version` in `state`: the rule that
        names that version, else a rule for any version, else the same name if it still
        exists; None when the request has nowhere to go."""
        specific = [r for r in self.migrations if from_version in r.from_versions]
        general = [r for r in self.migrations if not r.from_versions]
        for rule in (*specific, *general):
            if state in rule.states:
                return rule.states[state]
        return state if state in self.states else None
