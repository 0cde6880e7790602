"""Moving live requests of a workflow to another stored version, with a dry run first.

`Migration.plan(name, to)` reads, per live request pinned to another version (live: not in a
final state): the state it would have (the target version's `migrations:` rules, else the
same name), why it cannot move, the data the target version would find invalid, and the timers
that would be cancelled, armed or moved. `Migration.apply(name, to)` migrates each request in
its own transaction: lock the row, plan again on what is stored now (a request changed since
the dry run is judged as it is), and, if it can move, write its new version and state, one
history row (trigger `migrate`, comment "workflow v1 → v2") and its timers, exactly as
planned. A request that cannot move is reported and left untouched.

Data is never changed: values the target version finds invalid are reported, and corrected
afterwards with `request update`. No domain event is published: the engine's listeners are the
timer planner, whose work the migration does itself, and the mail writer — a migration is an
internal re-labelling, so partners get no message about it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine.actor import Actor
from engine.compiler import CompiledWorkflow
from engine.errors import NotAllowed
from engine.service import Engine, last_moves_out
from engine.timers import emb_country
from storage import hot_path, requests, timers, workflow_versions
from storage.requests import HistoryRow, RequestRow
from workflows.definition import TimerDef, WorkflowDefinition
from workflows.guard_api import RequestFacts

MIGRATE_TRIGGER = "migrate"
MIGRATE_ROLES = ("admin", "coordinator")
Localize = Callable[[datetime], datetime]


@dataclass(frozen=True)
class TimerChange:
    timer: str
    occurrence: int
    due_at: datetime  # cancel: when it was due; arm and move: when it will be due
    previous: datetime | None = None  # move: when it was due
    why: str = ""  # cancel
    kind: str = ""  # arm
    row_id: int | None = None  # cancel and move

    def to_dict(self, localize: Localize) -> dict[str, Any]:
        out: dict[str, Any] = {"timer": self.timer, "occurrence": self.occurrence}
        if self.previous is not None:
            out["from"] = localize(self.previous).isoformat()
            out["to"] = localize(self.due_at).isoformat()
        else:
            out["due_at"] = localize(self.due_at).isoformat()
        if self.kind:
            out["kind"] = self.kind
        if self.why:
            out["why"] = self.why
        return out


@dataclass(frozen=True)
class TimerPlan:
    cancel: tuple[TimerChange, ...] = ()
    arm: tuple[TimerChange, ...] = ()
    move: tuple[TimerChange, ...] = ()

    def to_dict(self, localize: Localize) -> dict[str, Any]:
        return {
            "cancel": [c.to_dict(localize) for c in self.cancel],
            "arm": [c.to_dict(localize) for c in self.arm],
            "move": [c.to_dict(localize) for c in self.move],
        }


@dataclass(frozen=True)
class MigrationPlan:
    """What migrating one request does (or why it cannot)."""

    id: int
    title: str
    state: str
    held_from: str | None
    from_version: int
    to_version: int
    to_state: str | None
    to_held_from: str | None
    reasons: tuple[str, ...]
    invalid_data: tuple[dict[str, str], ...]
    timers: TimerPlan = field(default_factory=TimerPlan)

    @property
    def movable(self) -> bool:
        return not self.reasons

    def to_dict(self, localize: Localize) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "state": self.state,
            "held_from": self.held_from,
            "from_version": self.from_version,
            "to_state": self.to_state,
            "to_held_from": self.to_held_from,
            "movable": self.movable,
            "reasons": list(self.reasons),
            "invalid_data": [dict(d) for d in self.invalid_data],
            "timers": self.timers.to_dict(localize),
        }


@dataclass(frozen=True)
class MigrationReport:
    workflow: str
    to: int
    dry_run: bool
    plans: tuple[MigrationPlan, ...]
    migrated: tuple[int, ...] = ()

    @property
    def refused(self) -> tuple[int, ...]:
        return tuple(p.id for p in self.plans if not p.movable)

    def to_dict(self, localize: Localize) -> dict[str, Any]:
        """The JSON form (`cicie workflows migrate --json`); `localize` gives a UTC moment in
        local business time."""
        return {
            "workflow": self.workflow,
            "from_versions": sorted({p.from_version for p in self.plans}),
            "to": self.to,
            "dry_run": self.dry_run,
            "requests": [p.to_dict(localize) for p in self.plans],
            "migrated": list(self.migrated),
            "refused": list(self.refused),
        }


class Migration:
    """Plans and applies moves of live requests to another version of their workflow."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def plan(self, name: str, to_version: int) -> list[MigrationPlan]:
        """Read only: the plan of every live request of `name` on another version."""
        with self.engine.db.read() as conn:
            target = self.engine.registry.stored(conn, name, to_version)
            out = []
            for request_id in workflow_versions.pinned_elsewhere(conn, name, to_version):
                row = requests.get(conn, request_id)
                found = self._plan(conn, row, target) if row is not None else None
                if found is not None:
                    out.append(found)
            return out

    def apply(self, name: str, to_version: int, actor: Actor) -> MigrationReport:
        """Migrate each live request in its own transaction; refused ones are left untouched."""
        if actor.role not in MIGRATE_ROLES:
            raise NotAllowed(f"role '{actor.role}' may not migrate requests")
        with self.engine.db.read() as conn:
            target = self.engine.registry.stored(conn, name, to_version)
            ids = workflow_versions.pinned_elsewhere(conn, name, to_version)
        plans: list[MigrationPlan] = []
        migrated: list[int] = []
        for request_id in ids:
            with self.engine.db.transaction() as conn:
                row = hot_path.lock_request(conn, request_id)
                plan = self._plan(conn, row, target) if row is not None else None
                if row is None or plan is None:
                    continue  # closed or already migrated since the list was read
                plans.append(plan)
                if plan.movable:
                    self._write(conn, row, plan, actor)
                    migrated.append(row.id)
        return MigrationReport(name, to_version, False, tuple(plans), tuple(migrated))

    def dry_run(self, name: str, to_version: int) -> MigrationReport:
        return MigrationReport(name, to_version, True, tuple(self.plan(name, to_version)))

    # ------------------------------------------------------------------ planning
    def _plan(
        self, conn: sa.Connection, row: RequestRow, target: CompiledWorkflow
    ) -> MigrationPlan | None:
        """None when there is nothing to do: closed, or already on the target version."""
        if row.workflow_version == target.version:
            return None
        source = self.engine.registry.get(conn, row.programme, row.workflow_version)
        if source.definition.states[row.state].final:
            return None
        d = target.definition
        v_from, v_to = row.workflow_version, target.version
        reasons: list[str] = []
        to_state = d.migrated_state(row.state, v_from)
        to_held: str | None = None
        if to_state is None:
            reasons.append(
                f"state '{row.state}' has no counterpart in v{v_to}: map it under "
                f"'migrations: states:' of v{v_to}"
            )
        elif d.states[to_state].hold:
            to_held = d.migrated_state(row.held_from, v_from) if row.held_from else None
            if to_held is None or not d.states[to_held].active:
                reasons.append(
                    f"on hold from '{row.held_from}', which has no active state in v{v_to} to "
                    "resume to"
                )
        history = requests.history(conn, row.id)
        invalid: list[dict[str, str]] = []
        planned = TimerPlan()
        if to_state is not None:
            invalid = self._invalid_data(target, row, history, to_held or to_state)
            if not reasons:
                planned = self._timers(conn, row, d, to_state, history)
        return MigrationPlan(
            id=row.id,
            title=row.title,
            state=row.state,
            held_from=row.held_from,
            from_version=v_from,
            to_version=v_to,
            to_state=to_state,
            to_held_from=to_held,
            reasons=tuple(reasons),
            invalid_data=tuple(invalid),
            timers=planned,
        )

    def _invalid_data(
        self,
        target: CompiledWorkflow,
        row: RequestRow,
        history: Sequence[HistoryRow],
        working: str,
    ) -> list[dict[str, str]]:
        """What the target version would refuse in the stored data: values that do not fit
        its fields, and the rules (requires, guards) of the moves the request already made."""
        d = target.definition
        out = [
            {"field": key, "message": f"not a field in v{target.version} (kept, but read-only)"}
            for key in row.data
            if key not in d.fields
        ]
        _clean, errors = target.validators.validate(
            {k: v for k, v in row.data.items() if k in d.fields}
        )
        out.extend(errors)
        facts = RequestFacts(row.id, row.programme, working, row.emb_code)
        for state, (trigger, dest) in last_moves_out(history, working, d).items():
            cand = next(
                (c for c in target.candidates.get((state, trigger), ()) if c.dest == dest), None
            )
            if cand is None:
                continue
            for failure in self.engine.rule_failures(cand.transition, row.data, facts):
                out.append(
                    {
                        "field": failure.get("field") or failure["guard"],
                        "message": f"{failure['reason']} (rule '{failure['guard']}' of "
                        f"'{trigger}' from '{state}')",
                    }
                )
        return out

    def _timers(
        self,
        conn: sa.Connection,
        row: RequestRow,
        d: WorkflowDefinition,
        to_state: str,
        history: Sequence[HistoryRow],
    ) -> TimerPlan:
        """The target version's timers of `to_state`, planned as if it had been in force
        since the request entered its state: rows of timers that no longer apply are
        cancelled, rows whose due moment changed are moved, missing occurrences armed."""
        planner = self.engine.timers
        entered = entered_at(history, row.state, row.created_at)
        country = emb_country(conn, row.emb_code)  # for working-days reminders to the EMB
        live: dict[str, TimerDef] = {t.id: t for t in d.timers if to_state in t.states}
        cancel: list[TimerChange] = []
        move: list[TimerChange] = []
        rearm: set[tuple[str, int]] = set()
        for r in timers.for_request(conn, row.id, statuses=("pending",)):
            timer = live.get(r.name)
            if timer is None:
                gone = all(t.id != r.name for t in d.timers)
                why = f"no timer '{r.name}' any more" if gone else f"not live in '{to_state}'"
                cancel.append(TimerChange(r.name, r.occurrence, r.due_at, why=why, row_id=r.id))
                continue
            when = None
            if r.occurrence < timer.repeat_times:
                when = planner.due(timer, r.occurrence, row.data, entered, country)
            if r.occurrence >= timer.repeat_times:
                why = f"'{r.name}' now repeats {timer.repeat_times} time(s)"
            elif when is None:
                why = f"the date '{r.name}' hangs on is not set"
            elif timer.kind != r.kind:
                why = f"'{r.name}' is now a {timer.kind}"
                rearm.add((r.name, r.occurrence))
            else:
                why = ""
            if why:
                cancel.append(TimerChange(r.name, r.occurrence, r.due_at, why=why, row_id=r.id))
            elif when is not None and when != r.due_at:
                move.append(TimerChange(r.name, r.occurrence, when, r.due_at, row_id=r.id))
        done = timers.armed_since(conn, row.id, entered) - rearm
        arm = [
            TimerChange(timer.id, n, when, kind=timer.kind)
            for timer in live.values()
            for n, when in planner.occurrences(timer, row.data, entered, country)
            if (timer.id, n) not in done
        ]
        return TimerPlan(tuple(cancel), tuple(arm), tuple(move))

    # ------------------------------------------------------------------ writing
    def _write(
        self, conn: sa.Connection, row: RequestRow, plan: MigrationPlan, actor: Actor
    ) -> None:
        assert plan.to_state is not None
        now = self.engine.clock()
        history_id = hot_path.record_transition(
            conn,
            request_id=row.id,
            expected_version=row.version,
            state=plan.to_state,
            held_from=plan.to_held_from,
            data=None,
            now=now,
            actor_role=actor.role,
            actor_name=actor.name,
            trigger=MIGRATE_TRIGGER,
            from_state=row.state,
            comment=f"workflow v{plan.from_version} → v{plan.to_version}",
            changes=None,
        )
        assert history_id is not None  # the row is locked
        workflow_versions.repin(conn, row.id, plan.to_version)
        why = f"workflow v{plan.from_version} → v{plan.to_version}"
        for c in plan.timers.cancel:
            assert c.row_id is not None
            timers.cancel(conn, [c.row_id], now=now, why=f"{why}: {c.why}")
        for c in plan.timers.move:
            assert c.row_id is not None
            timers.move(conn, c.row_id, c.due_at)
        timers.arm(
            conn,
            [
                {
                    "key": f"{row.id}:{c.timer}:{history_id}:{c.occurrence}",
                    "request_id": row.id,
                    "name": c.timer,
                    "kind": c.kind,
                    "occurrence": c.occurrence,
                    "armed_in": plan.to_state,
                    "due_at": c.due_at,
                    "status": "pending",
                    "created_at": now,
                }
                for c in plan.timers.arm
            ],
        )


def entered_at(history: Sequence[HistoryRow], state: str, created_at: datetime) -> datetime:
    """When the request entered `state` (the moment its state's timers count from): the last
    move into it, following renames back through earlier migrations."""
    current = state
    for h in reversed(history):
        if h.trigger == MIGRATE_TRIGGER:
            current = h.from_state or current
        elif h.to_state == current and h.from_state != h.to_state:
            return h.at
    return created_at
