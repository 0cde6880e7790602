"""Each programme closes in its own way: the internship with the requesting OAE's three-part
final report, its due date and escalations (brochure § 2.2: "the requesting OAE will generate a
final report about the internship, which should highlight its experience and which aspects
will be incorporated or adapted to their institution, and at the same time, will make
observations or recomendations about the INE's work"); the workshop, the course, the seminar
and the mission with a light closing record of their own and no report deadline. On SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.errors import GuardFailed
from engine.service import Engine
from engine.sweep import TimerSweep
from engine.views import RequestView
from storage import timers
from tests.conftest import PROGRAMMES, example_steps
from workflows.loader import WORKFLOW_DIR, load_file

LIGHT = [p for p in PROGRAMMES if p != "internship"]
REPORT_FIELDS = {
    "final_report_experience",
    "final_report_adaptations",
    "final_report_recommendations",
}
REPORT_TIMERS = {
    "final_report_due_soon",
    "final_report_overdue",
    "overdue_to_coordinator",
    "overdue_to_programme_lead",
}
INTERN = Actor("intern", "wanjiru")
SYSTEM = Actor("system", "timer")


def _play(engine: Engine, view: RequestView, steps: list[dict[str, Any]]) -> RequestView:
    for step in steps:
        view = engine.advance(
            view.id, step["trigger"], Actor.parse(step["as"]), data=step.get("data") or {}
        )
    return view


def _timer_names(runtime: Runtime, request_id: int) -> set[str]:
    with runtime.db.read() as conn:
        return {t.name for t in timers.for_request(conn, request_id)}


# ---------------------------------------------------------------- what each file declares
@pytest.mark.parametrize("programme", LIGHT)
def test_the_other_programmes_declare_no_final_report_and_no_report_deadline(
    programme: str,
) -> None:
    definition = load_file(WORKFLOW_DIR / f"{programme}.yaml")
    assert not REPORT_FIELDS & set(definition.fields)
    assert not {"final_report", "report_overdue", "report_received"} & set(definition.states)
    assert not {t.id for t in definition.timers} & REPORT_TIMERS
    assert all(t.kind != "transition" for t in definition.timers)  # no deadline moves it
    assert {t.trigger for t in definition.transitions}.isdisjoint({"submit_report", "mark_overdue"})
    closing = definition.states["evaluation"]
    assert closing.actors == ("coordinator",)
    assert "closing_note" in closing.collects
    assert len(closing.collects) >= 2
    close = next(t for t in definition.transitions if t.trigger == "close")
    assert close.sources == ("evaluation",)
    assert "closing_note" in close.requires
    # the comment says the choice is ours where the brochure is silent
    text = " ".join(
        line.strip().lstrip("#").strip()
        for line in (WORKFLOW_DIR / f"{programme}.yaml").read_text(encoding="utf-8").splitlines()
    )
    assert "our choice" in text or "is ours" in text


def test_only_the_internship_keeps_the_three_part_report_its_deadline_and_escalations() -> None:
    definition = load_file(WORKFLOW_DIR / "internship.yaml")
    assert set(definition.fields) >= REPORT_FIELDS
    assert {t.id for t in definition.timers} >= REPORT_TIMERS
    submit = next(t for t in definition.transitions if t.trigger == "submit_report")
    assert [g.name for g in submit.guards] == ["final_report_complete"]
    assert set(submit.sources) == {"final_report", "report_overdue"}
    overdue = next(t for t in definition.timers if t.id == "final_report_overdue")
    assert (overdue.kind, overdue.fire, overdue.anchor_field, overdue.days) == (
        "transition",
        "mark_overdue",
        "event_end",
        30,
    )
    for name in PROGRAMMES:
        d = load_file(WORKFLOW_DIR / f"{name}.yaml")
        has_report = any(g.name == "final_report_complete" for t in d.transitions for g in t.guards)
        assert has_report == (name == "internship"), name


# ---------------------------------------------------------------- the examples, played
@pytest.mark.parametrize("programme", LIGHT)
def test_each_other_programme_reaches_closed_without_report_field_or_report_timer(
    runtime: Runtime, engine: Engine, make_request: Callable[..., RequestView], programme: str
) -> None:
    view = make_request(programme, state="in_progress")
    view = _play(engine, view, [s for s in example_steps(programme) if s["trigger"] == "finish"])
    assert view.state == "evaluation"
    assert not _timer_names(runtime, view.id) & REPORT_TIMERS
    view = _play(engine, view, [s for s in example_steps(programme) if s["trigger"] == "close"])
    assert view.state == "closed"
    assert not REPORT_FIELDS & set(view.data)
    assert not _timer_names(runtime, view.id) & REPORT_TIMERS
    history = [h.trigger for h in engine.history(view.id)]
    assert history[-2:] == ["finish", "close"]


@pytest.mark.parametrize("programme", LIGHT)
def test_closing_without_the_programmes_record_is_refused_naming_it(
    engine: Engine, make_request: Callable[..., RequestView], programme: str
) -> None:
    view = make_request(programme, state="evaluation")
    with pytest.raises(GuardFailed) as refused:
        engine.advance(view.id, "close", Actor("coordinator", "ana"))
    assert refused.value.details
    assert engine.get(view.id).state == "evaluation"


def test_the_internship_still_requires_its_three_part_report_and_escalates(
    runtime: Runtime, engine: Engine, make_emb: Callable[..., str], clock: ManualClock
) -> None:
    """An internship whose event is still to come: after it, the report is due 30 days after
    the event; missing, the request goes overdue and the coordinator, then the programme lead,
    are alerted."""
    view = engine.create(
        "internship", emb_code=make_emb(), title="Future internship", actor=Actor.parse("admin:x")
    )
    for step in example_steps("internship"):
        if step["trigger"] == "submit_report":
            break
        data = dict(step.get("data") or {})
        if step["trigger"] == "confirm_logistics":
            data.pop("past_event")
            data.update(event_start="2026-03-02", event_end="2026-03-06")
        view = engine.advance(view.id, step["trigger"], Actor.parse(step["as"]), data=data)
    assert view.state == "final_report"
    armed = _timer_names(runtime, view.id)
    assert {"final_report_due_soon", "final_report_overdue"} <= armed

    with pytest.raises(GuardFailed) as refused:  # two parts only
        engine.advance(
            view.id,
            "submit_report",
            INTERN,
            data={
                "final_report_experience": "Two weeks at DERFE.",
                "final_report_adaptations": "A protocol.",
            },
        )
    assert [f["guard"] for f in refused.value.details] == ["final_report_complete"]

    clock.set(datetime(2026, 4, 6, 16, 0, tzinfo=UTC))  # 31 days after the event
    sweep = TimerSweep(engine, worker="w1")
    first = sweep.run_once()
    second = sweep.run_once()
    assert engine.get(view.id).state == "report_overdue"
    assert first.transitions == 1
    assert first.escalations + second.escalations == 1  # the coordinator, at once
    clock.set(datetime(2026, 4, 13, 16, 0, tzinfo=UTC))
    assert sweep.run_once().escalations == 1  # the programme lead, a week later

    report = {
        "final_report_experience": "Two weeks at DERFE.",
        "final_report_adaptations": "A written protocol for biometric duplicates.",
        "final_report_recommendations": "Publish the thresholds in English.",
    }
    view = engine.advance(view.id, "submit_report", INTERN, data=report)
    assert view.state == "report_received"
    view = engine.advance(
        view.id, "close", Actor("coordinator", "ana"), data={"closing_note": "Received."}
    )
    assert view.state == "closed"


# ---------------------------------------------------------------- the command
@pytest.mark.parametrize("programme", PROGRAMMES)
def test_workflows_example_gives_each_programme_its_own_closing(programme: str) -> None:
    result = CliRunner().invoke(app, ["workflows", "example", programme, "--json"])
    assert result.exit_code == 0, result.output
    steps = json.loads(result.stdout)
    assert steps[-1]["trigger"] == "close"
    sent = {key for step in steps for key in step["data"]}
    if programme == "internship":
        assert sent >= REPORT_FIELDS
        assert "submit_report" in [s["trigger"] for s in steps]
    else:
        assert not REPORT_FIELDS & sent
        assert [s["trigger"] for s in steps][-2:] == ["finish", "close"]
