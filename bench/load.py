"""Scale-out load test: N web processes and M workers on one PostgreSQL database.

    .venv/bin/python bench/load.py                      # 1+1 then 2+2, 20 s each
    .venv/bin/python bench/load.py --shapes 1x1,2x2,2x1 --duration 30 --concurrency 8

For each shape it creates a fresh database (migrated, workflows registered, a coordinator's
API token, `--requests` internship requests of EMBs with an address), starts a local aiosmtpd
sink (a subprocess of this script), N × `cicie serve --no-worker` and M × `cicie worker`, and
drives a closed-loop mixed workload from one asyncio + httpx process (`--concurrency` loops,
spread over the web processes round-robin, as a load balancer would): per round a request page
(`GET /api/requests/{id}`), every fourth round a list (`GET /api/requests?limit=50`), then a
transition with `If-Match` (`put_on_hold` / `resume`: mail to the EMB queued, intake reminders
cancelled or armed). Each loop owns its requests, so a 409 would be a bug here, not contention.

After the window it waits for the workers to deliver the outbox, stops everything with
SIGTERM, and counts: history rows against request versions (lost or duplicated changes),
confirmed transitions against history rows, outbox rows sent against Message-IDs at the sink
(lost or duplicated mail). Loopback only; bounded in time and count; not part of pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.policy
import json
import os
import random
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get(
    "CICIE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


# ---------------------------------------------------------------- the SMTP sink (subprocess)
def run_sink(port_file: Path, log_file: Path) -> None:
    """aiosmtpd on 127.0.0.1:0; writes its port to `port_file`, one Message-ID per line to
    `log_file` for each message accepted; stops on SIGTERM."""
    from aiosmtpd.smtp import SMTP, Envelope, Session

    parser = BytesParser(policy=email.policy.default)
    out = open(log_file, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 (lives as long as the sink)

    class Handler:
        async def handle_DATA(  # noqa: N802 (aiosmtpd hook)
            self, server: SMTP, session: Session, envelope: Envelope
        ) -> str:
            content = bytes(envelope.original_content or b"")
            out.write(f"{parser.parsebytes(content, headersonly=True)['Message-ID']}\n")
            return "250 OK"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        handler = Handler()
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="sink", loop=loop), "127.0.0.1", 0
        )
        port_file.write_text(str(server.sockets[0].getsockname()[1]))
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        server.close()

    asyncio.run(main())
    out.close()


# ---------------------------------------------------------------- set-up
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def create_database() -> tuple[str, str]:
    from config.catalogues import load_catalogues
    from engine.clock import system_clock
    from engine.registry import WorkflowRegistry
    from storage import migrate
    from storage.db import Database

    name = f"cicie_load_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    migrate.upgrade(db)
    WorkflowRegistry(load_catalogues()).sync(db, system_clock)
    db.dispose()
    return name, url


def drop_database(name: str) -> None:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def seed(url: str, home: Path, count: int) -> tuple[str, list[int]]:
    from argon2 import PasswordHasher

    from config.settings import Settings
    from engine.accounts import Accounts
    from engine.actor import Actor
    from engine.bootstrap import build_runtime
    from notifications.wiring import install_mail

    settings = Settings(home=home, database_url=url, environment="test")
    rt = build_runtime(settings, upgrade=False)
    install_mail(rt)
    try:
        accounts = Accounts(rt.db, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        accounts.add_user("loader", "coordinator", "loader-password-long")
        token = accounts.issue_token("loader", "load test")
        actor = Actor("coordinator", "loader")
        ids = []
        for i in range(count):
            code = f"EMB-{i}"
            rt.engine.add_emb(
                code=code, name=f"Body {i}", country="KE", language="en", email=f"e{i}@example.org"
            )
            ids.append(rt.engine.create("internship", emb_code=code, title=f"r{i}", actor=actor).id)
    finally:
        rt.close()
    return token, ids


@dataclass
class Fleet:
    tmp: Path
    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        home = self.tmp / name
        home.mkdir(parents=True, exist_ok=True)
        with open(home / "stderr.log", "wb") as err, open(home / "stdout.log", "wb") as out:
            proc = subprocess.Popen(
                args, env={**env, "CICIE_HOME": str(home)}, cwd=home, stdout=out, stderr=err
            )
        self.procs.append((name, proc))
        return proc

    def stop(self) -> None:
        for _, proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def cpu_seconds(self) -> dict[str, float]:
        """User+system CPU of each process so far (from /proc)."""
        ticks = os.sysconf("SC_CLK_TCK")
        found = {}
        for name, proc in self.procs:
            try:
                fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
                found[name] = (int(fields[11]) + int(fields[12])) / ticks
            except (OSError, IndexError):
                continue
        return found


# ---------------------------------------------------------------- the load
@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    transport_errors: int = 0
    confirmed: set[tuple[int, int]] = field(default_factory=set)

    def add(self, kind: str, status: int, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds * 1000)
        self.statuses[(kind, status)] += 1


async def drive(
    bases: list[str], token: str, ids: list[int], concurrency: int, duration: float, warmup: float
) -> tuple[Stats, float]:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    clients = [
        httpx.AsyncClient(base_url=b, headers=headers, timeout=30, limits=limits) for b in bases
    ]
    stats = Stats()
    measuring = False
    stop_at = time.monotonic() + warmup + duration

    async def loop(n: int) -> None:
        client = clients[n % len(clients)]
        mine = ids[n::concurrency]
        rng = random.Random(n)
        rounds = 0
        while time.monotonic() < stop_at:
            rid = rng.choice(mine)
            try:
                t = time.perf_counter()
                got = await client.get(f"/api/requests/{rid}")
                if measuring:
                    stats.add("read", got.status_code, time.perf_counter() - t)
                if rounds % 4 == 0:
                    t = time.perf_counter()
                    listed = await client.get("/api/requests", params={"limit": 50})
                    if measuring:
                        stats.add("list", listed.status_code, time.perf_counter() - t)
                rounds += 1
                if got.status_code != 200:
                    continue
                state = got.json()["state"]
                step: dict[str, Any] = (
                    {"trigger": "resume"}
                    if state == "on_hold"
                    else {"trigger": "put_on_hold", "data": {"hold_reason": "load test"}}
                )
                t = time.perf_counter()
                moved = await client.post(
                    f"/api/requests/{rid}/advance",
                    json=step,
                    headers={"If-Match": got.headers["ETag"]},
                )
                if moved.status_code == 200:
                    stats.confirmed.add((rid, moved.json()["version"]))
                if measuring:
                    stats.add("transition", moved.status_code, time.perf_counter() - t)
            except httpx.TransportError:
                stats.transport_errors += 1

    tasks = [asyncio.create_task(loop(n)) for n in range(concurrency)]
    await asyncio.sleep(warmup)
    measuring = True
    started = time.monotonic()
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    for c in clients:
        await c.aclose()
    return stats, elapsed


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


# ---------------------------------------------------------------- one shape
def run_shape(servers: int, workers: int, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    name, url = create_database()
    fleet = Fleet(tmp / f"{servers}x{workers}")
    sink_dir = tmp / f"sink-{servers}x{workers}"
    sink_dir.mkdir(parents=True)
    port_file, sink_log = sink_dir / "port", sink_dir / "received"
    try:
        token, ids = seed(url, sink_dir / "seed", args.requests)
        fleet.start(
            "sink",
            [sys.executable, __file__, "--sink", str(port_file), str(sink_log)],
            dict(os.environ),
        )
        deadline = time.monotonic() + 20
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline:
                raise RuntimeError("the SMTP sink did not start")
            time.sleep(0.05)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CICIE_")}
        env.update(
            CICIE_DATABASE_URL=url,
            CICIE_ENVIRONMENT="test",
            CICIE_SECRET_KEY=secrets.token_urlsafe(48),  # shared by every instance
            CICIE_LOG_FORMAT="json",
            CICIE_LOG_LEVEL="WARNING",
            CICIE_SMTP_HOST="127.0.0.1",
            CICIE_SMTP_PORT=port_file.read_text(),
            CICIE_DISPATCH_INTERVAL="1",
            CICIE_SWEEP_INTERVAL="5",
        )
        cicie = [sys.executable, "-m", "cli.main"]
        bases = []
        for i in range(servers):
            port = free_port()
            fleet.start(f"serve-{i}", [*cicie, "serve", "--no-worker", "--port", str(port)], env)
            bases.append(f"http://127.0.0.1:{port}")
        for i in range(workers):
            fleet.start(f"worker-{i}", [*cicie, "worker"], env)
        for base in bases:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{base} never became ready")
                time.sleep(0.1)
        time.sleep(1)  # let the workers' start-up passes settle
        cpu_before = fleet.cpu_seconds()
        gen_before = resource.getrusage(resource.RUSAGE_SELF)
        stats, elapsed = asyncio.run(
            drive(bases, token, ids, args.concurrency, args.duration, args.warmup)
        )
        gen_after = resource.getrusage(resource.RUSAGE_SELF)
        cpu_after = fleet.cpu_seconds()
        # let the workers deliver what the window queued
        from storage.db import Database

        db = Database(url)
        deadline = time.monotonic() + 120
        while True:
            with db.read() as conn:
                waiting = conn.execute(
                    sa.text("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')")
                ).scalar_one()
            if waiting == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        fleet.stop()
        with db.read() as conn:
            versions = dict(conn.execute(sa.text("SELECT id, version FROM request")).all())
            history = Counter(
                conn.execute(sa.text("SELECT request_id, version FROM history")).all()
            )
            moved = set(
                conn.execute(
                    sa.text(
                        "SELECT request_id, version FROM history "
                        "WHERE trigger IN ('put_on_hold', 'resume')"
                    )
                ).all()
            )
            outbox = Counter(
                dict(conn.execute(sa.text("SELECT status, count(*) FROM outbox GROUP BY 1")).all())
            )
            queued_ids = set(conn.execute(sa.text("SELECT message_id FROM outbox")).scalars())
        db.dispose()
        received = Counter(sink_log.read_text().split())
        history_rows = sum(history.values())
        gaps = sum(
            1
            for rid, v in versions.items()
            if sorted(hv for (r, hv) in history if r == rid) != list(range(1, v + 1))
        )
        cpu = {k: round(cpu_after.get(k, 0) - cpu_before.get(k, 0), 1) for k in cpu_after}
        cpu["generator"] = round(
            gen_after.ru_utime + gen_after.ru_stime - gen_before.ru_utime - gen_before.ru_stime,
            1,
        )
        trans = stats.latencies.get("transition", [])
        reads = stats.latencies.get("read", []) + stats.latencies.get("list", [])
        ok = stats.statuses[("transition", 200)]
        errors = sum(n for (_kind, status), n in stats.statuses.items() if status >= 500)
        return {
            "shape": f"{servers}+{workers}",
            "seconds": round(elapsed, 1),
            "transitions_per_s": round(ok / elapsed, 1),
            "reads_per_s": round(len(reads) / elapsed, 1),
            "transition_ms": {p: round(pct(trans, p), 1) for p in (50, 95, 99)},
            "read_ms": {p: round(pct(reads, p), 1) for p in (50, 95, 99)},
            "conflicts": stats.statuses[("transition", 409)],
            "errors_5xx": errors,
            "transport_errors": stats.transport_errors,
            "confirmed_missing_from_history": len(stats.confirmed - moved),
            "history_rows": history_rows,
            "history_duplicates": sum(1 for n in history.values() if n > 1),
            "requests_with_history_gaps": gaps,
            "outbox": dict(outbox),
            "mail_lost": len(queued_ids - set(received)),
            "mail_duplicated": sum(1 for m, n in received.items() if n > 1),
            "mail_unqueued": len(set(received) - queued_ids),
            "cpu_seconds": cpu,
            "mean_transition_ms": round(statistics.fmean(trans), 1) if trans else None,
        }
    finally:
        fleet.stop()
        if not args.keep:
            drop_database(name)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--sink":
        run_sink(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--shapes", default="1x1,2x2", help="servers x workers, comma-separated")
    ap.add_argument("--duration", type=float, default=20.0, help="measured seconds per shape")
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--concurrency", type=int, default=8, help="closed-loop clients")
    ap.add_argument("--requests", type=int, default=200, help="requests seeded per shape")
    ap.add_argument("--keep", action="store_true", help="keep the databases")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="cicie-load-") as tmp:
        for shape in args.shapes.split(","):
            servers, workers = (int(x) for x in shape.split("x"))
            result = run_shape(servers, workers, args, Path(tmp))
            results.append(result)
            print(json.dumps(result), file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        "| shape (web+workers) | transitions/s | transition p50 / p95 / p99 ms "
        "| reads/s | read p50 / p95 / p99 ms | 5xx | lost / duplicated changes "
        "| mail lost / duplicated |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        t, rd = r["transition_ms"], r["read_ms"]
        print(
            f"| {r['shape']} | {r['transitions_per_s']} | {t[50]} / {t[95]} / {t[99]} "
            f"| {r['reads_per_s']} | {rd[50]} / {rd[95]} / {rd[99]} "
            f"| {r['errors_5xx'] + r['transport_errors']} "
            f"| {r['confirmed_missing_from_history']} / {r['history_duplicates']} "
            f"| {r['mail_lost']} / {r['mail_duplicated']} |"
        )
    if len(results) >= 2:
        base = results[0]["transitions_per_s"] or 1
        for r in results[1:]:
            print(f"\n{r['shape']} vs {results[0]['shape']}: {r['transitions_per_s'] / base:.2f}x")


if __name__ == "__main__":
    main()
