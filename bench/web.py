"""Benchmark (not a test): the coordinators' pages over a realistically sized database.

    .venv/bin/python bench/web.py [--requests 10000] [--through-engine 1000] [--samples 200]
                                  [--database-url postgresql://…] [--seed 2026] [--keep]

1. Seeds a fresh database (a SQLite file, WAL, synchronous=NORMAL; or, with `--database-url`,
   a new database created on that PostgreSQL server and dropped at the end): `--through-engine`
   requests created and driven by the engine with mail on (real transitions, history, timers,
   outbox rows with their .ics, themes, event dates, delegates) over the five programmes, 40
   organisations in 14 countries (named in Spanish: "Perú", "México"…) and the states along
   each programme's bundled example (some put on hold or declined), their creation spread
   over the past year; then copies of those rows (request, history, timers, and the outbox
   of the first ten copies; another organisation, a numbered title, the n-th round created
   n years earlier and its event dates n years later) up to `--requests`, in
   bulk, with their filter and search values (storage/derived.py) rebuilt in the same
   transaction. Timers already due are marked fired, as a running worker leaves them. On
   PostgreSQL, `VACUUM ANALYZE` then, as autovacuum leaves the tables. Each part is timed on
   its own.
2. Starts `cicie serve --no-worker --port P` as a separate process on that home
   (no --demo), with one coordinator created beforehand.
3. Signs in through /login with httpx (session cookie, CSRF token), warms up, then times
   `--samples` sequential GETs of each page: the dashboard `/`, the dashboard under every
   filter and a few combinations, the search `/requests?q=` (a country without its accent, an
   organisation code, a delegate's surname, a number), and `/requests/{id}` (ids drawn at
   random with a fixed seed), over one keep-alive connection on loopback.

Prints the median, p95 and maximum of each, and the status codes seen ("no answer" for a
connection closed without a response). Asserts nothing.
Goals (issue 16): every dashboard filter and the search p95 < 100 ms, one request's page
median < 30 ms.
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
from notifications.wiring import install_mail  # noqa: E402
from results.countries import name as country_name  # noqa: E402
from storage import derived  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import (  # noqa: E402
    history_table,
    outbox_table,
    request_table,
    timer_table,
)

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
GOAL_P95_MS = 100.0  # dashboard, filters, search
GOAL_REQUEST_MEDIAN_MS = 30.0  # one request's page
OUTBOX_COPIES = 10  # rounds of copies that carry their outbox rows too (~9.6 KiB each)


# ---------------------------------------------------------------- seeding
@dataclass
class Seeded:
    ids: list[int]
    by_engine: int  # requests created and driven through the engine
    transitions: int  # … and their transitions
    engine_seconds: float
    clone_seconds: float
    states: Counter[str]
    rows: dict[str, int]

    @property
    def seconds(self) -> float:
        return self.engine_seconds + self.clone_seconds


def seed(
    home: Path, count: int, through_engine: int, rng: random.Random, database_url: str | None
) -> Seeded:
    """`through_engine` requests through the engine (mail on: the outbox rows are written as
    in production), then copies of them, rows and all (request, history, timers, some of the
    outbox), up to `count`."""
    now = datetime.now(UTC).replace(microsecond=0)
    year_ago = now - timedelta(days=365)
    clock = ManualClock(year_ago)
    settings = Settings(home=home, environment="test", database_url=database_url)
    rt = build_runtime(settings, clock=clock)
    install_mail(rt)
    engine = rt.engine
    started = time.perf_counter()
    codes = []
    for n in range(EMBS):
        code = f"EMB-{n + 1:02d}"
        country = COUNTRIES[n % len(COUNTRIES)]
        engine.add_emb(
            code=code,
            name=f"Organismo electoral {n + 1} de {country_name(country, 'es')}",
            country=country,
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
    _sweep_past(rt.db, now)
    if rt.db.is_postgres:
        # what autovacuum does in time after a bulk insert (PostgreSQL 13+ vacuums tables that
        # only grow): statistics for the planner, and the visibility map, without which a
        # count over an index reads the table too (the dashboard's counts: 57 ms, not 7)
        with rt.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
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
        rows = {
            table.name: int(
                conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            )
            for table in (request_table, history_table, timer_table, outbox_table)
        }
        rows["pending timers"] = int(
            conn.execute(
                sa.select(sa.func.count()).where(timer_table.c.status == "pending")
            ).scalar_one()
        )
    rt.close()
    return Seeded(ids, templates, transitions, engine_seconds, clone_seconds, states, rows)


def _clone(db: Database, templates: int, count: int) -> None:
    """Copies of requests 1..templates (with their history and timers) with new ids, another
    EMB and a numbered title, in one transaction per round, until there are `count`."""
    r, h, t, o = request_table, history_table, timer_table, outbox_table
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
        outbox_span = int(
            conn.execute(sa.select(sa.func.coalesce(sa.func.max(o.c.id), 0))).scalar_one()
        )

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
                    "data": _shifted_dates(conn, round_),
                    "created_at": _years_earlier(conn, round_),
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
            if round_ < OUTBOX_COPIES:
                copy(
                    conn,
                    o,
                    o.c.request_id <= left,
                    {
                        "id": o.c.id + round_ * outbox_span,
                        "request_id": o.c.request_id + round_ * templates,
                        "history_id": o.c.history_id + round_ * history_span,
                        "key": o.c.key + f"#{round_}",
                        "message_id": o.c.message_id + f".{round_}",
                    },
                )
            # the copies' filter and search values, in the same transaction, as a bulk
            # import writes them (storage.requests.insert_many)
            low = round_ * templates + 1
            derived.rebuild_requests(conn, range(low, low + left))
    if db.is_postgres:  # the copies carry their own ids: move the sequences past them
        with db.transaction() as conn:
            for table in (r, h, t, o):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
                    )
                )


def _shifted_dates(conn: sa.Connection, years: int) -> Any:
    """The copied request's data with its event dates `years` later, so that copies spread
    over the years as real requests do (a rule such as "two courses a year" then sees the
    courses of one year, not every copy of the examples' 2016 events)."""
    if conn.dialect.name == "sqlite":

        def moved(path: str, data: str) -> str:
            value = f"json_extract({data}, '{path}')"
            return (
                f"CASE WHEN {value} IS NULL THEN {data} ELSE json_set({data}, '{path}', "
                f"printf('%04d', CAST(substr({value}, 1, 4) AS INTEGER) + {years}) "
                f"|| substr({value}, 5)) END"
            )

        return sa.literal_column(moved("$.event_end", moved("$.event_start", "request.data")))

    def moved_pg(key: str, data: str) -> str:
        value = f"({data}) ->> '{key}'"
        return (
            f"CASE WHEN {value} IS NULL THEN ({data}) ELSE jsonb_set({data}, '{{{key}}}', "
            f"to_jsonb(lpad((CAST(substr({value}, 1, 4) AS INTEGER) + {years})::text, 4, '0') "
            f"|| substr({value}, 5))) END"
        )

    return sa.literal_column(moved_pg("event_end", moved_pg("event_start", "request.data")))


def _years_earlier(conn: sa.Connection, years: int) -> Any:
    """The copy's creation `years` earlier: 100,000 requests are decades of a centre's work,
    and a rule or a filter about "this year" sees one year's requests, not every copy."""
    if conn.dialect.name == "sqlite":
        return sa.literal_column(
            f"strftime('%Y-%m-%d %H:%M:%f000', request.created_at, '-{years} years')"
        )
    return sa.literal_column(f"request.created_at - interval '{years} years'")


def _sweep_past(db: Database, now: datetime) -> None:
    """Timers due before now marked fired, as the worker that runs beside the server leaves
    them (the seed's clock went through the past year without a sweep)."""
    t = timer_table
    with db.transaction() as conn:
        conn.execute(
            t.update()
            .where(t.c.status == "pending", t.c.due_at < now)
            .values(status="fired", fired_at=t.c.due_at)
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


def start_server(
    home: Path, port: int, log: Path, database_url: str | None = None
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CICIE_")}
    env.update(
        CICIE_HOME=str(home),
        CICIE_LOG_LEVEL="WARNING",
        CICIE_ENVIRONMENT="development",
    )
    if database_url:
        env["CICIE_DATABASE_URL"] = database_url
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
    if response.status_code != 303 or "/login" in response.headers.get("location", ""):
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


def pages_to_time(seeded: Seeded, rng: random.Random, samples: int) -> list[tuple[str, list[str]]]:
    """(name, paths) of every page timed: the dashboard, each filter, combinations, searches
    and one request's page."""
    some = seeded.ids[len(seeded.ids) // 3]
    filters = [
        ("dashboard `/`", "/"),
        ("filter: theme", "/?theme=electoral_cycle.voter_registry"),
        ("filter: event year 2016", "/?year=2016"),
        ("filter: year 2026 (creation)", "/?year=2026"),
        ("filter: state", "/?state=logistics"),
        ("filter: programme", "/?programme=internship"),
        ("filter: EMB", "/?emb=EMB-07"),
        ("filter: region", "/?region=America"),
        ("filter: kind", "/?kind=emb"),
        ("theme + year", "/?theme=electoral_cycle.voter_registry&year=2016"),
        ("programme + state + region", "/?programme=internship&state=logistics&region=America"),
        ("theme + EMB", "/?theme=strengthening.civic_education&emb=EMB-03"),
        ("year + kind + programme", "/?year=2026&kind=emb&programme=seminar"),
        ("page 20 of the list", "/?page=20"),
        ("search: peru", "/requests?q=peru"),
        ("search: EMB-07", "/requests?q=EMB-07"),
        ("search: delegate méndez", "/requests?q=mendez"),
        (f"search: number {some}", f"/requests?q=%23{some}"),
        ("search: peru + programme", "/requests?q=peru&programme=seminar"),
    ]
    timed_pages = [(name, [path] * samples) for name, path in filters]
    request_paths = [f"/requests/{rng.choice(seeded.ids)}" for _ in range(samples)]
    timed_pages.append(("request `/requests/{id}`", request_paths))
    return timed_pages


def _postgres_database(url: str) -> tuple[str, Any]:
    """A new database on the server of `url` (dropped by the returned function)."""
    name = f"cicie_bench_web_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    made = sa.make_url(url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return made, drop


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
    ap.add_argument(
        "--database-url",
        help="a PostgreSQL server (any database on it): a new database is made there",
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary CICIE_HOME")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    home = Path(tempfile.mkdtemp(prefix="cicie-bench-web-"))
    database_url, drop = (None, None)
    if args.database_url:
        database_url, drop = _postgres_database(args.database_url)
    try:
        where = "PostgreSQL" if database_url else "SQLite"
        print(
            f"# web benchmark  {where}  requests={args.requests}  samples={args.samples}  "
            f"home={home}"
        )
        seeded = seed(home, args.requests, args.through_engine, rng, database_url)
        print(
            f"seeded {len(seeded.ids):,} requests in {seeded.seconds:.1f} s: "
            f"{seeded.by_engine:,} through the engine ({seeded.transitions:,} transitions, mail "
            f"on) in {seeded.engine_seconds:.1f} s, {len(seeded.ids) - seeded.by_engine:,} "
            f"copied in {seeded.clone_seconds:.1f} s"
        )
        print("states: " + ", ".join(f"{s} {n}" for s, n in sorted(seeded.states.items())))
        print("rows: " + ", ".join(f"{k} {v:,}" for k, v in seeded.rows.items()))
        port = free_port()
        server = start_server(home, port, home / "serve.log", database_url)
        results: list[Timing] = []
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                sign_in(client)
                plan = pages_to_time(seeded, rng, args.samples)
                warm = [p for _, paths in plan for p in paths[: args.warmup]]
                timed(client, "warm-up", warm)
                for name, paths in plan:
                    results.append(timed(client, name, paths))
        finally:
            stop_server(server)
        print()
        print("| page | GETs | status | median | p95 | max | median size |")
        print("|---|---:|---|---:|---:|---:|---:|")
        for t in results:
            codes = ", ".join(
                f"{code or 'no answer'}×{n}" for code, n in sorted(t.statuses.items())
            )
            print(
                f"| {t.page} | {len(t.millis)} | {codes} | {t.median:.1f} ms | {t.p95:.1f} ms | "
                f"{t.max:.1f} ms | {statistics.median(t.sizes) / 1024:.1f} KiB |"
            )
        print()
        print(
            f"goals: p95 < {GOAL_P95_MS:.0f} ms (dashboard, filters, search), "
            f"median < {GOAL_REQUEST_MEDIAN_MS:.0f} ms (a request's page)"
        )
        for t in results:
            if set(t.statuses) != {200}:
                print(f"  {t.page}: not comparable (not every answer was a 200)")
                continue
            if t.page.startswith("request"):
                met = t.median < GOAL_REQUEST_MEDIAN_MS
            else:
                met = t.p95 < GOAL_P95_MS
            print(f"  {t.page}: {'met' if met else 'NOT met'}")
    finally:
        if args.keep:
            print(f"kept {home}" + (f" and {database_url}" if database_url else ""))
        else:
            shutil.rmtree(home, ignore_errors=True)
            if drop is not None:
                drop()


if __name__ == "__main__":
    main()
