"""The navigation's "Needs my action" count runs on every page: it is answered from an index on
the request's programme and state — `ix_request_programme_state`, or its twin
`ix_request_state_programme` (migration 0012), whichever the planner prefers: seeks by
programme and state, no request row read — and its overdue part from `ix_timer_due`, on both
databases; never a scan of every request."""

from __future__ import annotations

from datetime import UTC, datetime

from storage import my_work
from storage.db import Database
from storage.my_work import Scope
from tests.storage.plans import plan_text

PROGRAMME_STATE_INDEXES = ("ix_request_programme_state", "ix_request_state_programme")
SCOPE = Scope(
    uniform={
        "seminar": frozenset({"intake", "needs_assessment", "agenda_design", "on_hold"}),
        "internship": frozenset({"intake", "report_overdue"}),
    },
    overdue_states={"internship": frozenset({"report_overdue"})},
)


def test_the_navigation_count_reads_only_the_programme_state_index(database_url: str) -> None:
    db = Database(database_url)
    try:
        statement = my_work.count_statement(SCOPE)
        assert statement is not None
        plan = plan_text(db, statement)
        assert any(index in plan for index in PROGRAMME_STATE_INDEXES), plan
        if db.engine.dialect.name == "sqlite":
            assert "SEARCH request USING COVERING INDEX ix_request_" in plan, plan
            assert "SCAN request" not in plan, plan
        else:
            assert "Index Only Scan" in plan, plan
            assert "Seq Scan" not in plan, plan
    finally:
        db.dispose()


def test_the_overdue_count_starts_from_the_due_timers(database_url: str) -> None:
    db = Database(database_url)
    try:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        statement = my_work.late_timer_statement(now)
        plan = plan_text(db, statement)
        assert "ix_timer_due" in plan, plan
        assert "SCAN request" not in plan, plan
    finally:
        db.dispose()
