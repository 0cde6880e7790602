"""Plan backwards from the event (issue 14, item 8): each programme's lead times, counted in
INE's business days before the start, become warnings when they can no longer be met and dated
entries on the timeline. Real SQLite and PostgreSQL engines, the clock at Monday 12 January 2026
(09:00 in Mexico City)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from config.planning import InvalidPlanning, load_elections, load_lead_times, load_planning
from engine.actor import Actor
from engine.clock import ManualClock
from engine.service import Engine
from engine.warning_rules.lead_times import before_event
from engine.warnings import Notice, WarningContext, warnings_for
from i18n import say
from storage import requests
from tests.conftest import example_steps

WORKSHOP = "international_workshop"
TODAY = date(2026, 1, 12)  # the clock fixture's day, in Mexico City
WORKSHOP_ITEMS = {
    "Invitation letters for visas",
    "Air tickets of the visiting delegation",
    "Venue booking",
    "Lodging of the visiting delegation",
    "Speakers confirmed",
    "Simultaneous interpretation",
}


def warnings_of(engine: Engine, request_id: int) -> list[Notice]:
    """What a coordinator is warned of for the request, as stored now."""
    with engine.db.read() as conn:
        row = requests.get(conn, request_id)
        assert row is not None
        definition = engine.registry.get(conn, row.programme, row.workflow_version).definition
        ctx = WarningContext(
            conn=conn,
            request=row,
            definition=definition,
            today=engine.business_time.local_date(engine.clock()),
            catalogues=engine.catalogues,
            business=engine.business_time,
        )
        return warnings_for(ctx)


def workshop_at_logistics(engine: Engine, emb: str) -> int:
    """A workshop driven along its bundled example to the logistics stage."""
    coordinator = Actor("coordinator", "ana")
    view = engine.create(WORKSHOP, emb_code=emb, title="Workshop", actor=coordinator)
    for step in example_steps(WORKSHOP):
        if view.state == "logistics":
            break
        view = engine.advance(
            view.id, step["trigger"], Actor.parse(step["as"]), data=step.get("data") or {}
        )
    assert view.state == "logistics"
    return view.id


def set_dates(engine: Engine, request_id: int, start: date, days: int = 2) -> None:
    data: dict[str, Any] = {
        "event_start": start.isoformat(),
        "event_end": (start + timedelta(days=days)).isoformat(),
    }
    engine.update(request_id, Actor("coordinator", "ana"), data=data)


def lead_time_labels(notices: list[Notice]) -> set[str]:
    return {n.message.params["item"].en for n in notices}


def test_a_workshop_twenty_days_ahead_is_warned_of_every_lead_time_it_can_no_longer_meet(
    engine: Engine, make_emb: Any, clock: ManualClock
) -> None:
    """Brochure, CICIE's Financing System: the visiting authority's "Air ticket to Mexico City
    for every participating delegate", the founders' "Simultaneous interpretation" and
    "Lodging and nourishments of the delegation" — each needs arranging well before the event.
    Twenty calendar days are 14 business days (2 February is Constitution Day): every item of
    the workshop needs 15 or more."""
    request_id = workshop_at_logistics(engine, make_emb())
    set_dates(engine, request_id, TODAY + timedelta(days=20))

    notices = [n for n in warnings_of(engine, request_id) if n.code == "lead_time"]
    timeline = [e for e in engine.timeline(request_id) if e.kind == "lead_time"]
    assert {e.status for e in timeline} == {"late"}

    assert lead_time_labels(notices) == WORKSHOP_ITEMS
    assert {n.field for n in notices} == {"event_start"}
    visas = next(n for n in notices if n.message.params["item"].en.startswith("Invitation"))
    assert say(visas.message, "en") == (
        "Lead time missed: “Invitation letters for visas” needs 30 business days before the "
        "start on February 1, 2026; the latest date was December 18, 2025."
    )


def test_moving_the_event_later_clears_the_lead_time_warnings(
    engine: Engine, make_emb: Any
) -> None:
    """Warnings follow the dates whenever they change ("values ours": 30 business days for
    visa letters is the longest workshop item)."""
    request_id = workshop_at_logistics(engine, make_emb())
    set_dates(engine, request_id, TODAY + timedelta(days=20))
    assert any(n.code == "lead_time" for n in warnings_of(engine, request_id))

    set_dates(engine, request_id, date(2026, 3, 13))

    assert [n for n in warnings_of(engine, request_id) if n.code == "lead_time"] == []


def test_an_item_just_in_time_is_not_warned_of_but_one_day_less_is(
    engine: Engine, make_emb: Any, clock: ManualClock
) -> None:
    """Fifteen business days from Monday 12 January 2026 end on Tuesday 3 February (2 February
    is a Mexican holiday): an event starting that day leaves interpretation just in time."""
    request_id = workshop_at_logistics(engine, make_emb())
    set_dates(engine, request_id, date(2026, 2, 3))
    late = lead_time_labels([n for n in warnings_of(engine, request_id) if n.code == "lead_time"])
    assert "Simultaneous interpretation" not in late
    assert "Venue booking" in late  # 20 business days

    set_dates(engine, request_id, date(2026, 2, 2))
    late = lead_time_labels([n for n in warnings_of(engine, request_id) if n.code == "lead_time"])
    assert "Simultaneous interpretation" in late


def test_the_warning_is_said_in_the_coordinators_language(engine: Engine, make_emb: Any) -> None:
    request_id = workshop_at_logistics(engine, make_emb())
    set_dates(engine, request_id, TODAY + timedelta(days=20))
    notices = [n for n in warnings_of(engine, request_id) if n.code == "lead_time"]
    spanish = {n.to_dict("es")["message"] for n in notices}
    assert (
        "Plazo de preparación vencido: “Cartas de invitación para visas” requiere 30 días "
        "hábiles antes del inicio, el 1 de febrero de 2026; la fecha límite era el 18 de "
        "diciembre de 2025." in spanish
    )
    french = " ".join(n.to_dict("fr")["message"] for n in notices)
    assert "jours ouvrables" in french
    assert "Interprétation simultanée" in french


def test_the_timeline_shows_each_items_latest_date_skipping_holidays(
    engine: Engine, make_emb: Any
) -> None:
    """Fifteen business days before Friday 20 March 2026 is Thursday 26 February: Monday
    16 March (Benito Juárez's birthday) does not count."""
    request_id = workshop_at_logistics(engine, make_emb())
    set_dates(engine, request_id, date(2026, 3, 20))

    entries = [e for e in engine.timeline(request_id) if e.kind == "lead_time"]

    by_item = {e.what: e for e in entries}
    assert set(by_item) == {
        "visa_letters",
        "air_tickets",
        "venue",
        "lodging",
        "speakers",
        "interpretation",
    }
    assert by_item["interpretation"].due_at.date() == date(2026, 2, 26)
    assert by_item["interpretation"].status == "met"
    assert by_item["visa_letters"].due_at.date() == date(2026, 2, 5)  # 30 business days
    assert by_item["visa_letters"].status == "met"
    assert by_item["interpretation"].label == "Simultaneous interpretation"
    dates = [e.due_at for e in engine.timeline(request_id)]
    assert dates == sorted(dates)


def test_no_lead_time_before_the_start_date_is_known(engine: Engine, make_emb: Any) -> None:
    request_id = workshop_at_logistics(engine, make_emb())
    assert [n for n in warnings_of(engine, request_id) if n.code == "lead_time"] == []
    assert [e for e in engine.timeline(request_id) if e.kind == "lead_time"] == []


def test_lead_times_stop_counting_once_the_event_has_begun(engine: Engine) -> None:
    definition = engine.registry.current(WORKSHOP).definition
    assert before_event(definition, "logistics", None)
    assert before_event(definition, "on_hold", "ready")
    assert not before_event(definition, "in_progress", None)
    assert not before_event(definition, "on_hold", "in_progress")
    assert not before_event(definition, "withdrawn", None)


# ---------------------------------------------------------------- the file
def test_every_programme_declares_its_lead_times_and_the_files_load() -> None:
    load_planning()
    lead_times = load_lead_times()
    assert set(lead_times) == {
        "international_workshop",
        "internship",
        "specialization_course",
        "seminar",
        "technical_assistance",
    }
    assert all(items for items in lead_times.values())
    assert load_elections().elections


@pytest.mark.parametrize(
    ("entry", "line", "problem"),
    [
        ("{id: venue, label: Venue booking, business_days: 0}", 3, "from 1 to 250"),
        ("{id: venue, label: Venue booking, business_days: NO}", 3, "from 1 to 250"),
        ("{id: Venue, label: Venue booking, business_days: 5}", 3, "lowercase"),
        ("{id: venue, business_days: 5}", 3, "label"),
        ("{id: venue, label: Venue booking, days: 5}", 3, "unknown key 'days'"),
    ],
)
def test_a_mistake_in_the_lead_times_names_the_file_and_line(
    tmp_path: Path, entry: str, line: int, problem: str
) -> None:
    path = tmp_path / "lead_times.yaml"
    path.write_text(f"lead_times:\n  seminar:\n    - {entry}\n", encoding="utf-8")
    with pytest.raises(InvalidPlanning) as caught:
        load_lead_times(path)
    assert f"{path}:{line}:" in str(caught.value)
    assert problem in str(caught.value)
