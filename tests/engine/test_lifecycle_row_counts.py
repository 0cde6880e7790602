"""One full lifecycle of each shipped programme, with partner mail on, writes exactly the rows it
wrote before the transition was made faster (issue 16): after each step, the number of history
rows, of outbox rows and of timer rows in each status. The figures were taken from the code as
it was before the change; a change that loses or adds a message, a history row or a timer
shows here first. The event is put ahead of the tests' clock, so the timers are armed
(pending), moved and cancelled rather than skipped by the late policy. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from engine.actor import Actor
from engine.bootstrap import Runtime
from notifications.wiring import install_mail
from storage.models import history_table, outbox_table, timer_table
from tests.conftest import example_steps
from tests.engine.conftest import UPCOMING_END, UPCOMING_START

Counts = tuple[str, int, int, dict[str, int]]  # step, history, outbox, timers by status

EXPECTED: dict[str, list[Counts]] = {
    "internship": [
        ("create", 1, 0, {"pending": 3}),
        ("accept", 2, 2, {"cancelled": 3, "pending": 1}),
        ("complete_assessment", 3, 2, {"cancelled": 4, "pending": 1}),
        ("approve_agenda", 4, 8, {"cancelled": 5}),
        ("confirm_logistics", 5, 14, {"cancelled": 5, "pending": 2}),
        ("start", 6, 14, {"cancelled": 7}),
        ("finish", 7, 16, {"cancelled": 7, "pending": 2}),
        ("submit_report", 8, 23, {"cancelled": 9}),
        ("close", 9, 29, {"cancelled": 9}),
    ],
    "international_workshop": [
        ("create", 1, 0, {"pending": 3}),
        ("accept", 2, 2, {"cancelled": 3, "pending": 1}),
        ("complete_assessment", 3, 2, {"cancelled": 4, "pending": 1}),
        ("approve_agenda", 4, 9, {"cancelled": 5}),
        ("confirm_logistics", 5, 15, {"cancelled": 5, "pending": 2}),
        ("start", 6, 15, {"cancelled": 7}),
        ("finish", 7, 15, {"cancelled": 7}),
        ("close", 8, 21, {"cancelled": 7}),
    ],
    "seminar": [
        ("create", 1, 0, {"pending": 3}),
        ("accept", 2, 1, {"cancelled": 3, "pending": 1}),
        ("complete_assessment", 3, 1, {"cancelled": 4, "pending": 1}),
        ("approve_agenda", 4, 8, {"cancelled": 5}),
        ("confirm_logistics", 5, 15, {"cancelled": 5, "pending": 2}),
        ("start", 6, 15, {"cancelled": 7}),
        ("finish", 7, 15, {"cancelled": 7}),
        ("close", 8, 20, {"cancelled": 7}),
    ],
    "specialization_course": [
        ("create", 1, 0, {"pending": 3}),
        ("accept", 2, 1, {"cancelled": 3, "pending": 1}),
        ("complete_assessment", 3, 1, {"cancelled": 4, "pending": 1}),
        ("approve_agenda", 4, 8, {"cancelled": 5}),
        ("confirm_logistics", 5, 15, {"cancelled": 5, "pending": 2}),
        ("start", 6, 15, {"cancelled": 7}),
        ("finish", 7, 15, {"cancelled": 7}),
        ("close", 8, 20, {"cancelled": 7}),
    ],
    "technical_assistance": [
        ("create", 1, 0, {"pending": 3}),
        ("accept", 2, 2, {"cancelled": 3, "pending": 1}),
        ("complete_assessment", 3, 2, {"cancelled": 4, "pending": 1}),
        ("approve_agenda", 4, 8, {"cancelled": 5}),
        ("confirm_logistics", 5, 14, {"cancelled": 5, "pending": 2}),
        ("start", 6, 14, {"cancelled": 7}),
        ("finish", 7, 14, {"cancelled": 7}),
        ("close", 8, 20, {"cancelled": 7}),
    ],
}


def _counts(runtime: Runtime) -> tuple[int, int, dict[str, int]]:
    with runtime.db.read() as conn:
        history = conn.execute(sa.select(sa.func.count()).select_from(history_table)).scalar_one()
        mails = conn.execute(sa.select(sa.func.count()).select_from(outbox_table)).scalar_one()
        timers = {
            str(status): int(n)
            for status, n in conn.execute(
                sa.select(timer_table.c.status, sa.func.count()).group_by(timer_table.c.status)
            )
        }
    return int(history), int(mails), timers


def lifecycle(runtime: Runtime, make_emb: Callable[..., str], programme: str) -> list[Counts]:
    """Create a request of `programme` and drive it along its bundled example to the end,
    with its event on UPCOMING_START..UPCOMING_END; the counts after each step."""
    engine = runtime.engine
    install_mail(runtime)
    emb = make_emb(email="secretaria@tse.example.org", language="fr")
    view = engine.create(
        programme, emb_code=emb, title=f"{programme} request", actor=Actor("coordinator", "ana")
    )
    out: list[Counts] = [("create", *_counts(runtime))]
    for step in example_steps(programme):
        data: dict[str, Any] = dict(step.get("data") or {})
        if step["trigger"] == "confirm_logistics":
            data.pop("past_event", None)
            data.update(event_start=UPCOMING_START.isoformat(), event_end=UPCOMING_END.isoformat())
        view = engine.advance(view.id, step["trigger"], Actor.parse(step["as"]), data=data)
        out.append((step["trigger"], *_counts(runtime)))
    assert view.state == "closed"
    return out


@pytest.mark.parametrize(
    "programme",
    [
        "internship",
        "international_workshop",
        "seminar",
        "specialization_course",
        "technical_assistance",
    ],
)
def test_a_lifecycle_writes_the_same_history_outbox_and_timer_rows(
    runtime: Runtime, make_emb: Callable[..., str], programme: str
) -> None:
    assert lifecycle(runtime, make_emb, programme) == EXPECTED[programme]
