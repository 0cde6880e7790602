"""Moving live requests to another version of their workflow, with a dry run first; and what
changed between two versions. On SQLite and PostgreSQL.

Version 1 is the shipped seminar; version 2 (`seminar_v2`) renames `needs_assessment` to
`assessment` (mapped under `migrations:`), drops `ready` (deliberately not mapped), adds a
required field, makes a reminder come sooner, drops a reminder and adds another."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from config.yaml_reader import parse
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.diff import diff_versions
from engine.errors import NotAllowed, NotFound
from engine.migrate import Migration, MigrationPlan, TimerPlan
from engine.registry import WorkflowRegistry
from engine.service import Engine
from engine.views import RequestView
from storage import requests, timers, workflow_versions
from storage.db import Database
from storage.models import history_table, request_table, timer_table
from tests.conftest import example_steps

COORDINATOR = Actor("coordinator", "ana")
ADMIN = Actor("admin", "root")
LABEL = {"es": "Clave presupuestal", "en": "Budget code", "fr": "Code budgétaire"}


# ---------------------------------------------------------------- version 2
def _renamed(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {(new if k == old else k): _renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    return new if value == old else value


def _without(names: Any, name: str) -> Any:
    return [n for n in names if n != name] if isinstance(names, list) else names


def seminar_v2(v1_source: str) -> str:
    """Version 2 of the seminar, written from the text version 1 stored."""
    doc = _renamed(json.loads(json.dumps(parse(v1_source)[0])), "needs_assessment", "assessment")
    del doc["states"]["ready"]
    doc["fields"]["budget_code"] = {"type": "string", "label": LABEL}
    doc["states"]["intake"]["collects"] = [*doc["states"]["intake"]["collects"], "budget_code"]
    transitions = []
    for t in doc["transitions"]:
        if t["trigger"] == "start":
            continue
        if t["dest"] == "ready":
            t["dest"] = "in_progress"
        t["source"] = _without(t["source"], "ready")
        if t["trigger"] == "accept":
            t["requires"] = [*t["requires"], "budget_code"]
        transitions.append(t)
    doc["transitions"] = transitions
    kept = []
    for timer in doc["timers"]:
        if timer["id"] in ("stale_intake", "air_tickets"):
            continue
        timer["states"] = _without(timer["states"], "ready")
        if timer["id"] == "agenda_approval":
            timer["at"] = {"entered": 10}
        kept.append(timer)
    kept.append(
        {
            "id": "assessment_reminder",
            "label": LABEL,
            "kind": "reminder",
            "states": ["assessment"],
            "at": {"entered": 7},
            "notify": [{"template": "reminder", "to": ["coordinator"]}],
        }
    )
    doc["timers"] = kept
    for rule in doc["on_change"]:
        rule["states"] = _without(rule["states"], "ready")
    doc["migrations"] = {"from": 1, "states": {"needs_assessment": "assessment"}}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def register_v2(db: Database, folder: Path, clock: ManualClock, runtime: Runtime) -> Engine:
    """Write version 2 into `folder` and start an engine on it (a restart with the edit)."""
    with db.read() as conn:
        source = workflow_versions.source_of(conn, "seminar", 1)
    assert source is not None
    folder.mkdir(exist_ok=True)
    (folder / "seminar.yaml").write_text(seminar_v2(source), encoding="utf-8")
    registry = WorkflowRegistry(runtime.catalogues, folder)
    registry.sync(db, clock)
    assert registry.current("seminar").version == 2
    return Engine(db, registry, runtime.catalogues, clock=clock)


# ---------------------------------------------------------------- fixtures
Requests = dict[str, RequestView]


@pytest.fixture
def live(make_request: Callable[..., RequestView], engine: Engine) -> Requests:
    """Seminar requests on version 1 in several states (one closed, one on hold)."""
    made = {state: make_request("seminar", state) for state in ("intake", "needs_assessment")}
    made["agenda_design"] = make_request("seminar", "agenda_design")
    made["ready"] = make_request("seminar", "ready")
    held = make_request("seminar", "agenda_design")
    made["on_hold"] = engine.advance(
        held.id, "put_on_hold", COORDINATOR, data={"hold_reason": "Elections called"}
    )
    made["closed"] = make_request("seminar", "closed")
    return made


@pytest.fixture
def v2(runtime: Runtime, tmp_path: Path, clock: ManualClock, live: Requests) -> Engine:
    clock.advance(timedelta(days=3))  # the edit comes a few days later
    return register_v2(runtime.db, tmp_path / "v2", clock, runtime)


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a migration could touch."""
    with db.read() as conn:
        return {
            table.name: sorted(tuple(r) for r in conn.execute(sa.select(table)))
            for table in (request_table, history_table, timer_table)
        }


def by_id(plans: list[MigrationPlan]) -> dict[int, MigrationPlan]:
    return {p.id: p for p in plans}


def entered(engine: Engine, request: RequestView) -> datetime:
    with engine.db.read() as conn:
        return requests.history(conn, request.id)[-1].at


def pending(engine: Engine, request: RequestView) -> dict[tuple[str, int], datetime]:
    with engine.db.read() as conn:
        rows = timers.for_request(conn, request.id, statuses=("pending",))
    return {(r.name, r.occurrence): r.due_at for r in rows}


# ---------------------------------------------------------------- the dry run
def test_the_dry_run_lists_each_live_request_with_what_would_happen_and_writes_nothing(
    v2: Engine, live: Requests
) -> None:
    before = snapshot(v2.db)
    plans = by_id(Migration(v2).plan("seminar", 2))
    assert snapshot(v2.db) == before

    assert live["closed"].id not in plans  # closed: not live
    assert sorted(plans) == sorted(r.id for k, r in live.items() if k != "closed")
    intake, assess, agenda = (
        plans[live[s].id] for s in ("intake", "needs_assessment", "agenda_design")
    )
    assert (intake.state, intake.to_state, intake.from_version) == ("intake", "intake", 1)
    assert (assess.state, assess.to_state) == ("needs_assessment", "assessment")
    assert agenda.to_state == "agenda_design"
    held = plans[live["on_hold"].id]
    assert (held.to_state, held.to_held_from) == ("on_hold", "agenda_design")
    assert all(p.movable for p in (intake, assess, agenda, held))

    ready = plans[live["ready"].id]
    assert not ready.movable
    assert ready.to_state is None
    assert ready.reasons == (
        "state 'ready' has no counterpart in v2: map it under 'migrations: states:' of v2",
    )

    # the new field is required to leave intake: every request past it lacks it
    missing = {
        "field": "budget_code",
        "message": "Fill in “Budget code” first. "
        "(rule 'required_fields' of 'accept' from 'intake')",
    }
    assert intake.invalid_data == ()
    for plan in (assess, agenda, held):
        assert plan.invalid_data == (missing,)

    # timers: the dropped reminder is cancelled, the sooner one moved, the new one armed
    assert [(c.timer, c.occurrence) for c in intake.timers.cancel] == [
        ("stale_intake", 0),
        ("stale_intake", 1),
        ("stale_intake", 2),
    ]
    assert {c.why for c in intake.timers.cancel} == {"no timer 'stale_intake' any more"}
    assert intake.timers.arm == ()
    assert intake.timers.move == ()
    (moved,) = agenda.timers.move
    assert moved.timer == "agenda_approval"
    assert moved.previous is not None
    assert moved.due_at == moved.previous - timedelta(days=4)
    time = v2.business_time
    (armed,) = assess.timers.arm
    assert armed.timer == "assessment_reminder"
    expected = time.at_hour(time.local_date(entered(v2, live["needs_assessment"])) + timedelta(7))
    assert armed.due_at == expected
    assert assess.timers.cancel == ()
    assert assess.timers.move == ()
    assert held.timers == TimerPlan()  # on hold: no timer runs


# ---------------------------------------------------------------- applying it
def test_apply_moves_each_request_with_a_history_row_and_replanned_timers(
    v2: Engine, live: Requests, clock: ManualClock
) -> None:
    planned = by_id(Migration(v2).plan("seminar", 2))
    ready_before = _rows_of(snapshot(v2.db), live["ready"].id)

    report = Migration(v2).apply("seminar", 2, ADMIN)

    assert report.refused == (live["ready"].id,)
    assert sorted(report.migrated) == sorted(
        live[s].id for s in ("intake", "needs_assessment", "agenda_design", "on_hold")
    )
    for key in ("intake", "needs_assessment", "agenda_design", "on_hold"):
        request = v2.get(live[key].id)
        plan = planned[request.id]
        assert (request.workflow_version, request.state) == (2, plan.to_state)
        assert request.version == live[key].version + 1
        last = v2.history(request.id)[-1]
        assert (last.trigger, last.actor, last.comment) == (
            "migrate",
            "admin:root",
            "workflow v1 → v2",
        )
        assert (last.from_state, last.to_state, last.at) == (key, plan.to_state, clock())
    assert v2.get(live["on_hold"].id).held_from == "agenda_design"

    assert not any(name == "stale_intake" for name, _ in pending(v2, live["intake"]))
    with v2.db.read() as conn:
        cancelled = timers.for_request(conn, live["intake"].id, statuses=("cancelled",))
    assert [(r.name, r.outcome) for r in cancelled] == [
        ("stale_intake", "workflow v1 → v2: no timer 'stale_intake' any more")
    ] * 3
    agenda = planned[live["agenda_design"].id].timers.move[0]
    assert pending(v2, live["agenda_design"])[("agenda_approval", 0)] == agenda.due_at
    arm = planned[live["needs_assessment"].id].timers.arm[0]
    assert pending(v2, live["needs_assessment"])[("assessment_reminder", 0)] == arm.due_at

    # the request that cannot move is as it was, row for row
    assert _rows_of(snapshot(v2.db), live["ready"].id) == ready_before
    assert v2.get(live["ready"].id).workflow_version == 1

    # a second run finds only the request that cannot move
    again = Migration(v2).apply("seminar", 2, ADMIN)
    assert (again.migrated, again.refused) == ((), (live["ready"].id,))


def test_a_migrated_request_goes_on_under_the_new_version(v2: Engine, live: Requests) -> None:
    Migration(v2).apply("seminar", 2, ADMIN)
    step = example_steps("seminar")[1]
    assert step["trigger"] == "complete_assessment"
    assessed = v2.advance(
        live["needs_assessment"].id, "complete_assessment", COORDINATOR, data=step["data"]
    )
    assert (assessed.state, assessed.workflow_version) == ("agenda_design", 2)
    # the fields of a stage it left under its old name can still be corrected
    agenda = live["agenda_design"]
    fixed = v2.update(agenda.id, COORDINATOR, data={"needs_summary": "A revised summary."})
    assert fixed.data["needs_summary"] == "A revised summary."
    resumed = v2.advance(live["on_hold"].id, "resume", COORDINATOR)
    assert resumed.state == "agenda_design"


def test_a_request_changed_after_the_dry_run_is_planned_again_under_the_lock(
    v2: Engine, live: Requests, engine: Engine
) -> None:
    request = live["intake"]
    assert by_id(Migration(v2).plan("seminar", 2))[request.id].to_state == "intake"
    # meanwhile, on version 1, the request moves on
    accept = example_steps("seminar")[0]
    assert accept["trigger"] == "accept"
    moved = engine.advance(request.id, "accept", COORDINATOR, data=accept["data"])
    assert (moved.state, moved.workflow_version) == ("needs_assessment", 1)

    report = Migration(v2).apply("seminar", 2, ADMIN)
    plan = by_id(list(report.plans))[request.id]
    assert (plan.state, plan.to_state) == ("needs_assessment", "assessment")
    assert v2.get(request.id).state == "assessment"
    assert [h.trigger for h in v2.history(request.id)][-2:] == ["accept", "migrate"]


def test_unknown_programmes_versions_and_roles_are_refused(v2: Engine) -> None:
    migration = Migration(v2)
    with pytest.raises(NotFound, match="no programme 'fair'"):
        migration.plan("fair", 2)
    with pytest.raises(NotFound, match=r"seminar has no version 7 \(stored: 1, 2\)"):
        migration.plan("seminar", 7)
    with pytest.raises(NotAllowed, match="may not migrate"):
        migration.apply("seminar", 2, Actor("viewer", "vera"))


# ---------------------------------------------------------------- diff
def test_diff_shows_what_changed_between_the_versions(v2: Engine) -> None:
    found = diff_versions(v2.db, v2.registry, "seminar", 1, 2)
    states = found.sections["states"]
    assert (states.added, states.removed) == (("assessment",), ("needs_assessment", "ready"))
    transitions = found.sections["transitions"]
    assert "start from ready" in transitions.removed
    assert "complete_assessment from assessment" in transitions.added
    changed = {c.name: c.changes for c in transitions.changed}
    assert changed["confirm_logistics from logistics"]["dest"] == ("ready", "in_progress")
    assert changed["accept from intake"]["requires"] == (
        ["seminar_topic"],
        ["seminar_topic", "budget_code"],
    )
    timers_ = found.sections["timers"]
    assert timers_.added == ("assessment_reminder",)
    assert set(timers_.removed) == {"stale_intake", "air_tickets"}
    timer_changes = {c.name: c.changes for c in timers_.changed}
    assert timer_changes["agenda_approval"] == {"days": (14, 10)}
    assert found.sections["fields"].added == ("budget_code",)
    guards = found.sections["guards"]
    assert "accept from intake: themes_in_catalogue" not in guards.added + guards.removed
    assert found.migrations == ({"from": [1], "states": {"needs_assessment": "assessment"}},)
    text = found.text()
    assert text.startswith("seminar v1 → v2\nstates:\n  + assessment\n  - needs_assessment")
    assert "      days: 14 → 10" in text


def test_diff_of_a_version_with_itself_finds_nothing(v2: Engine) -> None:
    found = diff_versions(v2.db, v2.registry, "seminar", 2, 2)
    assert not any(found.sections.values())
    assert found.text() == (
        "seminar v2 → v2\nno differences\nmigrations from v1: needs_assessment → assessment"
    )


def _rows_of(snap: dict[str, list[tuple[Any, ...]]], request_id: int) -> dict[str, Any]:
    """A request's own rows in a snapshot."""
    out = {}
    for table in (request_table, history_table, timer_table):
        column = [c.name for c in table.columns].index(
            "id" if table is request_table else "request_id"
        )
        out[table.name] = [r for r in snap[table.name] if r[column] == request_id]
    return out
