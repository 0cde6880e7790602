"""Every statement a transition runs finds its rows through an index, on both databases (issue
16, item 3): with 100,000 pending timers or requests of others, a transition must cost what it
costs on an empty database, so none of its statements may scan a table.

On SQLite every statement of real transitions (mail on: timers armed, moved and cancelled,
messages queued with an invitation) is captured as it runs and planned with EXPLAIN QUERY
PLAN. On both databases the hand-written statements of the transition's path (the row lock,
the pending timers, their cancel and move, the organisation with the links epoch) are planned
with EXPLAIN, PostgreSQL with sequential scans priced out (its tables are small in a test)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from config.settings import Settings
from engine.actor import Actor
from engine.bootstrap import Runtime, build_runtime
from engine.clock import ManualClock
from notifications.wiring import install_mail
from storage import timers
from storage.db import Database
from tests.conftest import START, example_steps
from tests.engine.conftest import UPCOMING_END, UPCOMING_START

# a statement that reads or writes through a WHERE: its plan must not scan the table
_PLANNED = re.compile(r"^\s*(SELECT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)


def _sqlite_plan(conn: sa.Connection, sql: str) -> list[str]:
    return [str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]


# an index led by the status alone finds "every pending timer (or message)": a scan in all but
# name, as the table grows with other requests' rows
_STATUS_ONLY = re.compile(r"USING (COVERING )?INDEX \w+ \(status=\?\)")


def _scans(plan: list[str]) -> list[str]:
    """The steps of a SQLite plan that read a whole table (a constant row is no table), or all
    its rows of one status."""
    return [
        step
        for step in plan
        if (step.startswith("SCAN ") and "CONSTANT ROW" not in step) or _STATUS_ONLY.search(step)
    ]


def test_no_statement_of_a_transition_scans_a_table_on_sqlite(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=sqlite_url, environment="test")
    runtime: Runtime = build_runtime(settings, clock=ManualClock(START))
    try:
        install_mail(runtime)
        seen: list[str] = []

        @sa.event.listens_for(runtime.db.engine, "connect")
        def _trace(dbapi: Any, _record: Any) -> None:
            dbapi.set_trace_callback(seen.append)

        runtime.db.engine.dispose()  # new connections carry the trace
        engine = runtime.engine
        emb = "EMB-PLANS"
        engine.add_emb(
            code=emb, name="Electoral body", country="HN", language="fr", email="tse@example.org"
        )
        view = engine.create(
            "internship", emb_code=emb, title="plans", actor=Actor("coordinator", "ana")
        )
        captured: list[str] = []
        for step in example_steps("internship"):
            data: dict[str, Any] = dict(step.get("data") or {})
            if step["trigger"] == "confirm_logistics":
                data.pop("past_event", None)
                data.update(
                    event_start=UPCOMING_START.isoformat(), event_end=UPCOMING_END.isoformat()
                )
            seen.clear()
            view = engine.advance(view.id, step["trigger"], Actor.parse(step["as"]), data=data)
            captured.extend(seen)
        assert view.state == "closed"
        statements = sorted({s for s in captured if _PLANNED.match(s)})
        assert any("timer" in s for s in statements), "the timers' statements were captured"
        with runtime.db.engine.connect() as conn:
            scanning = {s: _scans(_sqlite_plan(conn, s)) for s in statements}
        assert {s: p for s, p in scanning.items() if p} == {}
    finally:
        runtime.close()


# the hand-written statements of a transition, with the dialect's placeholders filled
_STATEMENTS = {
    "the row lock": (
        "SELECT r.id, r.state, r.data, r.version FROM request r "
        "LEFT OUTER JOIN emb e ON e.id = r.emb_id WHERE r.id = 7"
    ),
    "the pending timers": (
        "SELECT id, key, name, occurrence, due_at FROM timer "
        "WHERE request_id = 7 AND status = 'pending' ORDER BY due_at, id"
    ),
    "cancel": (  # as storage.timers writes "still pending"
        "UPDATE timer SET status = 'cancelled', outcome = 'left' "
        f"WHERE id IN (1, 2, 3) AND {timers._STILL_PENDING}"
    ),
    "cancel on leaving a state": (  # as storage.timers.cancel_all_but writes it
        "UPDATE timer SET status = 'cancelled', outcome = 'left' "
        "WHERE request_id = 7 AND status = 'pending' AND name NOT IN ('stale_intake')"
    ),
    "move": f"UPDATE timer SET outcome = NULL WHERE id = 4 AND {timers._STILL_PENDING}",
    "organisation and links epoch": (
        "SELECT r.links_epoch, e.id, e.code, e.name FROM request r "
        "LEFT OUTER JOIN emb e ON e.code = 'INE-PE' WHERE r.id = 7"
    ),
    "the request's outbox rows (its page)": "SELECT id FROM outbox WHERE request_id = 7",
    "the request's history (its page)": "SELECT id FROM history WHERE request_id = 7",
}


@pytest.mark.parametrize("what", sorted(_STATEMENTS))
def test_the_transitions_own_statements_use_an_index(database_url: str, what: str) -> None:
    db = Database(database_url)
    try:
        sqlite = db.engine.dialect.name == "sqlite"
        sql = _STATEMENTS[what]
        with db.engine.connect() as conn:
            if sqlite:
                plan = _sqlite_plan(conn, sql)
                assert _scans(plan) == [], plan
            else:
                conn.exec_driver_sql("SET enable_seqscan = off")
                plan = [str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN {sql}")]
                assert not any("Seq Scan" in step for step in plan), plan
                assert not any("ix_timer_due" in step for step in plan), plan
                conn.rollback()
    finally:
        db.dispose()
