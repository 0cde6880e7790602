"""Changing a request's data without moving it: recorded, versioned, and never a way around the
brochure's rules. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.actor import Actor
from engine.errors import GuardFailed, InvalidData, NotAllowed, VersionConflict
from engine.service import Engine
from engine.views import RequestView

COORDINATOR = Actor("coordinator", "ana")


def test_postponing_the_event_is_recorded_without_moving_the_request(
    engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    view = make_request("international_workshop", state="ready")
    moved = engine.update(
        view.id,
        COORDINATOR,
        data={"event_start": "2016-06-20", "event_end": "2016-06-24"},
        expected_version=view.version,
        comment="The TSE asked for two more weeks.",
    )
    assert (moved.state, moved.version) == ("ready", view.version + 1)
    assert moved.data["event_start"] == "2016-06-20"
    last = engine.history(view.id)[-1]
    assert (last.trigger, last.from_state, last.to_state) == ("update", "ready", "ready")
    assert last.changes == {
        "event_start": ["2016-06-06", "2016-06-20"],
        "event_end": ["2016-06-10", "2016-06-24"],
    }
    assert last.comment == "The TSE asked for two more weeks."


def test_an_edit_that_breaks_a_rule_already_enforced_is_refused(
    engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    view = make_request("international_workshop", state="in_progress")
    with pytest.raises(GuardFailed) as refused:
        engine.update(view.id, COORDINATOR, data={"event_end": "2016-06-01"})
    assert {d["guard"] for d in refused.value.details} == {"dates_set"}
    with pytest.raises(GuardFailed) as refused:
        engine.update(
            view.id,
            COORDINATOR,
            data={"cost_sharing": {**view.data["cost_sharing"], "lodging_meals": "emb"}},
        )
    assert {d["guard"] for d in refused.value.details} == {"cost_sharing_complete"}
    assert engine.get(view.id).version == view.version


def test_fields_of_a_stage_not_reached_yet_cannot_be_set(
    engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    view = make_request("internship", state="needs_assessment")
    with pytest.raises(InvalidData) as refused:
        engine.update(view.id, COORDINATOR, data={"venue": "INE"})
    (problem,) = refused.value.details
    assert problem["field"] == "venue"
    assert str(problem["message"]) == "“Venue” is not filled in at this step."
    assert refused.value.to_dict("es")["details"] == [
        {"field": "venue", "message": "«Sede» no se llena en esta etapa."}
    ]


def test_an_edit_that_changes_nothing_writes_nothing(
    engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    view = make_request("seminar", state="agenda_design")
    before = len(engine.history(view.id))
    same = engine.update(view.id, COORDINATOR, data={"needs_summary": view.data["needs_summary"]})
    assert same.version == view.version
    assert len(engine.history(view.id)) == before


def test_closed_requests_and_viewers_cannot_change_data(
    engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    closed = make_request("seminar", state="closed")
    with pytest.raises(NotAllowed, match="closed"):
        engine.update(closed.id, COORDINATOR, data={"venue": "elsewhere"})
    open_one = make_request("seminar", state="logistics")
    with pytest.raises(NotAllowed):
        engine.update(open_one.id, Actor("viewer", "v"), data={"venue": "elsewhere"})


def test_a_stale_version_is_a_conflict(
    engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    view = make_request("seminar", state="logistics")
    engine.update(view.id, COORDINATOR, data={"venue": "INE, Tlalpan"})
    with pytest.raises(VersionConflict):
        engine.update(view.id, COORDINATOR, data={"venue": "TEPJF"}, expected_version=view.version)
    assert engine.get(view.id).data["venue"] == "INE, Tlalpan"
