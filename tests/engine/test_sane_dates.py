"""Sane dates and numbers (issue 14, item 6): bounds declared on fields (`min`, `max`), event
dates before today refused when logistics are confirmed unless the request is recorded after
the event, timers already past when armed skipped by the late policy (never an instant
escalation, never a mail asking for something "by" a day gone), and a timeline that lists
nothing for the stages a request has left. On SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import json
import textwrap
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli.main import app
from config.catalogues import load_catalogues
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.errors import GuardFailed, InvalidData
from engine.service import Engine
from engine.sweep import TimerSweep
from engine.views import RequestView
from notifications.stored import message_bytes
from notifications.wiring import install_mail
from storage import timers
from storage.models import outbox_table
from tests.conftest import example_steps
from workflows.errors import InvalidDefinition
from workflows.fields import FieldValidators
from workflows.loader import load_file

COORDINATOR = Actor("coordinator", "ana")


def _cli(database_url: str, tmp_path: Path, *args: Any) -> Any:
    env = {"CICIE_DATABASE_URL": database_url, "CICIE_HOME": str(tmp_path / "home")}
    return CliRunner().invoke(app, [*map(str, args), "--lang", "en"], env=env)


def _until(
    engine: Engine,
    view: RequestView,
    programme: str,
    before: str,
    change: Callable[[str, dict[str, Any]], dict[str, Any]] = lambda _t, d: d,
) -> RequestView:
    """Play the example of `programme`, from where the request is on it, up to (not
    including) the step `before`."""
    done = len(engine.history(view.id)) - 1  # the example's steps already taken
    for step in example_steps(programme)[done:]:
        if step["trigger"] == before:
            return view
        data = change(step["trigger"], dict(step.get("data") or {}))
        view = engine.advance(view.id, step["trigger"], Actor.parse(step["as"]), data=data)
    raise AssertionError(f"no step {before}")


def _future(trigger: str, data: dict[str, Any]) -> dict[str, Any]:
    """The example's logistics moved to an event still to come (the tests' today: 12 Jan 2026)."""
    if trigger == "confirm_logistics":
        data.pop("past_event", None)
        data.update(event_start="2026-03-02", event_end="2026-03-06")
    return data


def _past(trigger: str, data: dict[str, Any]) -> dict[str, Any]:
    if trigger == "confirm_logistics":
        data.pop("past_event", None)
        data.update(event_start="2024-03-04", event_end="2024-03-08")
    return data


# ---------------------------------------------------------------- bounds
def test_a_negative_attendance_is_invalid_data_naming_the_field_and_its_bound(
    engine: Engine, make_emb: Callable[..., str], database_url: str, tmp_path: Path
) -> None:
    view = engine.create("seminar", emb_code=make_emb(), title="Forum", actor=COORDINATOR)
    view = _until(engine, view, "seminar", "finish")
    result = _cli(
        database_url,
        tmp_path,
        "request",
        "advance",
        view.id,
        "finish",
        "--data",
        json.dumps({"attendance": -3}),
        "--json",
    )
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "invalid_data"
    [detail] = error["details"]
    assert detail["field"] == "attendance"
    assert "Number of attendees" in detail["message"]
    assert "0 or more" in detail["message"]
    assert "-3" in detail["message"]
    assert engine.get(view.id).state == "in_progress"
    # zero is allowed: an activity nobody attended is recorded as such
    assert engine.advance(view.id, "finish", COORDINATOR, data={"attendance": 0}).state == (
        "evaluation"
    )


def test_bounds_are_declared_for_integers_and_dates_and_refused_elsewhere(
    tmp_path: Path,
) -> None:
    def write(fields: str) -> Path:
        path = tmp_path / "tiny.yaml"
        path.write_text(
            textwrap.dedent(
                """\
                workflow: tiny
                title: Tiny
                initial: draft
                fields:
                {fields}
                states:
                  draft: {{label: Draft, collects: [seats, opens]}}
                  done: {{label: Done, final: true}}
                transitions:
                  - {{trigger: finish, source: draft, dest: done, label: Finish}}
                """
            ).format(fields=textwrap.indent(textwrap.dedent(fields), "  ")),
            encoding="utf-8",
        )
        return path

    good = write(
        """\
        seats: {type: integer, min: 1, max: 500, label: Seats}
        opens: {type: date, min: "2004-01-01", max: "2099-12-31", label: Opens}
        """
    )
    d = load_file(good)
    assert (d.fields["seats"].minimum, d.fields["seats"].maximum) == (1, 500)
    assert d.fields["opens"].minimum == date(2004, 1, 1)
    clean, errors = FieldValidators(d.fields, load_catalogues()).validate(
        {"seats": 501, "opens": "2003-12-31"}
    )
    assert clean == {}
    said = {e["field"]: e["message"].say("en") for e in errors}
    assert said["seats"] == "“Seats”: This must be 500 or less; 501 is more."
    assert said["opens"].startswith("“Opens”: This must be on ")
    assert "2004" in said["opens"]
    assert "2003" in said["opens"]
    assert FieldValidators(d.fields, load_catalogues()).validate({"seats": 1})[1] == []

    bad = write(
        """\
        seats: {type: integer, min: 10, max: 2, label: Seats}
        opens: {type: date, min: 2004, label: Opens}
        name: {type: string, max: 3, label: Name}
        """
    )
    with pytest.raises(InvalidDefinition) as caught:
        load_file(bad)
    messages = [p.message for p in caught.value.problems]
    assert "'min' (10) is more than 'max' (2)" in messages
    assert any(m.startswith("'min' of a date field must be a date") for m in messages)
    assert "'max' only applies to integer and date fields" in messages


# ---------------------------------------------------------------- past events
def test_event_dates_before_today_are_refused_at_confirm_logistics_naming_the_dates(
    engine: Engine, make_emb: Callable[..., str], database_url: str, tmp_path: Path
) -> None:
    """The brochure's 2016 calendar can be recorded, but only explicitly: a coordinator who
    types last year's dates by mistake is told so."""
    view = engine.create("seminar", emb_code=make_emb(), title="Forum", actor=COORDINATOR)
    view = _until(engine, view, "seminar", "confirm_logistics")
    step = next(s for s in example_steps("seminar") if s["trigger"] == "confirm_logistics")
    data = {k: v for k, v in step["data"].items() if k != "past_event"}
    data.update(event_start="2024-03-04", event_end="2024-03-08")
    result = _cli(
        database_url,
        tmp_path,
        "request",
        "advance",
        view.id,
        "confirm_logistics",
        "--data",
        json.dumps(data),
        "--json",
    )
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "guard_failed"
    [reason] = [d["message"] for d in error["details"] if d["code"] == "event_dates_not_past"]
    assert "4 March 2024" in reason or "March 4, 2024" in reason
    assert "8 March 2024" in reason or "March 8, 2024" in reason
    assert "Recorded after the event" in reason
    assert engine.get(view.id).state == "logistics"

    # the same dates, recorded as a past event: accepted, and the flag is in the history
    view = engine.advance(
        view.id, "confirm_logistics", COORDINATOR, data={**data, "past_event": True}
    )
    assert view.state == "ready"
    last = engine.history(view.id)[-1]
    assert last.trigger == "confirm_logistics"
    assert last.changes is not None
    assert last.changes["past_event"] == [None, True]


def test_the_flag_can_be_set_beforehand_as_a_data_change_seen_in_the_history(
    engine: Engine, make_emb: Callable[..., str]
) -> None:
    view = engine.create("seminar", emb_code=make_emb(), title="Forum", actor=COORDINATOR)
    view = _until(engine, view, "seminar", "confirm_logistics")
    step = next(s for s in example_steps("seminar") if s["trigger"] == "confirm_logistics")
    data = _past("confirm_logistics", dict(step["data"]))
    with pytest.raises(GuardFailed):
        engine.advance(view.id, "confirm_logistics", COORDINATOR, data=data)
    engine.update(view.id, COORDINATOR, data={"past_event": True}, comment="Held in 2024.")
    entry = engine.history(view.id)[-1]
    assert (entry.trigger, entry.changes) == ("update", {"past_event": [None, True]})
    assert engine.advance(view.id, "confirm_logistics", COORDINATOR, data=data).state == "ready"


def test_a_future_event_needs_no_flag(engine: Engine, make_emb: Callable[..., str]) -> None:
    view = engine.create("seminar", emb_code=make_emb(), title="Forum", actor=COORDINATOR)
    view = _until(engine, view, "seminar", "start", change=_future)
    assert view.state == "ready"
    assert "past_event" not in view.data


def test_a_past_internship_finishes_without_instant_escalation_or_a_report_due_in_the_past(
    runtime: Runtime, engine: Engine, make_emb: Callable[..., str], clock: ManualClock
) -> None:
    """Recorded after the event (2024): "finish" arms the report's reminder and deadline,
    already past, as skipped; the sweep then fires nothing — no overdue mark, no escalation —
    and the intern's mail asks for the report without a day gone by."""
    install_mail(runtime)
    view = engine.create("internship", emb_code=make_emb(), title="Past", actor=COORDINATOR)

    def past_event(trigger: str, data: dict[str, Any]) -> dict[str, Any]:
        data = _past(trigger, data)
        if trigger == "confirm_logistics":
            data["past_event"] = True
        return data

    view = _until(engine, view, "internship", "submit_report", change=past_event)
    assert view.state == "final_report"
    with runtime.db.read() as conn:
        rows = {t.name: t for t in timers.for_request(conn, view.id)}
    for name in ("final_report_due_soon", "final_report_overdue"):
        assert rows[name].status == "skipped"
        assert (rows[name].outcome or "").startswith("late policy")
    assert rows["speaker_confirmation"].status in ("skipped", "cancelled")
    assert not [t for t in rows.values() if t.status == "pending"]

    clock.advance(timedelta(seconds=3))
    report = TimerSweep(engine, worker="w1").run_once()
    assert (report.escalations, report.transitions, report.reminders) == (0, 0, 0)
    assert engine.get(view.id).state == "final_report"

    with runtime.db.read() as conn:
        mails = conn.execute(
            sa.select(outbox_table.c.template, outbox_table.c.to_addr, outbox_table.c.id).where(
                outbox_table.c.request_id == view.id
            )
        ).all()
        bodies = {m.id: message_bytes(conn, m.id) or b"" for m in mails}
    assert "escalation" not in {m.template for m in mails}
    asked = [m for m in mails if m.template == "final_report_requested"]
    assert asked  # the report is still asked for, by no day gone by
    for mail in asked:
        message = email.message_from_bytes(bodies[mail.id], policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        lead = text.split("2024")[0]  # before the sentence that says when the event was held
        assert " by " not in lead, text
        assert "at your earliest convenience" in text, text


def test_a_date_moved_into_the_past_skips_its_pending_timers(
    runtime: Runtime, engine: Engine, make_emb: Callable[..., str], clock: ManualClock
) -> None:
    view = engine.create("seminar", emb_code=make_emb(), title="Forum", actor=COORDINATOR)
    view = _until(engine, view, "seminar", "start", change=_future)
    with runtime.db.read() as conn:
        pending = {t.name for t in timers.for_request(conn, view.id, statuses=("pending",))}
    assert {"speaker_confirmation", "air_tickets"} <= pending
    clock.set(datetime(2026, 2, 1, 16, 0, tzinfo=UTC))  # after both reminders' days
    engine.update(view.id, COORDINATOR, data={"event_start": "2026-02-02"})
    with runtime.db.read() as conn:
        rows = {t.name: t for t in timers.for_request(conn, view.id)}
    assert rows["air_tickets"].status == "skipped"
    assert TimerSweep(engine, worker="w1").run_once().reminders == 0


# ---------------------------------------------------------------- the timeline
def test_the_timeline_of_a_request_whose_report_is_in_lists_nothing_of_earlier_stages(
    engine: Engine, make_emb: Callable[..., str]
) -> None:
    view = engine.create("internship", emb_code=make_emb(), title="Future", actor=COORDINATOR)
    view = _until(engine, view, "internship", "start", change=_future)
    ahead = {e.timer for e in engine.timeline(view.id) if e.status == "projected"}
    assert {"final_report_due_soon", "final_report_overdue"} <= ahead  # still to come
    view = _until(engine, view, "internship", "close", change=_future)
    assert view.state == "report_received"
    assert engine.timeline(view.id) == []


def test_a_request_on_hold_projects_what_follows_the_stage_it_resumes_to(
    engine: Engine, make_emb: Callable[..., str]
) -> None:
    view = engine.create("internship", emb_code=make_emb(), title="Future", actor=COORDINATOR)
    view = _until(engine, view, "internship", "start", change=_future)
    engine.advance(view.id, "put_on_hold", COORDINATOR, data={"hold_reason": "Visas."})
    entries = {e.timer: e.status for e in engine.timeline(view.id)}
    assert entries.get("final_report_overdue") == "projected"
    assert "stale_intake" not in entries


def test_invalid_bounds_data_through_the_engine_is_invalid_data(
    engine: Engine, make_emb: Callable[..., str]
) -> None:
    view = engine.create("internship", emb_code=make_emb(), title="Future", actor=COORDINATOR)
    view = _until(engine, view, "internship", "finish", change=_future)
    with pytest.raises(InvalidData) as refused:
        engine.advance(view.id, "finish", COORDINATOR, data={"attendance": -1})
    assert refused.value.details[0]["field"] == "attendance"
