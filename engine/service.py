"""The engine's operations. Each one is one transaction: everything it writes commits together
or not at all, and a refusal writes nothing.

`advance` = lock the row and check its version → validate the step's data → evaluate every
guard of every candidate transition (so all broken rules are reported) → let the shared machine
pick the transition → write state, version + 1, data, one history row → publish the event to
in-transaction listeners (mail, reminders) → commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from config.catalogues import LANGUAGES, Catalogues
from engine.actor import Actor
from engine.business_time import BusinessTime
from engine.clock import Clock, system_clock
from engine.compiler import Candidate, CompiledWorkflow, Subject
from engine.errors import GuardFailed, InvalidData, NotAllowed, NotFound, VersionConflict
from engine.events import (
    DomainEvent,
    Listener,
    RequestAdvanced,
    RequestCreated,
    RequestUpdated,
)
from engine.registry import WorkflowRegistry
from engine.timers import PlannedTimer, TimerPlanner
from engine.views import Availability, EmbView, HistoryEntry, RequestView, TimelineEntry
from storage import embs, hot_path, outbox, requests
from storage import timers as timer_rows
from storage.db import Database
from storage.requests import HistoryRow, RequestRow
from workflows.definition import TransitionDef
from workflows.fields import EMAIL_RE
from workflows.guard_api import GuardContext, RequestFacts

REQUIRED_GUARD = "required_fields"
CREATE_TRIGGER = "create"
UPDATE_TRIGGER = "update"
CREATE_ROLES = ("coordinator", "admin")
UPDATE_ROLES = ("coordinator", "admin")


class Engine:
    def __init__(
        self,
        db: Database,
        registry: WorkflowRegistry,
        catalogues: Catalogues,
        *,
        clock: Clock = system_clock,
        listeners: Iterable[Listener] = (),
        language: str = "en",
        business_time: BusinessTime | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.catalogues = catalogues
        self.clock = clock
        self.business_time = business_time or BusinessTime()
        self.timers = TimerPlanner(self.business_time)
        # timers are the engine's own plan; mail and the rest subscribe after it
        self.listeners: list[Listener] = [self.timers, *listeners]
        self.after_commit: list[Callable[[], None]] = []  # e.g. wake the mail dispatcher
        self.language = language

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    # ------------------------------------------------------------------ EMBs
    def add_emb(
        self, *, code: str, name: str, country: str, language: str, email: str | None = None
    ) -> EmbView:
        errors = []
        code = code.strip()
        if not code or len(code) > 40 or not code.replace("-", "").replace("_", "").isalnum():
            errors.append({"field": "code", "message": "1–40 letters, digits, - or _"})
        if not name.strip() or len(name) > 300 or "\n" in name or "\r" in name:
            errors.append({"field": "name", "message": "one line of 1–300 characters"})
        country = country.strip().upper()
        if country not in self.catalogues.countries:
            errors.append({"field": "country", "message": f"'{country}' is not an ISO2 code"})
        if language not in LANGUAGES:
            errors.append({"field": "language", "message": f"one of {', '.join(LANGUAGES)}"})
        if email is not None and not EMAIL_RE.match(email):
            errors.append({"field": "email", "message": "not a single valid e-mail address"})
        if errors:
            raise InvalidData("the EMB's data is not valid", errors)
        with self.db.transaction() as conn:
            if embs.by_code(conn, code) is not None:
                raise InvalidData(
                    f"an EMB with code '{code}' already exists",
                    [{"field": "code", "message": "already exists"}],
                )
            emb_id = embs.insert(
                conn,
                code=code,
                name=name.strip(),
                country=country,
                language=language,
                email=email,
                now=self.clock(),
            )
        return EmbView(emb_id, code, name.strip(), country, language, email)

    def emb_row(self, code: str | None) -> embs.EmbRow | None:
        """One EMB's record (for recipients and pages), None for no or an unknown code."""
        if not code:
            return None
        with self.db.read() as conn:
            return embs.by_code(conn, code)

    def list_embs(self) -> list[EmbView]:
        with self.db.read() as conn:
            return [
                EmbView(e.id, e.code, e.name, e.country, e.language, e.email)
                for e in embs.all_embs(conn)
            ]

    # ------------------------------------------------------------------ requests
    def create(
        self,
        programme: str,
        *,
        emb_code: str | None,
        title: str,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        comment: str | None = None,
    ) -> RequestView:
        wf = self.registry.current(programme)
        definition = wf.definition
        title = title.strip() if isinstance(title, str) else ""
        if not title or len(title) > 300 or "\n" in title or "\r" in title:
            raise InvalidData(
                "a request needs a one-line title of 1–300 characters",
                [{"field": "title", "message": "one line of 1–300 characters"}],
            )
        if actor.role not in CREATE_ROLES:
            raise NotAllowed(f"role '{actor.role}' may not create requests")
        clean = self._validated_patch(
            wf, data or {}, definition.states[definition.initial].collects
        )
        now = self.clock()
        with self.db.transaction() as conn:
            emb_id = None
            if emb_code:
                emb = embs.by_code(conn, emb_code)
                if emb is None:
                    raise NotFound(f"no EMB with code '{emb_code}'")
                emb_id = emb.id
            merged = {k: v for k, v in clean.items() if v is not None}
            request_id = requests.insert(
                conn,
                programme=programme,
                workflow_version=wf.version,
                emb_id=emb_id,
                title=title,
                state=definition.initial,
                data=merged,
                now=now,
            )
            history_id = requests.append_history(
                conn,
                request_id=request_id,
                version=1,
                at=now,
                actor_role=actor.role,
                actor_name=actor.name,
                trigger=CREATE_TRIGGER,
                from_state=None,
                to_state=definition.initial,
                comment=comment,
                data_diff={k: [None, v] for k, v in merged.items()} or None,
            )
            view = self._view_of(
                wf,
                request_id,
                programme,
                emb_code,
                title,
                definition.initial,
                None,
                merged,
                1,
                now,
                now,
            )
            self.publish(conn, RequestCreated(view, definition, history_id, actor, now, comment))
        self.committed()
        return view

    def advance(
        self,
        request_id: int,
        trigger: str,
        actor: Actor,
        *,
        data: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
        comment: str | None = None,
    ) -> RequestView:
        with self.db.transaction() as conn:
            view = self.advance_in(
                conn,
                request_id,
                trigger,
                actor,
                data=data,
                expected_version=expected_version,
                comment=comment,
            )
        self.committed()
        return view

    def advance_in(
        self,
        conn: sa.Connection,
        request_id: int,
        trigger: str,
        actor: Actor,
        *,
        data: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
        comment: str | None = None,
    ) -> RequestView:
        """`advance` inside the caller's transaction (the timer sweep fires deadlines so)."""
        row = self._lock(conn, request_id, expected_version)
        wf = self.registry.get(conn, row.programme, row.workflow_version)
        candidates = self._candidates(wf, row, trigger, actor)
        collectable = set(wf.definition.states[row.state].collects)
        for cand in candidates:
            collectable.update(cand.transition.collects)
        clean = self._validated_patch(wf, data or {}, tuple(collectable))
        merged, changes = _merge(row.data, clean)
        subject = Subject(state=row.state, held_from=row.held_from)
        failures: list[dict[str, str]] = []
        facts = RequestFacts(row.id, row.programme, row.state, row.emb_code)
        for cand in candidates:
            if cand.needs_held_from is not None and cand.needs_held_from != row.held_from:
                continue
            reasons = self._check(cand.transition, merged, facts)
            subject.verdicts[cand.key] = not reasons
            failures.extend(reasons)
        if not wf.fire(subject, trigger):
            raise GuardFailed(_guard_message(trigger, failures), failures)
        chosen = next(c for c in candidates if subject.verdicts.get(c.key))
        new_state = subject.state
        hold = wf.definition.hold_state()
        held_from = row.state if new_state == hold and row.state != hold else None
        now = self.clock()
        history_id = hot_path.record_transition(
            conn,
            request_id=row.id,
            expected_version=row.version,
            state=new_state,
            held_from=held_from,
            data=merged if changes else None,
            now=now,
            actor_role=actor.role,
            actor_name=actor.name,
            trigger=trigger,
            from_state=row.state,
            comment=comment,
            changes=changes or None,
        )
        if history_id is None:  # pragma: no cover - the row lock makes this unreachable
            raise VersionConflict(f"request {request_id} changed during the transition")
        view = self._view_of(
            wf,
            row.id,
            row.programme,
            row.emb_code,
            row.title,
            new_state,
            held_from,
            merged,
            row.version + 1,
            row.created_at,
            now,
        )
        self.publish(
            conn,
            RequestAdvanced(
                view,
                wf.definition,
                row.state,
                trigger,
                chosen.transition,
                history_id,
                actor,
                now,
                changes,
                comment,
            ),
        )
        return view

    def update(
        self,
        request_id: int,
        actor: Actor,
        *,
        data: Mapping[str, Any],
        expected_version: int | None = None,
        comment: str | None = None,
    ) -> RequestView:
        """Change a request's data without moving it (the event postponed, a speaker replaced).

        Fields the current state collects may change freely (they are checked when the request
        leaves it). Fields of a state already left are checked again against the rules of the
        transition that left it, so an edit can never break a rule that was enforced. One
        history row (trigger `update`); `on_change` rules of the workflow may send mail."""
        if actor.role not in UPDATE_ROLES:
            raise NotAllowed(f"role '{actor.role}' may not change a request's data")
        with self.db.transaction() as conn:
            row = self._lock(conn, request_id, expected_version)
            wf = self.registry.get(conn, row.programme, row.workflow_version)
            definition = wf.definition
            if definition.states[row.state].final:
                raise NotAllowed(f"request {request_id} is closed: its data can no longer change")
            hold = definition.hold_state()
            current = row.held_from if row.state == hold and row.held_from else row.state
            left = _states_left(requests.history(conn, row.id), current, hold)
            editable = set(definition.states[current].collects)
            for state in left:
                editable.update(definition.states[state].collects)
            clean = self._validated_patch(wf, data, tuple(editable))
            merged, changes = _merge(row.data, clean)
            if not changes:
                return self._view(conn, row)
            facts = RequestFacts(row.id, row.programme, row.state, row.emb_code)
            failures = []
            for state, (trigger, dest) in left.items():
                if not set(changes) & set(definition.states[state].collects):
                    continue
                for cand in wf.candidates.get((state, trigger), ()):
                    if cand.dest == dest:
                        failures.extend(self._check(cand.transition, merged, facts))
                        break
            if failures:
                raise GuardFailed(_guard_message("update", failures), failures)
            now = self.clock()
            history_id = hot_path.record_transition(
                conn,
                request_id=row.id,
                expected_version=row.version,
                state=row.state,
                held_from=row.held_from,
                data=merged,
                now=now,
                actor_role=actor.role,
                actor_name=actor.name,
                trigger=UPDATE_TRIGGER,
                from_state=row.state,
                comment=comment,
                changes=changes,
            )
            if history_id is None:  # pragma: no cover - the row lock makes this unreachable
                raise VersionConflict(f"request {request_id} changed during the update")
            view = self._view_of(
                wf,
                row.id,
                row.programme,
                row.emb_code,
                row.title,
                row.state,
                row.held_from,
                merged,
                row.version + 1,
                row.created_at,
                now,
            )
            self.publish(
                conn,
                RequestUpdated(view, definition, history_id, actor, now, changes, comment),
            )
        self.committed()
        return view

    def timeline(self, request_id: int) -> list[TimelineEntry]:
        """Every future reminder, escalation and automatic transition of a request as it stands
        now: the armed ones, and those of later stages whose dates are already known."""
        now = self.clock()
        with self.db.read() as conn:
            row = requests.get(conn, request_id)
            if row is None:
                raise NotFound(f"no request {request_id}")
            wf = self.registry.get(conn, row.programme, row.workflow_version)
            definition = wf.definition
            by_id = {t.id: t for t in definition.timers}
            planned = [
                PlannedTimer(by_id[r.name], r.occurrence, r.due_at, "armed")
                for r in timer_rows.for_request(conn, request_id, statuses=("pending",))
                if r.name in by_id
            ]
        planned.extend(self.timers.projected(definition, row.state, row.data, now))
        planned.sort(key=lambda p: (p.due_at, p.timer.id, p.occurrence))
        return [
            TimelineEntry(
                due_at=self.business_time.localize(p.due_at),
                kind=p.timer.kind,
                what=p.timer.fire or (p.timer.notify[0].template if p.timer.notify else ""),
                recipients=tuple(dict.fromkeys(r for n in p.timer.notify for r in n.to)),
                timer=p.timer.id,
                label=p.timer.label.get(self.language),
                occurrence=p.occurrence,
                status=p.status,
            )
            for p in planned
        ]

    def get(self, request_id: int) -> RequestView:
        with self.db.read() as conn:
            row = requests.get(conn, request_id)
            if row is None:
                raise NotFound(f"no request {request_id}")
            return self._view(conn, row)

    def show(self, request_id: int, actor: Actor) -> tuple[RequestView, list[Availability]]:
        """A request and, for each trigger of its state, whether `actor` may fire it now."""
        with self.db.read() as conn:
            row = requests.get(conn, request_id)
            if row is None:
                raise NotFound(f"no request {request_id}")
            wf = self.registry.get(conn, row.programme, row.workflow_version)
            return self._view(conn, row), self._availability(wf, row, actor)

    def history(self, request_id: int) -> list[HistoryEntry]:
        """Every change, oldest first, each with the messages it queued."""
        with self.db.read() as conn:
            if requests.get(conn, request_id) is None:
                raise NotFound(f"no request {request_id}")
            mails = outbox.by_history(conn, request_id)
            return [
                HistoryEntry(
                    h.id,
                    h.version,
                    h.at,
                    f"{h.actor_role}:{h.actor_name}",
                    h.trigger,
                    h.from_state,
                    h.to_state,
                    h.comment,
                    h.data_diff,
                    tuple(
                        {
                            "id": m.id,
                            "to": m.to_addr,
                            "template": m.template,
                            "language": m.language,
                            "status": m.status,
                        }
                        for m in mails.get(h.id, ())
                    ),
                )
                for h in requests.history(conn, request_id)
            ]

    def list_requests(
        self,
        *,
        state: str | None = None,
        programme: str | None = None,
        emb_code: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[RequestView]:
        with self.db.read() as conn:
            rows = requests.listing(
                conn,
                state=state,
                programme=programme,
                emb_code=emb_code,
                limit=limit,
                offset=offset,
            )
            return [self._view(conn, r) for r in rows]

    def list_actions(self, role: str) -> dict[int, tuple[str, ...]]:
        """Every request's triggers open to `role` in its state (guards are not evaluated:
        this is the list view's cheap answer; `show` gives the full one)."""
        out: dict[int, tuple[str, ...]] = {}
        with self.db.read() as conn:
            for (programme, version), rows in hot_path.request_states(conn).items():
                wf = self.registry.get(conn, programme, version)
                by_state = {state: wf.triggers_for(state, role) for state in wf.definition.states}
                out.update({rid: by_state[state] for rid, state in rows})
        return out

    def list_states(self) -> dict[int, str]:
        with self.db.read() as conn:
            return {
                rid: state for rows in hot_path.request_states(conn).values() for rid, state in rows
            }

    def definition_of(self, view: RequestView) -> CompiledWorkflow:
        """The compiled workflow version a request is pinned to."""
        found = self.registry.cached(view.programme, view.workflow_version)
        if found is not None:
            return found
        with self.db.read() as conn:
            return self.registry.get(conn, view.programme, view.workflow_version)

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _lock(conn: sa.Connection, request_id: int, expected_version: int | None) -> RequestRow:
        """Read and lock the request; a stale `expected_version` is a conflict."""
        row = hot_path.lock_request(conn, request_id)
        if row is None:
            raise NotFound(f"no request {request_id}")
        if expected_version is not None and row.version != expected_version:
            raise VersionConflict(
                f"request {request_id} changed since you read it (you had version "
                f"{expected_version}, it is now {row.version}); reload and try again",
                {"expected": expected_version, "actual": row.version},
            )
        return row

    def committed(self) -> None:
        """Run the after-commit hooks (e.g. wake the mail dispatcher)."""
        for hook in self.after_commit:
            hook()

    def publish(self, conn: sa.Connection, event: DomainEvent) -> None:
        """Hand an event to every listener, in the caller's transaction (timers first)."""
        for listener in self.listeners:
            listener(conn, event)

    def _candidates(
        self, wf: CompiledWorkflow, row: RequestRow, trigger: str, actor: Actor
    ) -> list[Candidate]:
        definition = wf.definition
        state_label = definition.states[row.state].label.get(self.language)
        found = wf.candidates.get((row.state, trigger))
        if not found:
            possible = ", ".join(wf.triggers_by_state.get(row.state, ())) or "none"
            raise NotAllowed(
                f"'{trigger}' is not possible while request {row.id} is in '{state_label}' "
                f"(possible now: {possible})",
                [{"trigger": trigger, "state": row.state}],
            )
        mine = [c for c in found if actor.role in c.transition.roles]
        if not mine:
            roles = sorted({r for c in found for r in c.transition.roles})
            raise NotAllowed(
                f"role '{actor.role}' may not '{trigger}' (allowed: {', '.join(roles)})",
                [{"trigger": trigger, "role": actor.role, "allowed_roles": roles}],
            )
        return mine

    def _validated_patch(
        self, wf: CompiledWorkflow, data: Mapping[str, Any], collectable: Sequence[str]
    ) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise InvalidData(
                "data must be a JSON object", [{"field": "data", "message": "not an object"}]
            )
        if not data:
            return {}
        errors = [
            {
                "field": key,
                "message": (
                    f"'{key}' is not collected at this step"
                    if key in wf.definition.fields
                    else f"'{key}' is not a field of {wf.name}"
                ),
            }
            for key in data
            if key not in collectable
        ]
        clean, type_errors = wf.validators.validate(
            {k: v for k, v in data.items() if k in collectable}
        )
        errors.extend(type_errors)
        if errors:
            raise InvalidData(
                f"{len(errors)} problem(s) in the data: "
                + "; ".join(f"{e['field']}: {e['message']}" for e in errors),
                errors,
            )
        return clean

    def _check(
        self, transition: TransitionDef, data: Mapping[str, Any], facts: RequestFacts
    ) -> list[dict[str, str]]:
        """Reasons this transition may not fire (required fields and every guard)."""
        reasons = [
            {"guard": REQUIRED_GUARD, "field": name, "reason": f"'{name}' must be filled in first."}
            for name in transition.requires
            if data.get(name) in (None, "", [], {})
        ]
        for ref in transition.guards:
            spec = self.registry.guards.get(ref.name)
            assert spec is not None  # checked at load time
            ctx = GuardContext(data, ref.params, self.catalogues, facts)
            reasons.extend({"guard": ref.name, "reason": r} for r in spec.fn(ctx))
        return reasons

    def _availability(
        self, wf: CompiledWorkflow, row: RequestRow, actor: Actor
    ) -> list[Availability]:
        out = []
        facts = RequestFacts(row.id, row.programme, row.state, row.emb_code)
        for trig in wf.triggers_by_state.get(row.state, ()):
            cands = [
                c
                for c in wf.candidates[(row.state, trig)]
                if c.needs_held_from is None or c.needs_held_from == row.held_from
            ]
            label = cands[0].transition.label.get(self.language) if cands else trig
            mine = [c for c in cands if actor.role in c.transition.roles]
            if not mine:
                out.append(
                    Availability(trig, label, False, (f"role '{actor.role}' may not do this",))
                )
                continue
            failures: list[dict[str, str]] = []
            allowed = False
            for cand in mine:
                failed = self._check(cand.transition, row.data, facts)
                if not failed:
                    allowed = True
                    break
                failures.extend(failed)
            if allowed:
                failures = []
            reasons = tuple(f["reason"] for f in failures)
            out.append(Availability(trig, label, allowed, reasons, tuple(failures)))
        return out

    def view_of_row(
        self, conn: sa.Connection, row: RequestRow, *, version: int, updated_at: datetime
    ) -> RequestView:
        """A request's view after a change written by hand (the sweep's history rows)."""
        wf = self.registry.get(conn, row.programme, row.workflow_version)
        return self._view_of(
            wf,
            row.id,
            row.programme,
            row.emb_code,
            row.title,
            row.state,
            row.held_from,
            row.data,
            version,
            row.created_at,
            updated_at,
        )

    def _view(self, conn: sa.Connection, row: RequestRow) -> RequestView:
        return self.view_of_row(conn, row, version=row.version, updated_at=row.updated_at)

    def _view_of(self, wf: CompiledWorkflow, *fields: Any) -> RequestView:
        (rid, programme, emb, title, state, held_from, data, version, created, updated) = fields
        return RequestView(
            id=rid,
            programme=programme,
            workflow_version=wf.version,
            emb=emb,
            title=title,
            state=state,
            state_label=wf.definition.states[state].label.get(self.language),
            held_from=held_from,
            data=data,
            version=version,
            created_at=created,
            updated_at=updated,
        )


def _merge(
    current: Mapping[str, Any], patch: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """JSON merge-patch of top-level fields; returns (merged, {field: [old, new]})."""
    if not patch:
        return dict(current), {}
    merged = dict(current)
    changes: dict[str, Any] = {}
    for key, value in patch.items():
        old = current.get(key)
        if value is None:
            if key in merged:
                del merged[key]
                changes[key] = [old, None]
        elif old != value:
            merged[key] = value
            changes[key] = [old, value]
    return merged, changes


def _states_left(
    history: Sequence[HistoryRow], current: str, hold: str | None
) -> dict[str, tuple[str, str]]:
    """State → (trigger, dest) of the last move out of it, for the states a request has left
    on its way to `current` (moves into and out of the hold state, and updates, do not count)."""
    left: dict[str, tuple[str, str]] = {}
    for h in history:
        if h.from_state and h.from_state != h.to_state and hold not in (h.from_state, h.to_state):
            left[h.from_state] = (h.trigger, h.to_state)
    left.pop(current, None)
    return left


def _guard_message(trigger: str, failures: list[dict[str, str]]) -> str:
    if not failures:
        return f"'{trigger}' cannot happen now"
    lines = "; ".join(f"[{f['guard']}] {f['reason']}" for f in failures)
    return f"'{trigger}' refused: {lines}"
