"""Benchmark (not a test): timers at scale, on a SQLite file (WAL, synchronous=NORMAL).

    .venv/bin/python bench/timers.py [--pending 100000] [--due 10000] [--transitions 14000]

In one run:
1. the engine's transition rate on the harness scenario (bench/bench_lifecycle.yaml, the same
   advance path the CLI uses), as the yardstick;
2. `cicie worker --once` started as a separate process against a database holding `--pending`
   future timers: wall time from process start to exit (imports, migrations check, registry,
   one sweep, one dispatch pass) and its peak RSS;
3. a sweep of `--due` simultaneously due reminders (the internship's stale-intake reminder to
   the coordinator), each rendered into an outbox row in its own transaction, with a history
   row: timers/s, and the ratio to the transition rate (goal ≥ 1/3).
Loopback only; nothing is sent (no SMTP is involved).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
    settings = Settings(home=home, environment="test", demo_data=False)
    return build_runtime(settings, clock=clock)


def transition_rate(home: Path, count: int) -> float:
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
    start = time.perf_counter()
    for trigger in BENCH_TRIGGERS:
        for rid in ids:
            engine.advance(rid, trigger, actor)
    elapsed = time.perf_counter() - start
    rt.close()
    return n * len(BENCH_TRIGGERS) / elapsed


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


def worker_start(home: Path, pending: int) -> tuple[float, float]:
    rt = _runtime(home, ManualClock(NOW))
    seed_timers(rt, pending, due=False)
    rt.close()
    env = {**os.environ, "CICIE_HOME": str(home), "CICIE_DEMO_DATA": "false"}
    cicie = str(Path(sys.executable).with_name("cicie"))
    start = time.perf_counter()
    done = subprocess.run(
        [cicie, "worker", "--once", "--now", NOW.isoformat(), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - start
    assert '"fired": []' in done.stdout.replace("\n", "").replace(" ", "").replace(
        '"fired":[]', '"fired": []'
    ), done.stdout
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return elapsed, rss_mb


def sweep_rate(home: Path, due: int) -> tuple[float, int]:
    clock = ManualClock(NOW)
    rt = _runtime(home, clock)
    install_mail(rt)
    seed_timers(rt, due, due=True)
    sweep = TimerSweep(rt.engine, worker="bench", batch=1000)
    start = time.perf_counter()
    report = sweep.run_once()
    elapsed = time.perf_counter() - start
    with rt.db.read() as conn:
        queued = outbox.counts(conn).get("pending", 0)
    rt.close()
    assert report.reminders == due, report.to_dict()
    return due / elapsed, queued


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pending", type=int, default=100_000)
    ap.add_argument("--due", type=int, default=10_000)
    ap.add_argument("--transitions", type=int, default=14_000)
    args = ap.parse_args()
    load_catalogues()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        rate = transition_rate(base / "yardstick", args.transitions)
        start_s, rss = worker_start(base / "pending", args.pending)
        timer_rate, queued = sweep_rate(base / "due", args.due)
    print(f"# timers benchmark  pending={args.pending}  due={args.due}  (SQLite WAL/NORMAL)")
    print("| measure | value | goal |")
    print("|---|---|---|")
    print(f"| engine transitions/s (yardstick) | {rate:,.0f} | |")
    print(
        f"| `cicie worker --once` with {args.pending:,} pending timers: wall time | "
        f"{start_s:.2f} s | < 2 s |"
    )
    print(f"| … its peak RSS | {rss:.0f} MB | < 200 MB |")
    print(
        f"| sweep of {args.due:,} due reminders into outbox rows: timers/s | "
        f"{timer_rate:,.0f} ({queued:,} messages queued) | ≥ {rate / 3:,.0f} (⅓ of the "
        f"transition rate) |"
    )
    print(f"| ratio sweep / transitions | {timer_rate / rate:.2f} | ≥ 0.33 |")


if __name__ == "__main__":
    main()
