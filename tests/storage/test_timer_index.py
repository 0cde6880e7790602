"""A request's timers are found through their own index on both databases (issue 16): every
transition and every request page asks for them, and the status index alone would make each
of those read every pending timer of every other request."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from storage import timers
from storage.db import Database
from tests.storage.plans import plan_text


def test_a_requests_pending_timers_are_read_through_the_request_index(database_url: str) -> None:
    db = Database(database_url)
    try:
        statement = timers.for_request_statement(7, statuses=("pending",))
        plan = plan_text(db, statement)
        assert "ix_timer_request_status_due" in plan, plan
        assert "ix_timer_due" not in plan, plan
    finally:
        db.dispose()


def test_the_sweep_still_finds_due_timers_through_the_due_index(database_url: str) -> None:
    db = Database(database_url)
    try:
        table = sa.table("timer", sa.column("id"), sa.column("status"), sa.column("due_at"))
        moment = datetime(2026, 1, 1, tzinfo=UTC).isoformat()
        statement = (
            sa.select(table.c.id)
            .where(table.c.status == "pending", table.c.due_at <= sa.literal(moment))
            .order_by(table.c.due_at)
        )
        assert "ix_timer_due" in plan_text(db, statement)
    finally:
        db.dispose()
