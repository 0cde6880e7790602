""" "Needs my action" in the engine (issue 15, item 1): which requests a role can move forward
now, what blocks each step (the same reasons `request show` gives), when each is due, overdue
first, and the escalations addressed to a programme lead. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta

from engine.actor import Actor
from engine.clock import ManualClock
from engine.compiler import CompiledWorkflow
from engine.my_work import build_scope, forward_triggers, load_my_work, work_counts
from engine.service import Engine
from engine.sweep import TimerSweep
from engine.views import RequestView
from i18n import say
from storage import my_work as store
from storage.models import request_table

COORDINATOR = Actor("coordinator", "ana")
ADMIN = Actor("admin", "lead")
VIEWER = Actor("viewer", "val")


def _ids(engine: Engine, actor: Actor) -> list[int]:
    return [item.id for item in load_my_work(engine, actor).items]


def test_the_generic_exits_are_not_work_but_a_stage_s_own_step_is(engine: Engine) -> None:
    wf = engine.registry.current("international_workshop")
    # accepting and declining are the decision intake waits for; withdrawing and putting on
    # hold are there in every stage and say nothing about what needs doing
    assert forward_triggers(wf, "intake", "coordinator") == ("accept", "decline")
    assert forward_triggers(wf, "closed", "coordinator") == ()
    assert forward_triggers(wf, "intake", "viewer") == ()
    assert "resume" in forward_triggers(wf, "on_hold", "coordinator")


def test_a_coordinator_sees_a_request_at_intake_with_what_blocks_accepting_it(
    engine: Engine, make_emb: Callable[..., str]
) -> None:
    view = engine.create(
        "seminar",
        emb_code=make_emb(name="Tribunal Supremo Electoral"),
        title="Foro 2026",
        actor=COORDINATOR,
    )
    work = load_my_work(engine, COORDINATOR)
    assert work.can_act
    assert work.counts.total == 1
    (item,) = work.items
    assert (item.id, item.title, item.emb_name) == (
        view.id,
        "Foro 2026",
        "Tribunal Supremo Electoral",
    )
    accept, decline = item.actions
    assert accept.trigger == "accept"
    assert accept.label.get("en") == "Accept the request"
    assert not accept.allowed
    assert "Fill in “Seminar topic” first." in [say(r, "en") for r in accept.reasons]
    assert all("Seminar topic" not in say(r, "es") for r in accept.reasons)
    # the reason for declining is typed with the step: it blocks nothing yet
    assert (decline.trigger, decline.allowed, decline.reasons) == ("decline", True, ())


def test_a_request_that_moves_out_of_an_actionable_state_leaves_the_list(
    engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    kept = make_request("international_workshop", "intake")
    gone = make_request("international_workshop", "needs_assessment")
    assert set(_ids(engine, COORDINATOR)) == {kept.id, gone.id}
    engine.advance(gone.id, "decline", COORDINATOR, data={"decline_reason": "Out of scope."})
    assert _ids(engine, COORDINATOR) == [kept.id]
    assert work_counts(engine, "coordinator").total == 1


def test_overdue_first_then_by_due_date_then_oldest(
    engine: Engine, make_request: Callable[..., RequestView], clock: ManualClock
) -> None:
    first = make_request("international_workshop", "intake")  # reminder due in 14 days
    clock.advance(timedelta(days=20))
    second = make_request("international_workshop", "intake")  # due 20 days after the first
    third = make_request("international_workshop", "needs_assessment")  # no timer of intake
    # the first's reminder is past due (not swept yet): it comes first and is counted overdue
    work = load_my_work(engine, COORDINATOR)
    assert [i.id for i in work.items] == [first.id, second.id, third.id]
    top = work.items[0]
    assert top.overdue
    assert top.due_at is not None
    assert top.due_at < clock()
    assert top.due_label.get("en") == "Request waiting at intake"
    assert not work.items[1].overdue
    assert work.counts.overdue == 1 == work_counts(engine, "coordinator").overdue


def test_counts_agree_with_the_list(
    engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    for state in ("intake", "needs_assessment", "agenda_design", "closed"):
        make_request("international_workshop", state)
    counts = work_counts(engine, "coordinator")
    work = load_my_work(engine, COORDINATOR)
    assert counts.total == work.counts.total == len(work.items) == 3


def test_a_viewer_can_act_on_nothing(
    engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    make_request("international_workshop", "intake")
    work = load_my_work(engine, VIEWER)
    assert not work.can_act
    assert work.items == []
    assert work_counts(engine, "viewer").total == 0


def test_the_programme_lead_sees_the_escalation_addressed_to_them(
    engine: Engine, make_request: Callable[..., RequestView], clock: ManualClock
) -> None:
    stalled = make_request("international_workshop", "needs_assessment")
    fresh = make_request("international_workshop", "intake")
    clock.advance(timedelta(days=45))
    make_request("seminar", "intake")  # recorded later: its history is no other's stay
    TimerSweep(engine, worker="w1").run_once()
    lead = load_my_work(engine, ADMIN)
    assert lead.escalations_to == ("programme_lead",)
    assert [e.request_id for e in lead.escalations] == [stalled.id]
    (note,) = lead.escalations
    assert note.timer_label.get("en") == "Needs assessment stalled"
    assert note.recipients == ("programme_lead",)
    # the row says it too, for whoever sees it; the coordinators' own escalations list is empty
    coordinator = load_my_work(engine, COORDINATOR)
    by_id = {i.id: i for i in coordinator.items}
    assert [e.timer_label.get("en") for e in by_id[stalled.id].escalations] == [
        "Needs assessment stalled"
    ]
    assert by_id[fresh.id].escalations == ()
    assert coordinator.escalations == []
    # once the assessment is done the escalation is no longer waiting
    engine.advance(
        stalled.id, "complete_assessment", COORDINATOR, data={"needs_summary": "Registry."}
    )
    assert load_my_work(engine, ADMIN).escalations == []


def test_versions_that_disagree_are_counted_by_version(
    engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    """A later version where coordinators no longer start a ready seminar (the system does):
    a ready request of the first version still needs them, one of the second does not."""
    current = engine.registry.current("seminar")
    later = CompiledWorkflow(
        dataclasses.replace(
            current.definition,
            transitions=tuple(
                dataclasses.replace(t, roles=("system",)) if t.trigger == "start" else t
                for t in current.definition.transitions
            ),
        ),
        current.version + 1,
        engine.catalogues,
    )
    scope = build_scope([current, later], "coordinator")
    assert "ready" not in scope.uniform["seminar"]
    assert scope.mixed[("seminar", "ready")] == frozenset({current.version})
    assert scope.allows("seminar", current.version, "ready")
    assert not scope.allows("seminar", later.version, "ready")

    first = make_request("seminar", "ready")
    second = make_request("seminar", "ready")
    with engine.db.transaction() as conn:  # as if created under the later version
        conn.execute(
            request_table.update()
            .where(request_table.c.id == second.id)
            .values(workflow_version=later.version)
        )
    with engine.db.read() as conn:
        assert store.counts(conn, scope) == {("seminar", "ready"): 1}
        assert [r.id for r in store.page(conn, scope, now=engine.clock(), limit=10, offset=0)] == [
            first.id
        ]
