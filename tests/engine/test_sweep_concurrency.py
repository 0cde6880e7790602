"""Several workers at once on one database (PostgreSQL, and SQLite): a burst of due timers,
each fired once."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.sweep import SweepReport, TimerSweep
from storage import requests, timers
from storage.models import history_table, timer_table

BURST = 5000


def test_two_workers_fire_each_of_five_thousand_due_timers_once(
    runtime: Runtime, clock: ManualClock
) -> None:
    version = runtime.registry.current("internship").version
    now = clock()
    n_requests = BURST // 2
    with runtime.db.transaction() as conn:
        requests.insert_many(
            conn,
            [
                {
                    "programme": "internship",
                    "workflow_version": version,
                    "emb_id": None,
                    "title": f"burst {i}",
                    "state": "intake",
                    "held_from": None,
                    "data": {},
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(n_requests)
            ],
        )
        ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM request ORDER BY id"))]
        timers.arm(
            conn,
            [
                {
                    "key": f"{rid}:stale_intake:0:{n}",
                    "request_id": rid,
                    "name": "stale_intake",
                    "kind": "reminder",
                    "occurrence": n,
                    "armed_in": "intake",
                    "due_at": now - timedelta(minutes=5 + n),
                    "status": "pending",
                    "created_at": now,
                }
                for rid in ids
                for n in range(2)
            ],
        )
    reports: list[SweepReport] = []
    barrier = threading.Barrier(2)

    def work(name: str) -> None:
        # chunks of 20 timers per transaction: still batched, but SQLite's one write lock
        # changes hands often enough for both workers to take part (a waiter polls for it, so
        # long transactions back to back can keep the other worker out for a whole sweep)
        sweep = TimerSweep(runtime.engine, worker=name, batch=200, chunk=20)
        barrier.wait()
        reports.append(sweep.run_once())

    threads = [threading.Thread(target=work, args=(f"worker-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    fired = [f for r in reports for f in r.fired]
    assert len(fired) == BURST
    assert len(set(fired)) == BURST, "no timer fired twice"
    if runtime.db.is_postgres:
        # rows are claimed with SKIP LOCKED: both workers work at once. On SQLite the one
        # write lock may stay with one worker for the whole burst (a waiter polls for it with
        # growing sleeps), so there only the exactly-once above is asserted.
        assert all(r.reminders > 0 for r in reports), "both workers took part"
    with runtime.db.read() as conn:
        statuses = dict(
            conn.execute(
                sa.select(timer_table.c.status, sa.func.count()).group_by(timer_table.c.status)
            ).all()
        )
        history = conn.execute(
            sa.select(sa.func.count()).where(history_table.c.trigger == "timer:stale_intake")
        ).scalar_one()
    assert statuses == {"fired": BURST}
    assert history == BURST
