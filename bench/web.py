"""Benchmark (not a test): the coordinators' pages over a database of 10,000 requests.

    .venv/bin/python bench/web.py [--requests 10000] [--through-engine 1000] [--samples 200]
                                  [--seed 2026] [--keep]

1. Seeds a fresh SQLite file (WAL, synchronous=NORMAL): `--through-engine` requests created
   and driven by the engine (real transitions, history, timers) over the five programmes, 40
   EMBs and the states along each programme's bundled example (some put on hold or declined),
   their creation spread over the past year; then copies of those rows (request, history,
   timers; another EMB, a numbered title) up to `--requests`. Each part is timed on its own.
2. Starts `cicie serve --no-worker --port P` as a separate process on that home
   (no --demo), with one coordinator created beforehand.
3. Signs in through /login with httpx (session cookie, CSRF token), warms up, then times
   `--samples` sequential GETs of the dashboard `/` and as many of `/requests/{id}` (ids drawn
   at random with a fixed seed), over one keep-alive connection on loopback.

Prints the median, p95 and maximum of each, and the status codes seen ("no answer" for a
connection closed without a response). Asserts nothing.
Goals: median < 100 ms, p95 < 250 ms.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.settings import Settings  # noqa: E402
from engine.accounts import Accounts  # noqa: E402
from engine.actor import Actor  # noqa: E402
from engine.bootstrap import build_runtime  # noqa: E402
from engine.clock import ManualClock  # noqa: E402
from engine.demo import SIDE_STEPS, example_steps  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import history_table, request_table, timer_table  # noqa: E402

PROGRAMMES = (
    "international_workshop",
    "internship",
    "specialization_course",
    "seminar",
    "technical_assistance",
)
COUNTRIES = ("HN", "PE", "CR", "DE", "LS", "IN", "MZ", "KE", "CM", "GT", "BO", "EC", "PY", "SV")
LANGUAGES = ("es", "en", "fr")
EMBS = 40
USERNAME = "bench"
PASSWORD = "bench-password-long"
GOAL_MEDIAN_MS = 100.0
GOAL_P95_MS = 250.0


# ---------------------------------------------------------------- seeding
@dataclass
class Seeded:
    ids: list[int]
    by_engine: int  # requests created and driven through the engine
    transitions: int  # … and their transitions
    engine_seconds: float
    clone_seconds: float
    states: Counter[str]

    @property
    def seconds(self) -> float:
        return self.engine_seconds + self.clone_seconds


def seed(home: Path, count: int, through_engine: int, rng: random.Random) -> Seeded:
    """`through_engine` requests through the engine (no mail listener: the outbox is not
    measured), then copies of them, rows and all (request, history, timers), up to `count`."""
    now = datetime.now(UTC).replace(microsecond=0)
    year_ago = now - timedelta(days=365)
    clock = ManualClock(year_ago)
    settings = Settings(home=home, environment="test")
    rt = build_runtime(settings, clock=clock)
    engine = rt.engine
    started = time.perf_counter()
    codes = []
    for n in range(EMBS):
        code = f"EMB-{n + 1:02d}"
        engine.add_emb(
            code=code,
            name=f"Electoral body {n + 1}",
            country=COUNTRIES[n % len(COUNTRIES)],
            language=LANGUAGES[n % len(LANGUAGES)],
            email=f"emb{n + 1}@example.org",
        )
        codes.append(code)
    steps = {p: example_steps(p) for p in PROGRAMMES}
    coordinator = Actor("coordinator", "ana")
    templates = min(count, through_engine)
    spacing = timedelta(days=365) / max(templates, 1)
    transitions = 0
    for n in range(templates):
        clock.set(year_ago + n * spacing)
        programme = PROGRAMMES[n % len(PROGRAMMES)]
        view = engine.create(
            programme,
            emb_code=rng.choice(codes),
            title=f"{programme.replace('_', ' ').capitalize()} for an electoral body, no. {n + 1}",
            actor=coordinator,
        )
        roll = rng.random()
        if roll < 0.08:  # a side step from intake
            trigger, data = SIDE_STEPS["on_hold" if roll < 0.04 else "declined"]
            engine.advance(view.id, trigger, coordinator, data=data)
            transitions += 1
            continue
        path = steps[programme]  # somewhere along the example, from intake to closed
        for step in path[: rng.randint(0, len(path))]:
            clock.advance(timedelta(minutes=5))
            engine.advance(
                view.id, step["trigger"], Actor.parse(step["as"]), data=step.get("data") or {}
            )
            transitions += 1
    engine_seconds = time.perf_counter() - started
    started = time.perf_counter()
    _clone(rt.db, templates, count)
    clone_seconds = time.perf_counter() - started
    Accounts(rt.db, clock).add_user(USERNAME, "coordinator", PASSWORD, language="en")
    with rt.db.read() as conn:
        r = request_table
        ids = [int(i) for i in conn.execute(sa.select(r.c.id).order_by(r.c.id)).scalars()]
        states = Counter(
            {
                str(k): int(v)
                for k, v in conn.execute(sa.select(r.c.state, sa.func.count()).group_by(r.c.state))
            }
        )
    rt.close()
    return Seeded(ids, templates, transitions, engine_seconds, clone_seconds, states)


def _clone(db: Database, templates: int, count: int) -> None:
    """Copies of requests 1..templates (with their history and timers) with new ids, another
    EMB and a numbered title, in one transaction per round, until there are `count`."""
    r, h, t = request_table, history_table, timer_table
    with db.read() as conn:
        first, last = conn.execute(sa.select(sa.func.min(r.c.id), sa.func.max(r.c.id))).one()
        if (first, last) != (1, templates):
            raise SystemExit(
                f"expected requests 1..{templates} on a fresh file, not {first}..{last}"
            )
        history_span = int(conn.execute(sa.select(sa.func.max(h.c.id))).scalar_one())
        timer_span = int(
            conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.c.id), 0))).scalar_one()
        )
        embs = int(conn.execute(sa.select(sa.func.max(r.c.emb_id))).scalar_one())

    def copy(conn: sa.Connection, table: sa.Table, where: Any, overrides: dict[str, Any]) -> None:
        names = [c.name for c in table.columns]
        select = sa.select(*[overrides.get(n, table.c[n]) for n in names]).where(where)
        conn.execute(table.insert().from_select(names, select))

    for round_ in range(1, math.ceil(count / templates)):
        left = min(templates, count - round_ * templates)  # templates copied this round
        with db.transaction() as conn:
            copy(
                conn,
                r,
                r.c.id <= left,
                {
                    "id": r.c.id + round_ * templates,
                    "emb_id": (r.c.emb_id - 1 + round_) % embs + 1,
                    "title": r.c.title + f" ({round_ + 1})",
                },
            )
            copy(
                conn,
                h,
                h.c.request_id <= left,
                {
                    "id": h.c.id + round_ * history_span,
                    "request_id": h.c.request_id + round_ * templates,
                },
            )
            copy(
                conn,
                t,
                t.c.request_id <= left,
                {
                    "id": t.c.id + round_ * timer_span,
                    "request_id": t.c.request_id + round_ * templates,
                    "key": t.c.key + f"#{round_}",
                },
            )


# ---------------------------------------------------------------- the server
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cicie_command() -> str:
    beside = Path(sys.executable).parent / "cicie"
    found = str(beside) if beside.exists() else shutil.which("cicie")
    if not found:
        raise SystemExit("the `cicie` command is not installed (make install)")
    return found


def start_server(home: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CICIE_")}
    env.update(
        CICIE_HOME=str(home),
        CICIE_LOG_LEVEL="WARNING",
        CICIE_ENVIRONMENT="development",
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [cicie_command(), "serve", "--no-worker", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=home,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"`cicie serve` exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"`cicie serve` did not answer within 60 s:\n{log.read_text()}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def sign_in(client: httpx.Client) -> None:
    form = client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if form.status_code != 200 or not found:
        raise SystemExit(f"no sign-in form at /login ({form.status_code})")
    response = client.post(
        "/login",
        data={
            "username": USERNAME,
            "password": PASSWORD,
            "csrf_token": found.group(1),
            "next": "/",
        },
        follow_redirects=False,
    )
    if response.status_code != 303 or response.headers.get("location") != "/":
        raise SystemExit(f"sign-in failed: {response.status_code} {response.text[:200]}")


# ---------------------------------------------------------------- timing
@dataclass
class Timing:
    page: str
    millis: list[float]
    statuses: Counter[int]
    sizes: list[int]

    @property
    def median(self) -> float:
        return statistics.median(self.millis)

    @property
    def p95(self) -> float:  # nearest rank
        ordered = sorted(self.millis)
        return ordered[math.ceil(0.95 * len(ordered)) - 1]

    @property
    def max(self) -> float:
        return max(self.millis)


def timed(client: httpx.Client, page: str, paths: list[str]) -> Timing:
    millis: list[float] = []
    statuses: Counter[int] = Counter()
    sizes: list[int] = []
    for path in paths:
        start = time.perf_counter()
        try:
            response = client.get(path)
        except httpx.TransportError:  # e.g. the connection reset by a failing page
            millis.append((time.perf_counter() - start) * 1000)
            statuses[0] += 1
            sizes.append(0)
            continue
        millis.append((time.perf_counter() - start) * 1000)
        statuses[response.status_code] += 1
        sizes.append(len(response.content))
    return Timing(page, millis, statuses, sizes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument(
        "--through-engine",
        type=int,
        default=1_000,
        help="how many requests the engine creates and drives; the rest are copies of them",
    )
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--keep", action="store_true", help="keep the temporary CICIE_HOME")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    home = Path(tempfile.mkdtemp(prefix="cicie-bench-web-"))
    try:
        print(f"# web benchmark  requests={args.requests}  samples={args.samples}  home={home}")
        seeded = seed(home, args.requests, args.through_engine, rng)
        print(
            f"seeded {len(seeded.ids):,} requests in {seeded.seconds:.1f} s: "
            f"{seeded.by_engine:,} through the engine ({seeded.transitions:,} transitions) in "
            f"{seeded.engine_seconds:.1f} s, {len(seeded.ids) - seeded.by_engine:,} copied in "
            f"{seeded.clone_seconds:.1f} s"
        )
        print("states: " + ", ".join(f"{s} {n}" for s, n in sorted(seeded.states.items())))
        port = free_port()
        server = start_server(home, port, home / "serve.log")
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                sign_in(client)
                ids = seeded.ids
                warm = ["/"] * args.warmup + [
                    f"/requests/{rng.choice(ids)}" for _ in range(args.warmup)
                ]
                timed(client, "warm-up", warm)
                dashboard = timed(client, "dashboard `/`", ["/"] * args.samples)
                request_paths = [f"/requests/{rng.choice(ids)}" for _ in range(args.samples)]
                request_page = timed(client, "request `/requests/{id}`", request_paths)
        finally:
            stop_server(server)
        print()
        print("| page | GETs | status | median | p95 | max | median size |")
        print("|---|---:|---|---:|---:|---:|---:|")
        for t in (dashboard, request_page):
            codes = ", ".join(
                f"{code or 'no answer'}×{n}" for code, n in sorted(t.statuses.items())
            )
            print(
                f"| {t.page} | {len(t.millis)} | {codes} | {t.median:.1f} ms | {t.p95:.1f} ms | "
                f"{t.max:.1f} ms | {statistics.median(t.sizes) / 1024:.1f} KiB |"
            )
        print()
        print(f"goals: median < {GOAL_MEDIAN_MS:.0f} ms, p95 < {GOAL_P95_MS:.0f} ms")
        for t in (dashboard, request_page):
            if set(t.statuses) != {200}:
                print(f"  {t.page}: not comparable (not every answer was a 200)")
                continue
            met = t.median < GOAL_MEDIAN_MS and t.p95 < GOAL_P95_MS
            print(f"  {t.page}: {'met' if met else 'NOT met'}")
    finally:
        if args.keep:
            print(f"kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
