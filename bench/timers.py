"""Benchmark (not a test): timers at scale, on a SQLite file (WAL, synchronous=NORMAL).

    .venv/bin/python bench/timers.py [--pending 100000] [--due 10000] [--transitions 14000]
                                     [--runs 3]

In one run:
1. the engine's transition rate on the harness scenario (bench/bench_lifecycle.yaml, the same
   advance path the CLI uses), as the yardstick;
2. `cicie worker --once` started as a separate process against a database holding `--pending`
   future timers: wall time from process start to exit (imports, migrations check, registry,
   one sweep, one dispatch pass), the CPU time it used, and its peak RSS;
3. a sweep of `--due` simultaneously due reminders (the internship's stale-intake reminder to
   the coordinator), each rendered into an outbox row with a history row, in the sweep's
   batched transactions: timers/s, and the ratio to the transition rate (goal ≥ 1/3). The
   counts are checked: every timer fired, one outbox row and one history row per timer.
Each measure is taken `--runs` times (a fresh database each time for 1 and 3), the yardstick
and the sweep interleaved round by round, and the median is reported (not the best: a best-of
flatters whichever side had the luckier round); the sweep / transitions ratio is the median of
the per-round ratios, so both sides of it come from the same moment. Rates are given per wall
second and per CPU second of the process, since the machine is shared and the wall clock
carries other people's load. Loopback only; nothing is sent (no SMTP is involved).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from pydantic import BaseModel  # noqa: E402

from config.catalogues import load_catalogues  # noqa: E402
from config.settings import Settings  # noqa: E402
from engine.actor import Actor  # noqa: E402
from engine.bootstrap import Runtime, build_runtime  # noqa: E402
from engine.clock import ManualClock  # noqa: E402
from engine.registry import WorkflowRegistry  # noqa: E402
from engine.service import Engine  # noqa: E402
from engine.sweep import TimerSweep  # noqa: E402
from notifications.wiring import install_mail  # noqa: E402
from storage import outbox, requests, timers  # noqa: E402
from storage.models import history_table, timer_table  # noqa: E402
from workflows.guard_api import GuardContext, GuardRegistry  # noqa: E402
from workflows.loader import load_file  # noqa: E402

NOW = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)
BENCH_TRIGGERS = [
    "accept",
    "assess",
    "design_agenda",
    "confirm_logistics",
    "start",
    "finish",
    "close",
]


def _runtime(home: Path, clock: ManualClock) -> Runtime:
    settings = Settings(home=home, environment="test")
    return build_runtime(settings, clock=clock)


@dataclass(frozen=True)
class Rate:
    wall: float  # per wall-clock second
    cpu: float  # per CPU second of this process


def median(rates: list[Rate]) -> Rate:
    return Rate(statistics.median(r.wall for r in rates), statistics.median(r.cpu for r in rates))


def transition_rate(home: Path, count: int) -> Rate:
    """Advances per second on the harness scenario (no mail: its workflow declares none)."""
    guards = GuardRegistry()

    class _Trigger(BaseModel):
        trigger: str

    @guards.register("peer_guard", params=_Trigger)
    def peer_guard(_ctx: GuardContext) -> list[str]:
        """Always holds here: the yardstick measures the engine, not a rule."""
        return []

    rt = _runtime(home, ManualClock(NOW))
    definition = load_file(ROOT / "bench" / "bench_lifecycle.yaml", guards=guards)
    registry = WorkflowRegistry(
        rt.catalogues, guards=guards, definitions={"bench_lifecycle": definition}
    )
    registry.sync(rt.db, rt.engine.clock)
    engine = Engine(rt.db, registry, rt.catalogues, clock=rt.engine.clock)
    n = max(1, count // len(BENCH_TRIGGERS))
    version = registry.current("bench_lifecycle").version
    with rt.db.transaction() as conn:
        requests.insert_many(conn, [_request_row("bench_lifecycle", version) for _ in range(n)])
    ids = [v.id for v in engine.list_requests(programme="bench_lifecycle")]
    actor = Actor("coordinator", "bench")
    start, cpu = time.perf_counter(), time.process_time()
    for trigger in BENCH_TRIGGERS:
        for rid in ids:
            engine.advance(rid, trigger, actor)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    rt.close()
    done = n * len(BENCH_TRIGGERS)
    return Rate(done / elapsed, done / cpu)


def _request_row(programme: str, version: int) -> dict[str, object]:
    return {
        "programme": programme,
        "workflow_version": version,
        "emb_id": None,
        "title": "bench",
        "state": "intake",
        "held_from": None,
        "data": {},
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }


def seed_timers(rt: Runtime, count: int, *, due: bool) -> None:
    """`count` stale-intake reminders on internship requests, due now or in a year."""
    version = rt.registry.current("internship").version
    with rt.db.transaction() as conn:
        requests.insert_many(conn, [_request_row("internship", version) for _ in range(count)])
    with rt.db.read() as conn:
        ids = [r.id for r in requests.listing(conn, state="intake", programme="internship")]
    when = NOW - timedelta(minutes=1) if due else NOW + timedelta(days=365)
    rows = [
        {
            "key": f"{rid}:stale_intake:bench:{0 if due else 1}",
            "request_id": rid,
            "name": "stale_intake",
            "kind": "reminder",
            "occurrence": 0,
            "armed_in": "intake",
            "due_at": when,
            "status": "pending",
            "created_at": NOW,
        }
        for rid in ids[-count:]
    ]
    with rt.db.transaction() as conn:
        for i in range(0, len(rows), 5000):
            timers.arm(conn, rows[i : i + 5000])


def worker_start(home: Path, pending: int, runs: int) -> tuple[float, float, float]:
    """Median wall time and CPU time (s) of `cicie worker --once` over `runs`, and peak RSS."""
    rt = _runtime(home, ManualClock(NOW))
    seed_timers(rt, pending, due=False)
    rt.close()
    env = {**os.environ, "CICIE_HOME": str(home)}
    cicie = str(Path(sys.executable).with_name("cicie"))
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [cicie, "worker", "--once", "--now", NOW.isoformat(), "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        result = json.loads(done.stdout)
        assert result["timers"]["fired"] == [], done.stdout  # none is due: all in a year
    with sqlite3.connect(home / "cicie.db") as conn:
        (left,) = conn.execute("SELECT count(*) FROM timer WHERE status = 'pending'").fetchone()
    assert left == pending, f"{left} of {pending} timers still pending"
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return statistics.median(walls), statistics.median(cpus), rss_mb


def sweep_rate(home: Path, due: int) -> Rate:
    clock = ManualClock(NOW)
    rt = _runtime(home, clock)
    install_mail(rt)
    seed_timers(rt, due, due=True)
    sweep = TimerSweep(rt.engine, worker="bench", batch=1000)
    start, cpu = time.perf_counter(), time.process_time()
    report = sweep.run_once()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    with rt.db.read() as conn:
        queued = outbox.counts(conn).get("pending", 0)
        history = conn.execute(
            sa.select(sa.func.count()).where(history_table.c.trigger == "timer:stale_intake")
        ).scalar_one()
        statuses = {
            str(status): int(n)
            for status, n in conn.execute(
                sa.select(timer_table.c.status, sa.func.count()).group_by(timer_table.c.status)
            )
        }
    rt.close()
    assert (report.reminders, report.errors) == (due, 0), report.to_dict()
    assert (queued, history, statuses) == (due, due, {"fired": due}), (queued, history, statuses)
    return Rate(due / elapsed, due / cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pending", type=int, default=100_000)
    ap.add_argument("--due", type=int, default=10_000)
    ap.add_argument("--transitions", type=int, default=14_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    load_catalogues()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        rates, sweeps = [], []
        for i in range(args.runs):  # interleaved, so both see the same load
            rates.append(transition_rate(base / f"yardstick{i}", args.transitions))
            sweeps.append(sweep_rate(base / f"due{i}", args.due))
        start_s, start_cpu, rss = worker_start(base / "pending", args.pending, args.runs)
    rate, timer_rate = median(rates), median(sweeps)
    ratio = Rate(
        statistics.median(s.wall / r.wall for s, r in zip(sweeps, rates, strict=True)),
        statistics.median(s.cpu / r.cpu for s, r in zip(sweeps, rates, strict=True)),
    )
    print(
        f"# timers benchmark  pending={args.pending}  due={args.due}  runs={args.runs}  "
        "(SQLite WAL/NORMAL; medians of interleaved runs)"
    )
    print("| measure | value | goal |")
    print("|---|---|---|")
    print(
        f"| engine transitions/s (yardstick) | {rate.wall:,.0f} per wall s, "
        f"{rate.cpu:,.0f} per CPU s | |"
    )
    print(
        f"| `cicie worker --once` with {args.pending:,} pending timers: wall time | "
        f"{start_s:.2f} s ({start_cpu:.2f} s CPU) | < 2 s |"
    )
    print(f"| … its peak RSS | {rss:.0f} MB | < 200 MB |")
    print(
        f"| sweep of {args.due:,} due reminders into outbox rows: timers/s | "
        f"{timer_rate.wall:,.0f} per wall s, {timer_rate.cpu:,.0f} per CPU s "
        f"(counts checked) | ≥ {rate.wall / 3:,.0f} (⅓ of the transition rate) |"
    )
    print(
        f"| ratio sweep / transitions (median of the rounds' ratios) | {ratio.wall:.2f} wall, "
        f"{ratio.cpu:.2f} CPU | ≥ 0.33 |"
    )


if __name__ == "__main__":
    main()
