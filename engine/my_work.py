""" "Needs my action": the requests a role can move forward now, what blocks each step, and when
each is due.

A role can act on a request when the compiled workflow of the request's version offers that
role a way forward from its state: a trigger of the state's own (the generic exits every active
state has — withdraw, put on hold, decline — are always there and say nothing about what needs
doing, so they do not count). That set of (programme, version, state) is worked out once per
role from the compiled definitions (`scope_for`), so counting needs no guard and no request's
data: the navigation's count is a few index reads (`storage.my_work`).

The list evaluates the rules of the rows of one page only, through the same code path as
`request show` (`engine.operations.availability`), so a page and the CLI give the same reasons.

Due: a request's next pending timer (reminder, escalation or deadline). Overdue: a pending timer
already past due, or a state a deadline moved the request into (e.g. "Final report overdue").

Escalations: a workflow's escalation timers name recipient groups (`coordinator`,
`programme_lead`); the programme lead is a team address in the settings, not a user role, and
signs in as an admin. So an admin sees the escalations sent to the programme lead, a
coordinator those sent to the coordinators (`ESCALATED_TO`), each while the request is still in
the state that escalated; every row also says if its request was escalated.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine.actor import Actor
from engine.compiler import CompiledWorkflow
from engine.errors import CicieError
from engine.operations.availability import ROLE_REFUSAL, availability
from engine.operations.core import EngineCore
from engine.operations.rules import REQUIRED_GUARD
from engine.registry import WorkflowRegistry
from engine.views import Availability
from i18n import Text, say
from storage import my_work as store
from storage import requests, timers
from storage.my_work import FiredEscalation, Scope

PAGE_SIZE = 25
ESCALATION_LIMIT = 20
# the user roles whose home is "Needs my action" (a viewer's is the dashboard)
WORK_ROLES = ("coordinator", "admin")
# whose escalations a role reads as addressed to them (recipient groups of `notify: to:`)
ESCALATED_TO: Mapping[str, tuple[str, ...]] = {
    "admin": ("programme_lead",),
    "coordinator": ("coordinator",),
}


@dataclass(frozen=True)
class WorkCounts:
    total: int
    overdue: int


@dataclass(frozen=True)
class WorkAction:
    """A step the user may take: its label (a `Label`, said in the reader's language), whether
    the rules allow it now and, if not, why (`i18n.Text`s)."""

    trigger: str
    label: Any
    allowed: bool
    reasons: tuple[Text, ...] = ()


@dataclass(frozen=True)
class EscalationNote:
    request_id: int
    title: str
    programme: str
    state_label: Any  # Label
    timer_label: Any  # Label
    recipients: tuple[str, ...]  # recipient groups (i18n.vocabulary "recipient")
    fired_at: datetime | None


@dataclass(frozen=True)
class WorkItem:
    id: int
    title: str
    programme: str
    programme_title: Any  # Label
    state: str
    state_label: Any  # Label
    emb_code: str | None
    emb_name: str | None
    created_at: datetime
    due_at: datetime | None
    due_label: Any  # the timer's Label, or None
    overdue: bool
    actions: tuple[WorkAction, ...]
    escalations: tuple[EscalationNote, ...] = ()


def _said(label: Any, language: str) -> str | None:
    return label.get(language) if label is not None else None


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _action_dict(action: WorkAction, language: str) -> dict[str, Any]:
    return {
        "trigger": action.trigger,
        "label": _said(action.label, language),
        "allowed": action.allowed,
        "reasons": [say(r, language) for r in action.reasons],
    }


def _escalation_dict(note: EscalationNote, language: str) -> dict[str, Any]:
    return {
        "request_id": note.request_id,
        "title": note.title,
        "programme": note.programme,
        "state_label": _said(note.state_label, language),
        "timer_label": _said(note.timer_label, language),
        "recipients": list(note.recipients),
        "fired_at": _when(note.fired_at),
    }


def _item_dict(item: WorkItem, language: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "programme": item.programme,
        "programme_title": _said(item.programme_title, language),
        "state": item.state,
        "state_label": _said(item.state_label, language),
        "emb": item.emb_code,
        "emb_name": item.emb_name,
        "created_at": item.created_at.isoformat(),
        "due_at": _when(item.due_at),
        "due_label": _said(item.due_label, language),
        "overdue": item.overdue,
        "actions": [_action_dict(a, language) for a in item.actions],
        "escalations": [_escalation_dict(e, language) for e in item.escalations],
    }


@dataclass
class MyWork:
    role: str
    can_act: bool  # whether the role can move any request forward at all
    counts: WorkCounts
    items: list[WorkItem]
    page: int
    pages: int
    escalations: list[EscalationNote] = field(default_factory=list)
    escalations_to: tuple[str, ...] = ()
    more_escalations: bool = False

    def to_dict(self, language: str) -> dict[str, Any]:
        """The JSON form (API and `cicie request work --json`): codes beside labels and
        sentences said in `language`, moments as ISO 8601 in UTC for scripts."""
        return {
            "role": self.role,
            "can_act": self.can_act,
            "total": self.counts.total,
            "overdue": self.counts.overdue,
            "page": self.page,
            "pages": self.pages,
            "items": [_item_dict(i, language) for i in self.items],
            "escalations_to": list(self.escalations_to),
            "escalations": [_escalation_dict(e, language) for e in self.escalations],
            "more_escalations": self.more_escalations,
        }


# ---------------------------------------------------------------- what a role can act on
def forward_triggers(wf: CompiledWorkflow, state: str, role: str) -> tuple[str, ...]:
    """The triggers of `state` that are `role`'s and are the state's own ways forward (not
    the generic exits it has through the `active` keyword), in the workflow's order."""
    out = []
    for trig in wf.triggers_by_state.get(state, ()):
        cands = wf.candidates[(state, trig)]
        if all(state in c.transition.generic_sources for c in cands):
            continue
        if any(role in c.transition.roles for c in cands):
            out.append(trig)
    return tuple(out)


def overdue_states(wf: CompiledWorkflow) -> frozenset[str]:
    """The states a deadline (a `kind: transition` timer) moves a request into."""
    fired = {t.fire for t in wf.definition.timers if t.kind == "transition" and t.fire}
    return frozenset(
        t.dest
        for t in wf.definition.transitions
        if t.trigger in fired and t.dest in wf.definition.states
    )


def build_scope(workflows: list[CompiledWorkflow], role: str) -> Scope:
    """What `role` can act on across these compiled versions: a state actionable in every
    version of its programme is counted by (programme, state) alone; one the versions disagree
    on is counted by version too."""
    versions: dict[str, set[int]] = {}
    actionable: dict[tuple[str, str], set[int]] = {}
    late: dict[str, set[str]] = {}
    for wf in workflows:
        versions.setdefault(wf.name, set()).add(wf.version)
        for state in wf.definition.states:
            if forward_triggers(wf, state, role):
                actionable.setdefault((wf.name, state), set()).add(wf.version)
        late.setdefault(wf.name, set()).update(overdue_states(wf))
    uniform: dict[str, set[str]] = {}
    mixed: dict[tuple[str, str], frozenset[int]] = {}
    for (programme, state), found in actionable.items():
        if found == versions[programme]:
            uniform.setdefault(programme, set()).add(state)
        else:
            mixed[(programme, state)] = frozenset(found)
    return Scope(
        uniform={p: frozenset(s) for p, s in uniform.items()},
        mixed=mixed,
        overdue_states={p: frozenset(s) for p, s in late.items() if s},
    )


_SCOPES: weakref.WeakKeyDictionary[WorkflowRegistry, dict[Any, Scope]] = weakref.WeakKeyDictionary()


def _workflows(engine: EngineCore, conn: sa.Connection) -> list[CompiledWorkflow]:
    out = []
    for name, version in store.stored_versions(conn):
        try:
            out.append(engine.registry.get(conn, name, version))
        except CicieError:  # a stored version that no longer loads: none of its requests
            continue
    return out


def scope_for(engine: EngineCore, conn: sa.Connection, role: str) -> Scope:
    """The (programme, version, state) where `role` has a way forward, from the compiled
    definitions of every stored version; worked out once per role and set of versions."""
    key = (role, tuple(store.stored_versions(conn)))
    cache = _SCOPES.setdefault(engine.registry, {})
    found = cache.get(key)
    if found is None:
        found = build_scope(_workflows(engine, conn), role)
        cache[key] = found
    return found


def _counts(conn: sa.Connection, scope: Scope, now: datetime) -> WorkCounts:
    by_pair = store.counts(conn, scope)
    total = sum(by_pair.values())
    overdue = sum(n for (p, s), n in by_pair.items() if s in scope.overdue_states.get(p, ()))
    for programme, version, state, n in store.late_timer_counts(conn, now):
        late_state = state in scope.overdue_states.get(programme, ())
        if not late_state and scope.allows(programme, version, state):
            overdue += n
    return WorkCounts(total, overdue)


def work_counts(engine: EngineCore, role: str) -> WorkCounts:
    """How many requests `role` can act on, and how many of them are overdue: what the
    navigation shows on every page (no guard is evaluated, no request's data is read)."""
    with engine.db.read() as conn:
        scope = scope_for(engine, conn, role)
        if scope.empty:
            return WorkCounts(0, 0)
        return _counts(conn, scope, engine.clock())


# ---------------------------------------------------------------- the page
def _escalation_timers(
    workflows: list[CompiledWorkflow], audience: tuple[str, ...] | None
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """programme → escalation timer ids (addressed to `audience`; None: to anyone), and
    programme → the states they live in."""
    names: dict[str, set[str]] = {}
    states: dict[str, set[str]] = {}
    for wf in workflows:
        for t in wf.definition.timers:
            if t.kind != "escalation":
                continue
            to = {r for n in t.notify for r in n.to}
            if audience is not None and not to & set(audience):
                continue
            names.setdefault(wf.name, set()).add(t.id)
            states.setdefault(wf.name, set()).update(t.states)
    return names, states


def _action(wf: CompiledWorkflow, state: str, found: Availability) -> WorkAction:
    """A step as the list shows it. A field the step itself asks for (a reason for declining,
    for putting on hold) is typed when taking it: its absence blocks nothing yet."""
    typed_with_step = {
        name
        for c in wf.candidates.get((state, found.trigger), ())
        for name in c.transition.collects
    }
    blocking = tuple(
        f["message"]
        for f in found.failures
        if f["code"] != ROLE_REFUSAL
        and not (f["code"] == REQUIRED_GUARD and f.get("field") in typed_with_step)
    )
    return WorkAction(found.trigger, found.labels, found.allowed or not blocking, blocking)


def _note(engine: EngineCore, conn: sa.Connection, found: FiredEscalation) -> EscalationNote:
    wf = engine.registry.get(conn, found.programme, found.workflow_version)
    timer = next((t for t in wf.definition.timers if t.id == found.timer), None)
    state = wf.definition.states.get(found.state)
    return EscalationNote(
        request_id=found.request_id,
        title=found.title,
        programme=found.programme,
        state_label=state.label if state is not None else None,
        timer_label=timer.label if timer is not None else None,
        recipients=tuple(dict.fromkeys(r for n in timer.notify for r in n.to)) if timer else (),
        fired_at=found.fired_at,
    )


def _latest_by_request(found: list[FiredEscalation]) -> list[FiredEscalation]:
    """One escalation per request (the newest: `found` is newest first)."""
    seen: set[int] = set()
    out = []
    for f in found:
        if f.request_id not in seen:
            seen.add(f.request_id)
            out.append(f)
    return out


def load_my_work(engine: EngineCore, actor: Actor, page: int = 1) -> MyWork:
    """One page of what `actor`'s role can move forward now, with each step's blocking rules
    and due date; and the escalations addressed to the role."""
    now = engine.clock()
    with engine.db.read() as conn:
        scope = scope_for(engine, conn, actor.role)
        if scope.empty:
            return MyWork(actor.role, False, WorkCounts(0, 0), [], 1, 1)
        counts = _counts(conn, scope, now)
        pages = max(1, -(-counts.total // PAGE_SIZE))
        page = min(max(1, page), pages)
        rows = store.page(conn, scope, now=now, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        workflows = _workflows(engine, conn)

        any_names, any_states = _escalation_timers(workflows, None)
        by_request: dict[int, list[EscalationNote]] = {}
        for f in _latest_by_request(
            store.fired_escalations(
                conn, any_names, any_states, request_ids=[r.id for r in rows], limit=PAGE_SIZE * 4
            )
        ):
            by_request.setdefault(f.request_id, []).append(_note(engine, conn, f))

        items = []
        for listed in rows:
            row = requests.get(conn, listed.id)
            if row is None:  # pragma: no cover - deleted between the two reads
                continue
            wf = engine.registry.get(conn, row.programme, row.workflow_version)
            mine = set(forward_triggers(wf, row.state, actor.role))
            actions = tuple(
                _action(wf, row.state, a)
                for a in availability(engine, wf, row, actor)
                if a.trigger in mine
            )
            pending = timers.for_request(conn, row.id, statuses=("pending",))
            nxt = pending[0] if pending else None
            timer = (
                next((t for t in wf.definition.timers if t.id == nxt.name), None) if nxt else None
            )
            late_state = row.state in overdue_states(wf)
            items.append(
                WorkItem(
                    id=row.id,
                    title=row.title,
                    programme=row.programme,
                    programme_title=wf.definition.title,
                    state=row.state,
                    state_label=wf.definition.states[row.state].label,
                    emb_code=listed.emb_code,
                    emb_name=listed.emb_name,
                    created_at=row.created_at,
                    due_at=nxt.due_at if nxt else None,
                    due_label=timer.label if timer is not None else None,
                    overdue=late_state or (nxt is not None and nxt.due_at < now),
                    actions=actions,
                    escalations=tuple(by_request.get(row.id, ())),
                )
            )

        audience = ESCALATED_TO.get(actor.role, ())
        escalations: list[EscalationNote] = []
        more = False
        if audience:
            names, states = _escalation_timers(workflows, audience)
            found = _latest_by_request(
                store.fired_escalations(conn, names, states, limit=ESCALATION_LIMIT * 4)
            )
            more = len(found) > ESCALATION_LIMIT
            escalations = [_note(engine, conn, f) for f in found[:ESCALATION_LIMIT]]
    return MyWork(
        role=actor.role,
        can_act=True,
        counts=counts,
        items=items,
        page=page,
        pages=pages,
        escalations=escalations,
        escalations_to=audience,
        more_escalations=more,
    )
