"""Benchmark (not a test): the real path of a transition beside the bare one (issue 16).

    .venv/bin/python bench/real_path.py [--rounds 3] [--lifecycles 12] [--bare 150]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--pending-timers 100000] [--requests 100000] [--no-sqlite] [--json]

In one process, on each database (a fresh SQLite file, WAL + synchronous=NORMAL; and, with
`--database-url`, a scratch database created on that PostgreSQL server and dropped after),
interleaved rounds time three paths, and the medians are reported:

- **bare**: the peer harness's scenario (`bench/bench_lifecycle.yaml` through the adapter
  `bench/impl_cicie.py`'s guard): `Engine.advance`, no mail, no timers — the yardstick;
- **full, mail off**: the shipped workflows (internship and international workshop) from
  intake to closed along their bundled examples (`workflows/examples/*.yaml`: delegates,
  agenda, venue, dates), with timers, guards, data validation and history;
- **full, mail on**: the same with partner mail installed as the server runs it: every
  message rendered (real templates, the .ics invitation) and queued in the transition's
  transaction.

Only `advance` calls are timed (the requests are created, untimed, before each round, after
a warm-up that sends each programme's mail to every EMB: mail templates are compiled once per
language, as a running server has them). The event is put ahead of the clock so the timers
are armed, moved and cancelled rather than skipped. `--pending-timers N` seeds N pending
timers of other requests (ten per seeded request) and `--requests N` N other requests, bulk
inserted before anything is timed.

The per-phase breakdown is measured in a separate pass after the timed rounds (so the timed
rounds carry no instrumentation at all): CPU-time (`time.thread_time`) wrappers are put
around the functions of each phase (`PHASES` below) for that pass only; time is charged to
the innermost phase running (a timer query inside timer planning counts as SQL), and
"engine, other" is the rest of each `advance` (machine, row read into a view, events, glue).
CPU rather than wall time, because a shared machine's load inflates wall time unevenly.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PEERS = ROOT.parent / "shared" / "bench" / "peers"  # the peer harness (common.py), if present
if PEERS.is_dir():
    sys.path.insert(0, str(PEERS))

import sqlalchemy as sa  # noqa: E402
import yaml  # noqa: E402
from pydantic import BaseModel  # noqa: E402

from config.catalogues import load_catalogues  # noqa: E402
from config.settings import Settings  # noqa: E402
from engine.actor import Actor  # noqa: E402
from engine.bootstrap import Runtime, build_runtime  # noqa: E402
from engine.clock import ManualClock  # noqa: E402
from engine.registry import WorkflowRegistry  # noqa: E402
from engine.service import Engine  # noqa: E402
from notifications.wiring import install_mail  # noqa: E402
from storage import embs, requests  # noqa: E402
from storage.db import normalise_url  # noqa: E402
from storage.models import history_table, outbox_table, timer_table  # noqa: E402
from workflows.guard_api import GuardContext, GuardRegistry  # noqa: E402
from workflows.loader import WORKFLOW_DIR, load_file  # noqa: E402

NOW = datetime(2026, 1, 12, 15, 0, tzinfo=UTC)
EVENT_START, EVENT_END = date(2026, 6, 1), date(2026, 6, 12)  # ahead of NOW: timers armed
PROGRAMMES = ("internship", "international_workshop")
BARE = "bench_lifecycle"
BARE_TRIGGERS = (
    "accept",
    "assess",
    "design_agenda",
    "confirm_logistics",
    "start",
    "finish",
    "close",
)
EMB_LANGUAGES = ("es", "fr", "pt", "en", "ar")


# ---------------------------------------------------------------- the bare scenario
def _bare_guards() -> tuple[GuardRegistry, Callable[[int], dict[str, Any]]]:
    """The adapter's guard (the harness's own function) and the harness's request data; a
    stand-in that always holds, with the same fields, when the harness is not checked out."""
    try:
        impl = importlib.import_module("bench.impl_cicie")
        common = importlib.import_module("common")
    except ImportError:
        guards = GuardRegistry()

        class _Trigger(BaseModel):
            trigger: str

        @guards.register("peer_guard", params=_Trigger)
        def peer_guard(_ctx: GuardContext) -> list[Any]:
            """Always holds (the peer harness is not checked out next to the project)."""
            return []

        return guards, lambda i: {"requesting_body": f"EMB {i}"}
    return impl._registry(), common.request_data


# ---------------------------------------------------------------- one database
def _steps(programme: str) -> list[dict[str, Any]]:
    with open(WORKFLOW_DIR / "examples" / f"{programme}.yaml", encoding="utf-8") as fh:
        steps = list(yaml.safe_load(fh)["steps"])
    for step in steps:
        step["actor"] = Actor.parse(step["as"])
        data = dict(step.get("data") or {})
        if step["trigger"] == "confirm_logistics":
            data.pop("past_event", None)
            data.update(event_start=EVENT_START.isoformat(), event_end=EVENT_END.isoformat())
        step["data"] = data
    return steps


@dataclass
class Target:
    """One database with the three engines on it."""

    name: str
    url: str
    home: Path
    runtime: Runtime = field(init=False)
    mail_on: Engine = field(init=False)
    bare: Engine = field(init=False)
    bare_data: Callable[[int], dict[str, Any]] = field(init=False)
    embs: list[str] = field(default_factory=list)
    steps: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    counter: int = 0

    def open(self) -> None:
        clock = ManualClock(NOW)
        settings = Settings(home=self.home, database_url=self.url, environment="test")
        self.runtime = rt = build_runtime(settings, clock=clock)
        # the same database, registry and calendar; this one with mail installed
        self.mail_on = Engine(
            rt.db, rt.registry, rt.catalogues, clock=clock, business_time=rt.engine.business_time
        )
        install_mail(Runtime(settings, rt.db, rt.catalogues, rt.registry, self.mail_on))
        guards, self.bare_data = _bare_guards()
        definition = load_file(ROOT / "bench" / f"{BARE}.yaml", guards=guards)
        registry = WorkflowRegistry(rt.catalogues, guards=guards, definitions={BARE: definition})
        registry.sync(rt.db, clock)
        self.bare = Engine(rt.db, registry, rt.catalogues, clock=clock)
        self.bare_version = registry.current(BARE).version
        with rt.db.transaction() as conn:  # the EMBs' rows as `cicie emb add` writes them
            for n, language in enumerate(EMB_LANGUAGES):
                code = f"BENCH-{n}"
                embs.insert(
                    conn,
                    code=code,
                    name=f"Electoral body {n}",
                    country=("HN", "CM", "BR", "KE", "TN")[n],
                    language=language,
                    email=f"secretaria{n}@emb.example.org",
                    now=NOW,
                )
                self.embs.append(code)
        self.steps = {p: _steps(p) for p in PROGRAMMES}

    def close(self) -> None:
        self.runtime.close()

    # ------------------------------------------------------------ seeds
    def seed(self, n_requests: int, n_timers: int) -> None:
        """`n_requests` other requests, and `n_timers` pending timers of other requests (ten
        per request, on requests of their own), inserted in bulk."""
        rt = self.runtime
        version = rt.registry.current("internship").version
        holders = -(-n_timers // 10)

        def rows(count: int) -> Iterator[dict[str, Any]]:
            for i in range(count):
                yield {
                    "programme": "internship",
                    "workflow_version": version,
                    "emb_id": None,
                    "title": f"seeded request {i}",
                    "state": "intake",
                    "held_from": None,
                    "data": {"contact_name": f"Person {i}", "themes": ["electoral_cycle"]},
                    "version": 1,
                    "created_at": NOW,
                    "updated_at": NOW,
                }

        chunk = 5000
        with rt.db.transaction() as conn:
            first = conn.execute(sa.select(sa.func.coalesce(sa.func.max(requests.R.c.id), 0)))
            start_id = int(first.scalar_one()) + 1
            batch: list[dict[str, Any]] = []
            for row in rows(n_requests + holders):
                batch.append(row)
                if len(batch) == chunk:
                    requests.insert_many(conn, batch)
                    batch = []
            requests.insert_many(conn, batch)
            timer_rows: list[dict[str, Any]] = []
            for i in range(n_timers):
                timer_rows.append(
                    {
                        "key": f"seed:{i}",
                        "request_id": start_id + n_requests + i // 10,
                        "name": "stale_intake",
                        "kind": "reminder",
                        "occurrence": i % 10,
                        "armed_in": "intake",
                        "due_at": NOW + timedelta(days=1 + i % 300, minutes=i % 1440),
                        "status": "pending",
                        "created_at": NOW,
                    }
                )
                if len(timer_rows) == chunk:
                    conn.execute(timer_table.insert(), timer_rows)
                    timer_rows = []
            if timer_rows:
                conn.execute(timer_table.insert(), timer_rows)
        if rt.db.is_sqlite:
            with rt.db.transaction() as conn:
                conn.exec_driver_sql("ANALYZE")
        else:
            with rt.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")

    # ------------------------------------------------------------ paths
    def prepare_full(self, lifecycles: int) -> list[tuple[str, int]]:
        out = []
        creator = Actor("coordinator", "ana")
        for _ in range(lifecycles):
            for programme in PROGRAMMES:
                self.counter += 1
                view = self.runtime.engine.create(
                    programme,
                    emb_code=self.embs[self.counter % len(self.embs)],
                    title=f"{programme} {self.counter}",
                    actor=creator,
                )
                out.append((programme, view.id))
        return out

    def run_full(self, engine: Engine, made: list[tuple[str, int]]) -> int:
        """Every step of every request, step by step across the requests."""
        done = 0
        depth = max(len(s) for s in self.steps.values())
        for n in range(depth):
            for programme, rid in made:
                steps = self.steps[programme]
                if n < len(steps):
                    step = steps[n]
                    engine.advance(rid, step["trigger"], step["actor"], data=step["data"])
                    done += 1
        return done

    def prepare_bare(self, count: int) -> list[int]:
        rt = self.runtime
        with rt.db.transaction() as conn:
            result = conn.execute(
                requests.R.insert().returning(requests.R.c.id),
                [
                    {
                        "programme": BARE,
                        "workflow_version": self.bare_version,
                        "emb_id": None,
                        "title": f"bare {i}",
                        "state": "intake",
                        "held_from": None,
                        "data": self.bare_data(i + 1),
                        "version": 1,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for i in range(count)
                ],
            )
            return sorted(int(r[0]) for r in result)

    def run_bare(self, ids: list[int]) -> int:
        actor = Actor("coordinator", "bench")
        for trigger in BARE_TRIGGERS:
            for rid in ids:
                self.bare.advance(rid, trigger, actor)
        return len(ids) * len(BARE_TRIGGERS)

    def row_counts(self) -> dict[str, int]:
        with self.runtime.db.read() as conn:
            return {
                t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                for t in (history_table, outbox_table, timer_table)
            }


# ---------------------------------------------------------------- the phase breakdown
PHASES: dict[str, list[tuple[str, str]]] = {
    # phase: (module, attribute path) of the functions whose time is charged to it
    "guards and data validation": [
        ("engine.operations.advance", "validated_patch"),
        ("engine.operations.advance", "merge"),
        ("engine.operations.advance", "rule_failures"),
    ],
    "timer planning": [("engine.timers", "TimerPlanner.__call__")],
    "recipients, links, context": [("notifications.outbox_writer", "OutboxWriter.__call__")],
    "rendering (Jinja)": [
        ("notifications.render", "MailRenderer.render"),
        ("notifications.render", "MailRenderer.render_parts"),
        ("notifications.outbox_writer", "MailRenderer.render_shared"),
        ("notifications.outbox_writer", "MailRenderer.render_stored"),
    ],
    ".ics invitation": [("notifications.outbox_writer", "OutboxWriter._invitation")],
    "MIME": [  # since migration 0015 written when the message is sent, not in the transition
        ("notifications.outbox_writer", "build_message"),
        ("notifications.outbox_writer", "build_head"),
    ],
    "SQL: request row + history": [
        ("engine.operations.advance", "lock_request"),
        ("engine.operations.advance", "hot_path.record_transition"),
    ],
    "SQL: derived columns (storage/derived)": [("storage.derived", "after_transition")],
    "SQL: timers": [
        ("storage.timers", "for_request"),
        ("storage.timers", "pending_for_request"),
        ("storage.timers", "arm"),
        ("storage.timers", "cancel"),
        ("storage.timers", "cancel_all_but"),
        ("storage.timers", "move"),
        ("engine.timers", "emb_country"),
        ("engine.timers", "skip"),
    ],
    "SQL: outbox rows": [
        ("notifications.outbox_writer", "outbox.insert"),
        ("notifications.outbox_writer", "outbox.insert_many"),
    ],
    "SQL: reads for mail (EMB, links epoch)": [
        ("notifications.outbox_writer", "embs.by_code"),
        ("notifications.outbox_writer", "requests.links_epoch"),
        ("notifications.outbox_writer", "hot_path.emb_and_epoch"),
    ],
}


class Breakdown:
    """Exclusive CPU time per phase (this thread's: SQLite works in it; a PostgreSQL server's
    work is another process's, so there SQL shows only the client's share): a stack of the
    phases running, each charged its own time."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.stack: list[list[float]] = []  # [started, children's time]

    def wrap(self, phase: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            frame = [time.thread_time(), 0.0]
            self.stack.append(frame)
            try:
                return func(*args, **kwargs)
            finally:
                self.stack.pop()
                total = time.thread_time() - frame[0]
                self.spent[phase] = self.spent.get(phase, 0.0) + total - frame[1]
                if self.stack:
                    self.stack[-1][1] += total

        return timed

    @contextmanager
    def installed(self, target: Target) -> Iterator[None]:
        undo: list[tuple[Any, str, Any]] = []
        for phase, places in PHASES.items():
            for module_name, path in places:
                *parents, attr = path.split(".")
                try:
                    owner: Any = importlib.import_module(module_name)
                    for part in parents:
                        owner = getattr(owner, part)
                    original = owner.__dict__[attr] if isinstance(owner, type) else None
                    func = getattr(owner, attr)
                except (ImportError, AttributeError, KeyError):
                    continue  # not in this version of the code
                undo.append((owner, attr, original if original is not None else func))
                setattr(owner, attr, self.wrap(phase, func))
        dialect = target.runtime.db.engine.dialect
        commit = dialect.do_commit
        dialect.do_commit = self.wrap("SQL: commit", commit)  # type: ignore[method-assign]
        try:
            yield
        finally:
            del dialect.do_commit
            for owner, attr, original in reversed(undo):
                setattr(owner, attr, original)

    def total_advance(self, engine: Engine) -> Callable[..., Any]:
        return self.wrap("engine, other", engine.advance)


def breakdown(target: Target, lifecycles: int, engine: Engine) -> dict[str, float]:
    """µs per transition per phase on a full path (a pass of its own, not timed)."""
    made = target.prepare_full(lifecycles)
    probe = Breakdown()
    with probe.installed(target):
        engine.advance = probe.total_advance(engine)  # type: ignore[method-assign]
        try:
            done = target.run_full(engine, made)
        finally:
            del engine.advance
    return {phase: spent / done * 1e6 for phase, spent in probe.spent.items()}


# ---------------------------------------------------------------- rounds
@dataclass
class Sample:
    transitions: int
    wall: float
    cpu: float

    @property
    def us(self) -> float:
        return self.wall / self.transitions * 1e6


def timed(run: Callable[[], int]) -> Sample:
    start, cpu = time.perf_counter(), time.process_time()
    done = run()
    return Sample(done, time.perf_counter() - start, time.process_time() - cpu)


def measure(target: Target, rounds: int, lifecycles: int, bare: int) -> dict[str, Any]:
    samples: dict[str, list[Sample]] = {"bare": [], "full, mail off": [], "full, mail on": []}
    # a warm-up: templates compiled, machines built, caches filled, like a running server
    # (each programme's mail for every EMB, in its languages: templates are compiled once
    # per language)
    target.run_full(target.mail_on, target.prepare_full(len(EMB_LANGUAGES)))
    target.run_full(target.runtime.engine, target.prepare_full(1))
    target.run_bare(target.prepare_bare(10))
    outbox_before = target.row_counts()["outbox"]
    for _ in range(rounds):
        ids = target.prepare_bare(bare)
        samples["bare"].append(timed(functools.partial(target.run_bare, ids)))
        made = target.prepare_full(lifecycles)
        samples["full, mail off"].append(
            timed(functools.partial(target.run_full, target.runtime.engine, made))
        )
        made = target.prepare_full(lifecycles)
        samples["full, mail on"].append(
            timed(functools.partial(target.run_full, target.mail_on, made))
        )
    mails = target.row_counts()["outbox"] - outbox_before
    mail_transitions = sum(s.transitions for s in samples["full, mail on"])
    bare_us = statistics.median(s.us for s in samples["bare"])
    ratios = {
        name: statistics.median(s.us / b.us for s, b in zip(runs, samples["bare"], strict=True))
        for name, runs in samples.items()
    }
    cpu_ratios = {
        name: statistics.median(
            (s.cpu / s.transitions) / (b.cpu / b.transitions)
            for s, b in zip(runs, samples["bare"], strict=True)
        )
        for name, runs in samples.items()
    }
    return {
        "paths": {
            name: {
                "transitions_per_s": 1e6 / statistics.median(s.us for s in runs),
                "us_per_transition": statistics.median(s.us for s in runs),
                "cpu_us_per_transition": statistics.median(
                    s.cpu / s.transitions * 1e6 for s in runs
                ),
                "vs_bare": ratios[name],
                "cpu_vs_bare": cpu_ratios[name],
                "transitions_per_round": runs[0].transitions,
            }
            for name, runs in samples.items()
        },
        "bare_us": bare_us,
        "outbox_rows_per_transition": mails / mail_transitions if mail_transitions else 0.0,
    }


# ---------------------------------------------------------------- databases
@contextmanager
def scratch_postgres(url: str) -> Iterator[str]:
    """A database of our own on the server of `url`, dropped afterwards."""
    admin_url = normalise_url(url)
    name = f"cicie_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def run_target(name: str, url: str, home: Path, args: argparse.Namespace) -> dict[str, Any]:
    target = Target(name, url, home)
    target.open()
    try:
        seed_start = time.perf_counter()
        target.seed(args.requests, args.pending_timers)
        seeded = time.perf_counter() - seed_start
        result = measure(target, args.rounds, args.lifecycles, args.bare)
        lifecycles = max(2, args.lifecycles // 2)
        result["breakdown_us"] = {
            "full, mail off": breakdown(target, lifecycles, target.runtime.engine),
            "full, mail on": breakdown(target, lifecycles, target.mail_on),
        }
        result["seed_s"] = seeded
        result["database"] = name
        result["rows"] = target.row_counts()
        return result
    finally:
        target.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--lifecycles", type=int, default=12, help="requests per programme a round")
    ap.add_argument("--bare", type=int, default=150, help="requests of the bare scenario a round")
    ap.add_argument("--database-url", help="a PostgreSQL server (a scratch database is made)")
    ap.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    ap.add_argument("--pending-timers", type=int, default=0)
    ap.add_argument("--requests", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    load_catalogues()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            home = Path(tmp) / "sqlite"
            results.append(run_target("SQLite", f"sqlite:///{home / 'cicie.db'}", home, args))
        if args.database_url:
            with scratch_postgres(args.database_url) as url:
                results.append(run_target("PostgreSQL", url, Path(tmp) / "pg", args))
    if args.json:
        print(json.dumps({"args": vars(args), "results": results}, indent=2))
        return
    print(
        f"# real path  rounds={args.rounds}  lifecycles={args.lifecycles}/programme  "
        f"bare={args.bare} requests  pending timers={args.pending_timers:,}  "
        f"other requests={args.requests:,}  (medians of interleaved rounds)"
    )
    for r in results:
        print(f"\n## {r['database']}  (seeded in {r['seed_s']:.1f} s; rows after: {r['rows']})")
        print("| path | transitions/s | µs/transition | vs bare | CPU µs/tr. | CPU vs bare |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, p in r["paths"].items():
            print(
                f"| {name} | {p['transitions_per_s']:,.0f} | {p['us_per_transition']:,.0f} | "
                f"{p['vs_bare']:.2f}× | {p['cpu_us_per_transition']:,.0f} | "
                f"{p['cpu_vs_bare']:.2f}× |"
            )
        print(f"\noutbox rows per transition (mail on): {r['outbox_rows_per_transition']:.2f}")
        off, on = r["breakdown_us"]["full, mail off"], r["breakdown_us"]["full, mail on"]
        print("\n| phase (CPU, separate instrumented pass) | mail off µs/transition | mail on |")
        print("|---|---:|---:|")
        for phase in sorted(set(off) | set(on), key=lambda p: -on.get(p, 0.0)):
            print(f"| {phase} | {off.get(phase, 0.0):,.0f} | {on.get(phase, 0.0):,.0f} |")
        print(f"| **total** | {sum(off.values()):,.0f} | {sum(on.values()):,.0f} |")


if __name__ == "__main__":
    main()
