"""What a coordinator sees when advancing requests: every step recorded, refusals that explain
themselves and change nothing. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from engine.actor import Actor
from engine.errors import GuardFailed, InvalidData, NotAllowed, NotFound, VersionConflict
from engine.events import RequestAdvanced
from engine.service import Engine
from engine.views import RequestView
from tests.conftest import PROGRAMMES, example_steps


def _snapshot(engine: Engine, request_id: int) -> tuple[str, int, dict[str, Any], int]:
    view = engine.get(request_id)
    return view.state, view.version, view.data, len(engine.history(request_id))


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_each_programme_runs_from_intake_to_closed(
    engine: Engine, make_request: Callable[..., RequestView], programme: str
) -> None:
    view = make_request(programme, state="closed")
    history = engine.history(view.id)
    steps = example_steps(programme)
    assert [h.trigger for h in history] == ["create", *[s["trigger"] for s in steps]]
    assert [h.actor for h in history[1:]] == [s["as"] for s in steps]
    assert history[0].to_state == "intake"
    assert history[-1].to_state == "closed"
    assert [h.version for h in history] == list(range(1, len(history) + 1))
    for before, after in itertools.pairwise(history):
        assert after.from_state == before.to_state


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_withholding_a_steps_data_is_refused_by_the_brochure_rules(
    engine: Engine, make_emb: Callable[..., str], coordinator: Actor, programme: str
) -> None:
    view = engine.create(programme, emb_code=make_emb(), title="t", actor=coordinator)
    for step in example_steps(programme):
        if step.get("data"):
            before = _snapshot(engine, view.id)
            with pytest.raises(GuardFailed) as refused:
                engine.advance(view.id, step["trigger"], Actor.parse(step["as"]))
            assert refused.value.details, "a refusal names the guard and the reason"
            assert all(d["guard"] and d["reason"] for d in refused.value.details)
            assert _snapshot(engine, view.id) == before
        view = engine.advance(
            view.id, step["trigger"], Actor.parse(step["as"]), data=step.get("data") or {}
        )
    assert view.state == "closed"


def test_agenda_session_missing_a_methodology_stage_names_the_session(
    engine: Engine, make_request: Callable[..., RequestView], coordinator: Actor
) -> None:
    view = make_request("international_workshop", state="agenda_design")
    sessions = [
        {
            "title": "Voter registry",
            "stages": ["emb_challenges", "mexican_experience"],
            "speakers": [{"name": "Laura Gómez"}],
        }
    ]
    before = _snapshot(engine, view.id)
    with pytest.raises(GuardFailed) as refused:
        engine.advance(view.id, "approve_agenda", coordinator, data={"agenda_sessions": sessions})
    reasons = " ".join(d["reason"] for d in refused.value.details)
    assert "Voter registry" in reasons
    assert "international" in reasons.lower()
    assert {d["guard"] for d in refused.value.details} == {"methodology_complete"}
    assert _snapshot(engine, view.id) == before, "the refused step's data is not kept either"


def test_every_failing_guard_is_reported_at_once(
    engine: Engine, make_request: Callable[..., RequestView], coordinator: Actor
) -> None:
    view = make_request("international_workshop", state="logistics")
    with pytest.raises(GuardFailed) as refused:
        engine.advance(
            view.id,
            "confirm_logistics",
            coordinator,
            data={"cost_sharing": {"lodging_meals": "emb"}, "event_start": "2016-06-10"},
        )
    guards = {d["guard"] for d in refused.value.details}
    assert {"cost_sharing_complete", "dates_set"} <= guards
    assert any("Lodging" in d["reason"] for d in refused.value.details)


def test_stale_expected_version_is_a_conflict_and_changes_nothing(
    engine: Engine, make_request: Callable[..., RequestView], coordinator: Actor
) -> None:
    view = make_request("seminar", state="ready")
    before = _snapshot(engine, view.id)
    with pytest.raises(VersionConflict) as conflict:
        engine.advance(view.id, "start", coordinator, expected_version=view.version - 1)
    assert conflict.value.details == {"expected": view.version - 1, "actual": view.version}
    assert _snapshot(engine, view.id) == before
    moved = engine.advance(view.id, "start", coordinator, expected_version=view.version)
    assert moved.state == "in_progress"
    assert moved.version == view.version + 1


def test_a_role_outside_the_transition_is_not_allowed(
    engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    view = make_request("internship", state="intake")
    with pytest.raises(NotAllowed, match="The role viewer may not “Accept the request”"):
        engine.advance(view.id, "accept", Actor("viewer", "vera"))


def test_a_trigger_of_another_state_is_not_allowed(
    engine: Engine, make_request: Callable[..., RequestView], coordinator: Actor
) -> None:
    view = make_request("internship", state="intake")
    with pytest.raises(NotAllowed, match=r"possible now: Accept the request \(accept\)"):
        engine.advance(view.id, "close", coordinator)


def test_unknown_request_is_not_found(engine: Engine, coordinator: Actor) -> None:
    with pytest.raises(NotFound):
        engine.advance(987654, "accept", coordinator)


def test_bad_data_gets_field_level_messages_and_changes_nothing(
    engine: Engine, make_request: Callable[..., RequestView], coordinator: Actor
) -> None:
    view = make_request("international_workshop", state="intake")
    before = _snapshot(engine, view.id)
    with pytest.raises(InvalidData) as bad:
        engine.advance(
            view.id,
            "accept",
            coordinator,
            data={
                "timing_scenario": "whenever",
                "themes": ["no.such.theme"],
                "venue": "collected later, not at intake",
                "nonsense": 1,
            },
        )
    fields = {d["field"] for d in bad.value.details}
    assert {"timing_scenario", "themes.0", "venue", "nonsense"} <= fields
    assert _snapshot(engine, view.id) == before


def test_hold_and_resume_return_to_where_the_request_was(
    engine: Engine, make_request: Callable[..., RequestView], coordinator: Actor
) -> None:
    for state in ("needs_assessment", "logistics"):
        view = make_request("specialization_course", state=state)
        held = engine.advance(view.id, "put_on_hold", coordinator, data={"hold_reason": "funds"})
        assert (held.state, held.held_from) == ("on_hold", state)
        resumed = engine.advance(view.id, "resume", coordinator)
        assert (resumed.state, resumed.held_from) == (state, None)


def test_withdrawn_request_accepts_no_further_trigger(
    engine: Engine, make_request: Callable[..., RequestView], coordinator: Actor
) -> None:
    view = make_request("technical_assistance", state="agenda_design")
    done = engine.advance(
        view.id, "withdraw", coordinator, data={"withdrawal_reason": "Elections postponed."}
    )
    assert done.state == "withdrawn"
    _view, available = engine.show(view.id, coordinator)
    assert available == []
    with pytest.raises(NotAllowed):
        engine.advance(view.id, "resume", coordinator)


def test_show_lists_each_trigger_with_the_reasons_it_is_blocked(
    engine: Engine, make_request: Callable[..., RequestView], coordinator: Actor
) -> None:
    view = make_request("international_workshop", state="logistics")
    _view, available = engine.show(view.id, coordinator)
    by_trigger = {a.trigger: a for a in available}
    assert not by_trigger["confirm_logistics"].allowed
    blocked = by_trigger["confirm_logistics"]
    assert any("“Cost sharing” has not been filled in" in r for r in blocked.reasons)
    assert {"required_fields", "cost_sharing_complete", "dates_set"} <= {
        f["code"] for f in blocked.failures
    }
    assert any("«Esquema de costos compartidos»" in r for r in blocked.messages("es"))
    assert by_trigger["put_on_hold"].allowed is False  # it requires a reason first
    _view, as_viewer = engine.show(view.id, Actor("viewer", "v"))
    assert not any(a.allowed for a in as_viewer)
    assert all(a.to_dict("fr")["reasons"][0]["code"] == "role" for a in as_viewer)


def test_a_reason_two_rules_share_is_said_once(
    engine: Engine, make_request: Callable[..., RequestView], coordinator: Actor
) -> None:
    """A workshop's agenda needs sessions for its methodology and for its speakers: one
    reason, not two."""
    view = make_request("international_workshop", state="agenda_design")
    _view, available = engine.show(view.id, coordinator)
    (approve,) = [a for a in available if a.trigger == "approve_agenda"]
    reasons = approve.messages("es")
    assert reasons == ["No se ha registrado ninguna sesión en «Sesiones de la agenda»."]
    with pytest.raises(GuardFailed) as refused:
        engine.advance(view.id, "approve_agenda", coordinator)
    assert [f["code"] for f in refused.value.failures] == ["methodology_complete"]
    assert refused.value.say("es") == (
        "No fue posible «Aprobar la agenda»: No se ha registrado ninguna sesión en «Sesiones "
        "de la agenda»."
    )


def test_a_listener_failure_rolls_the_whole_transition_back(
    engine: Engine, make_request: Callable[..., RequestView], coordinator: Actor
) -> None:
    view = make_request("seminar", state="ready")
    before = _snapshot(engine, view.id)
    seen: list[RequestAdvanced] = []

    def failing_listener(conn: sa.Connection, event: object) -> None:
        assert isinstance(event, RequestAdvanced)
        seen.append(event)
        raise RuntimeError("template could not be rendered")

    engine.subscribe(failing_listener)
    with pytest.raises(RuntimeError):
        engine.advance(view.id, "start", coordinator)
    assert seen
    assert seen[0].from_state == "ready"
    assert _snapshot(engine, view.id) == before


def test_two_coordinators_at_once_one_wins_one_gets_a_conflict(
    engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    view = make_request("seminar", state="ready")
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def attempt(name: str) -> None:
        barrier.wait()
        try:
            engine.advance(
                view.id, "start", Actor("coordinator", name), expected_version=view.version
            )
            outcomes.append("ok")
        except VersionConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in ("ana", "luis")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    history = engine.history(view.id)
    assert [h.trigger for h in history].count("start") == 1
