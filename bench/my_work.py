"""Benchmark (not a test): "Needs my action" over a SQLite file of many requests.

    .venv/bin/python bench/my_work.py [--requests 100000] [--final 0.97] [--late 0.01]
                                      [--samples 50] [--seed 1]

Seeds a fresh SQLite file (migrated; the current workflow versions registered) with
`--requests` rows spread over the five programmes, a share `--final` of them closed, declined
or withdrawn and the rest in the active stages (and on hold), created over the past five years;
each active request gets one pending timer, a share `--late` of them already past due (the
sweep has not fired them yet), each closed one a fired timer. Then times, in process, the
navigation's count (`engine.my_work.work_counts`, on every page) and a page of the list
(`load_my_work`, first and hundredth page: ordering, guards of 25 rows, due dates, escalations)
for a coordinator. Prints the median and p95 of each. Asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.catalogues import load_catalogues
from engine.actor import Actor
from engine.clock import ManualClock
from engine.my_work import load_my_work, work_counts
from engine.registry import WorkflowRegistry
from engine.service import Engine
from storage import migrate
from storage.db import Database
from storage.models import request_table, timer_table

FINAL = ("closed", "declined", "withdrawn")
ACTIVE = ("intake", "needs_assessment", "agenda_design", "logistics", "ready", "in_progress")


def seed(
    engine: Engine, n: int, final: float, late: float, now: datetime, rnd: random.Random
) -> None:
    programmes = engine.registry.names()
    versions = {p: engine.registry.current(p).version for p in programmes}
    rows, timers = [], []
    for i in range(1, n + 1):
        programme = rnd.choice(programmes)
        state = rnd.choice(FINAL) if rnd.random() < final else rnd.choice((*ACTIVE, "on_hold"))
        created = now - timedelta(days=rnd.randint(1, 5 * 365))
        rows.append(
            {
                "id": i,
                "programme": programme,
                "workflow_version": versions[programme],
                "emb_id": None,
                "title": f"Request {i}",
                "state": state,
                "held_from": "intake" if state == "on_hold" else None,
                "data": {},
                "version": 1,
                "links_epoch": 0,
                "created_at": created,
                "updated_at": created,
            }
        )
        pending = state not in FINAL
        due = now + timedelta(days=-1 if rnd.random() < late else rnd.randint(1, 60))
        timers.append(
            {
                "key": f"{i}:bench:1:0",
                "request_id": i,
                "name": "stale_intake",
                "kind": "reminder",
                "occurrence": 0,
                "armed_in": state,
                "due_at": due if pending else created,
                "status": "pending" if pending else "fired",
                "created_at": created,
            }
        )
    with engine.db.transaction() as conn:  # raw rows: the derived tables play no part here
        conn.execute(request_table.insert(), rows)
        conn.execute(timer_table.insert(), timers)


def timed(fn: object, samples: int) -> tuple[float, float]:
    assert callable(fn)
    fn()
    found = []
    for _ in range(samples):
        start = time.perf_counter()
        fn()
        found.append((time.perf_counter() - start) * 1000)
    found.sort()
    return found[len(found) // 2], found[max(0, int(len(found) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--final", type=float, default=0.97)
    parser.add_argument("--late", type=float, default=0.01)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        migrate.upgrade(db)
        now = datetime(2026, 3, 2, 15, tzinfo=UTC)
        clock = ManualClock(now)
        catalogues = load_catalogues()
        registry = WorkflowRegistry(catalogues)
        registry.sync(db, clock)
        engine = Engine(db, registry, catalogues, clock=clock)
        started = time.perf_counter()
        seed(engine, args.requests, args.final, args.late, now, random.Random(args.seed))
        print(f"seeded {args.requests:,} requests in {time.perf_counter() - started:.1f} s")
        counts = work_counts(engine, "coordinator")
        print(f"a coordinator can act on {counts.total:,}, {counts.overdue:,} overdue")
        actor = Actor("coordinator", "bench")
        last = max(1, -(-counts.total // 25))
        for label, fn, samples in (
            ("navigation count", lambda: work_counts(engine, "coordinator"), args.samples),
            ("/work page 1", lambda: load_my_work(engine, actor, 1), max(5, args.samples // 5)),
            (
                f"/work page {min(100, last)}",
                lambda: load_my_work(engine, actor, min(100, last)),
                max(5, args.samples // 5),
            ),
        ):
            median, p95 = timed(fn, samples)
            print(f"{label:>20}: median {median:7.2f} ms   p95 {p95:7.2f} ms")
        db.dispose()


if __name__ == "__main__":
    main()
