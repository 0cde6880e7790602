"""The hand-written transition statements store exactly what SQLAlchemy's types read back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.views import RequestView
from storage import requests


def test_a_transition_written_by_hand_reads_back_through_sqlalchemy(
    runtime: Runtime,
    make_request: Callable[..., RequestView],
    clock: ManualClock,
) -> None:
    view = make_request("internship", state="needs_assessment")
    clock.set(datetime(2026, 3, 1, 17, 30, 15, 123456, tzinfo=UTC))
    data = {"needs_summary": "Ñandú — «quotes» and 'apostrophes'", "host_area": "DERFE"}
    moved = runtime.engine.advance(
        view.id, "complete_assessment", Actor("coordinator", "ana"), data=data, comment="ok"
    )
    with runtime.db.read() as conn:
        row = requests.get(conn, view.id)
        history = requests.history(conn, view.id)
    assert row is not None
    assert row.state == moved.state == "agenda_design"
    assert row.version == moved.version == view.version + 1
    assert row.updated_at == datetime(2026, 3, 1, 17, 30, 15, 123456, tzinfo=UTC)
    assert row.data["needs_summary"] == data["needs_summary"]
    assert row.data == moved.data
    last = history[-1]
    assert (last.trigger, last.from_state, last.to_state) == (
        "complete_assessment",
        "needs_assessment",
        "agenda_design",
    )
    assert last.at == row.updated_at
    assert last.comment == "ok"
    assert last.data_diff == {
        "needs_summary": [None, data["needs_summary"]],
        "host_area": [None, "DERFE"],
    }
    assert last.version == row.version


def test_a_transition_without_data_keeps_the_data_and_records_no_diff(
    runtime: Runtime, make_request: Callable[..., RequestView]
) -> None:
    view = make_request("seminar", state="ready")
    runtime.engine.advance(view.id, "start", Actor("coordinator", "ana"))
    with runtime.db.read() as conn:
        row = requests.get(conn, view.id)
        last = requests.history(conn, view.id)[-1]
    assert row is not None
    assert row.data == view.data
    assert last.data_diff is None
