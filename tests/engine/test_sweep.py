"""A year of a request's life in milliseconds: the clock is moved, the sweep fires what is due,
once. The internship's final report (brochure § 2.2, "the requesting OAE will generate a final
report about the internship") is due 30 days after an event still to come on the tests' clock:
deadlines already past when armed are skipped, never fired (issue 14). On SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.service import Engine
from engine.sweep import TimerSweep
from engine.views import RequestView
from notifications.wiring import install_mail
from storage import outbox, timers

MEXICO_CITY = ZoneInfo("America/Mexico_City")

REPORT = {
    "final_report_experience": "We saw the whole registry cycle.",
    "final_report_adaptations": "Biometric deduplication before the 2017 elections.",
    "final_report_recommendations": "Publish the PREP manuals as open data.",
}


@pytest.fixture
def mail_engine(runtime: Runtime) -> Engine:
    install_mail(runtime)
    return runtime.engine


def _sweep(engine: Engine, worker: str = "w1") -> TimerSweep:
    return TimerSweep(engine, worker=worker)


def _mails(runtime: Runtime, request_id: int, template: str) -> list[str]:
    with runtime.db.read() as conn:
        rows = outbox.listing(conn, request_id=request_id)
    return [r.to_addr for r in rows if r.template == template]


def _at_nine(day: date) -> datetime:
    """09:00 in Mexico City plus a minute, as UTC."""
    return datetime(day.year, day.month, day.day, 9, 1, tzinfo=MEXICO_CITY).astimezone(UTC)


def test_the_intern_gets_the_seven_days_before_reminder_once(
    runtime: Runtime,
    mail_engine: Engine,
    make_upcoming_request: Callable[..., RequestView],
    clock: ManualClock,
) -> None:
    view = make_upcoming_request("internship", state="final_report")
    end = date.fromisoformat(view.data["event_end"])
    clock.set(_at_nine(end + timedelta(days=23)))
    first = _sweep(mail_engine).run_once()
    assert (first.reminders, first.transitions) == (1, 0)
    assert set(_mails(runtime, view.id, "reminder")) == {
        "wanjiru.kamau@example.org",
        *[d["email"] for d in view.data["delegates"] if d.get("email")],
    }
    again = _sweep(mail_engine).run_once()
    assert again.fired == []
    assert len(_mails(runtime, view.id, "reminder")) == len(
        set(_mails(runtime, view.id, "reminder"))
    )
    history = mail_engine.history(view.id)
    assert history[-1].trigger == "timer:final_report_due_soon"
    assert history[-1].actor == "system:timer"


def test_submitting_before_the_due_date_cancels_the_overdue_deadline(
    runtime: Runtime,
    mail_engine: Engine,
    make_upcoming_request: Callable[..., RequestView],
    clock: ManualClock,
) -> None:
    view = make_upcoming_request("internship", state="final_report")
    end = date.fromisoformat(view.data["event_end"])
    clock.set(_at_nine(end + timedelta(days=25)))
    mail_engine.advance(view.id, "submit_report", Actor("intern", "wanjiru"), data=REPORT)
    clock.set(_at_nine(end + timedelta(days=40)))
    report = _sweep(mail_engine).run_once()
    assert report.transitions == 0
    assert mail_engine.get(view.id).state == "report_received"
    assert _mails(runtime, view.id, "escalation") == []


def test_an_unsubmitted_report_goes_overdue_and_the_coordinator_gets_one_escalation(
    runtime: Runtime,
    mail_engine: Engine,
    make_upcoming_request: Callable[..., RequestView],
    clock: ManualClock,
) -> None:
    view = make_upcoming_request("internship", state="final_report")
    end = date.fromisoformat(view.data["event_end"])
    clock.set(_at_nine(end + timedelta(days=30)))
    first = _sweep(mail_engine).run_once()
    assert first.transitions == 1
    assert mail_engine.get(view.id).state == "report_overdue"
    second = _sweep(mail_engine).run_once()  # the escalation armed on entering report_overdue
    assert second.escalations == 1
    for _ in range(3):
        assert _sweep(mail_engine).run_once().fired == []
    assert _mails(runtime, view.id, "escalation") == ["cicie-coordination@localhost"]
    overdue = next(h for h in mail_engine.history(view.id) if h.trigger == "mark_overdue")
    assert overdue.actor == "system:timer"


def test_after_downtime_each_due_timer_fires_once_in_due_order_under_the_late_policy(
    runtime: Runtime,
    mail_engine: Engine,
    make_upcoming_request: Callable[..., RequestView],
    clock: ManualClock,
) -> None:
    """The worker was down through the 7-days-before reminder, the deadline and a week more."""
    view = make_upcoming_request("internship", state="final_report")
    end = date.fromisoformat(view.data["event_end"])
    clock.set(_at_nine(end + timedelta(days=45)))
    first = _sweep(mail_engine, "restarted").run_once()
    assert first.skipped == 1, "a late reminder helps nobody: skipped, and recorded"
    assert first.transitions == 1, "a deadline fires once however late"
    second = _sweep(mail_engine, "restarted-again").run_once()
    assert second.fired == [f"{view.id}:overdue_to_coordinator#0"]
    # the programme lead hears 7 days after the request really went overdue (at the sweep)
    clock.advance(timedelta(days=7, hours=1))
    third = _sweep(mail_engine, "third").run_once()
    assert third.fired == [f"{view.id}:overdue_to_programme_lead#0"]
    for name in ("fourth", "fifth"):
        assert _sweep(mail_engine, name).run_once().fired == []
    with runtime.db.read() as conn:
        rows = timers.for_request(conn, view.id)
    by_status = {r.name: r.status for r in rows if r.name.startswith(("final", "overdue"))}
    assert by_status == {
        "final_report_due_soon": "skipped",
        "final_report_overdue": "fired",
        "overdue_to_coordinator": "fired",
        "overdue_to_programme_lead": "fired",
    }


def test_a_timer_whose_request_moved_on_meanwhile_does_not_fire(
    runtime: Runtime,
    mail_engine: Engine,
    make_upcoming_request: Callable[..., RequestView],
    clock: ManualClock,
) -> None:
    view = make_upcoming_request("internship", state="final_report")
    end = date.fromisoformat(view.data["event_end"])
    with runtime.db.transaction() as conn:  # a claim by a worker that then died
        claimed = timers.claim_due(
            conn,
            now=_at_nine(end + timedelta(days=31)),
            worker="dead-worker",
            lease_until=_at_nine(end + timedelta(days=31)) + timedelta(minutes=2),
            limit=10,
        )
    assert {c.name for c in claimed} == {"final_report_due_soon", "final_report_overdue"}
    mail_engine.advance(view.id, "submit_report", Actor("intern", "wanjiru"), data=REPORT)
    clock.set(_at_nine(end + timedelta(days=32)))  # the dead worker's lease is long gone
    report = _sweep(mail_engine).run_once()
    assert report.fired == []
    assert mail_engine.get(view.id).state == "report_received"
