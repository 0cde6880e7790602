"""Deadlines as rows: armed on entering a state, cancelled on leaving it, moved with their date,
at the business hour in Mexico City. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.business_time import BusinessTime
from engine.clock import ManualClock
from engine.service import Engine
from engine.views import RequestView
from storage import timers
from storage.timers import TimerRow

COORDINATOR = Actor("coordinator", "ana")


def _timers(runtime: Runtime, request_id: int, status: str | None = None) -> list[TimerRow]:
    with runtime.db.read() as conn:
        return timers.for_request(conn, request_id, statuses=(status,) if status else None)


def test_entering_intake_arms_the_stale_intake_reminders_at_nine_in_mexico_city(
    runtime: Runtime, make_request: Callable[..., RequestView], clock: ManualClock
) -> None:
    clock.set(datetime(2026, 1, 12, 22, 30, tzinfo=UTC))  # 16:30 in Mexico City
    view = make_request("internship", state="intake")
    armed = _timers(runtime, view.id, "pending")
    assert [(t.name, t.occurrence) for t in armed] == [
        ("stale_intake", 0),
        ("stale_intake", 1),
        ("stale_intake", 2),
    ]
    assert [t.due_at for t in armed] == [
        datetime(2026, 1, 26, 15, 0, tzinfo=UTC),  # 14 days later, 09:00 local (UTC−6)
        datetime(2026, 2, 2, 15, 0, tzinfo=UTC),
        datetime(2026, 2, 9, 15, 0, tzinfo=UTC),
    ]


def test_leaving_a_state_cancels_its_pending_timers_in_the_same_transaction(
    runtime: Runtime, engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    view = make_request("internship", state="needs_assessment")
    names = {t.name: t.status for t in _timers(runtime, view.id)}
    assert names == {"stale_intake": "cancelled", "assessment_stalled": "pending"}
    engine.advance(view.id, "withdraw", COORDINATOR, data={"withdrawal_reason": "No budget."})
    assert _timers(runtime, view.id, "pending") == []


def test_a_refused_or_rolled_back_transition_arms_nothing(
    runtime: Runtime, engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    view = make_request("seminar", state="ready")
    before = _timers(runtime, view.id)

    def boom(conn: sa.Connection, event: object) -> None:
        raise RuntimeError("crash after the timers were written")

    engine.subscribe(boom)
    with pytest.raises(RuntimeError):
        engine.advance(view.id, "start", COORDINATOR)
    assert _timers(runtime, view.id) == before


def test_postponing_the_event_moves_its_pending_timers(
    runtime: Runtime, engine: Engine, make_upcoming_request: Callable[..., RequestView]
) -> None:
    view = make_upcoming_request("international_workshop", state="ready")  # 1–12 June 2026
    before = {t.name: t.due_at for t in _timers(runtime, view.id, "pending")}
    assert before["air_tickets"] == datetime(2026, 4, 25, 15, 0, tzinfo=UTC)  # 09:00 (UTC−6)
    engine.update(
        view.id, COORDINATOR, data={"event_start": "2026-06-15", "event_end": "2026-06-26"}
    )
    after = {t.name: t.due_at for t in _timers(runtime, view.id, "pending")}
    assert after["air_tickets"] - before["air_tickets"] == timedelta(days=14)
    assert after["speaker_confirmation"] - before["speaker_confirmation"] == timedelta(days=14)
    assert len(_timers(runtime, view.id, "pending")) == len(before), "moved, not duplicated"


def test_the_final_report_deadline_hangs_on_the_event_end(
    runtime: Runtime, make_upcoming_request: Callable[..., RequestView]
) -> None:
    """Brochure § 2.2: "the requesting OAE will generate a final report about the internship"
    — due 30 days after the event ends, with a reminder a week before."""
    view = make_upcoming_request("internship", state="final_report")
    pending = {t.name: (t.kind, t.due_at) for t in _timers(runtime, view.id, "pending")}
    end = date.fromisoformat(view.data["event_end"])
    zone = BusinessTime().zone
    assert pending["final_report_due_soon"][0] == "reminder"
    assert pending["final_report_due_soon"][1].astimezone(zone).date() == end + timedelta(23)
    assert pending["final_report_overdue"][0] == "transition"
    assert pending["final_report_overdue"][1].astimezone(zone).date() == end + timedelta(30)


def test_timeline_lists_armed_and_projected_timers_in_local_time(
    engine: Engine, make_request: Callable[..., RequestView], clock: ManualClock
) -> None:
    """The internship's report deadline (brochure § 2.2) is projected from its event's end;
    the other programmes have none (issue 14: closings per programme)."""
    clock.set(datetime(2016, 3, 1, 16, 0, tzinfo=UTC))
    view = make_request("internship", state="ready")
    timeline = engine.timeline(view.id)
    entries = [e.to_dict() for e in timeline if e.kind != "lead_time"]  # test_lead_times.py
    assert [e["timer"] for e in entries][:2] == ["air_tickets", "speaker_confirmation"]
    first = entries[1]
    assert first["status"] == "armed"
    assert first["kind"] == "reminder"
    assert first["what"] == "reminder"
    assert first["recipients"] == ["speakers", "coordinator"]
    assert first["due_at"].endswith("-05:00")  # Mexico City had DST in 2016
    projected = {e["timer"]: e for e in entries if e["status"] == "projected"}
    assert projected["final_report_overdue"]["kind"] == "transition"
    assert projected["final_report_overdue"]["what"] == "mark_overdue"
    assert [e["due_at"] for e in entries] == sorted(e["due_at"] for e in entries)
    workshop = make_request("international_workshop", state="ready")
    assert not any(e.timer.startswith("final_report") for e in engine.timeline(workshop.id))


def test_working_days_skip_weekends_and_mexican_holidays() -> None:
    """More in test_calendars.py: the holidays come from the `holidays` package."""
    time = BusinessTime()
    assert not time.is_working_day(date(2026, 2, 2))  # first Monday of February
    assert not time.is_working_day(date(2026, 3, 16))  # third Monday of March
    assert not time.is_working_day(date(2030, 10, 1))
    assert not time.is_working_day(date(2026, 11, 16))  # Revolution Day
    friday = date(2026, 1, 30)
    assert time.add_days(friday, 1, working=True) == date(2026, 2, 3)
    assert time.add_days(date(2026, 2, 3), -1, working=True) == friday
