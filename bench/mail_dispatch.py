"""Benchmark (not a test): what the dispatcher's bookkeeping costs next to raw SMTP sending.

One run, loopback only, bounded in count and time:

1. starts an aiosmtpd sink (accepts and discards, counts) in a separate process on
   127.0.0.1, so the sink does not share this process's event loop or GIL;
2. pre-renders N messages (default 2,000) as partners get them — the workshop's confirmed
   logistics from the real templates with its .ics invitation, ~9.6 KiB each — each with its
   own Message-ID; the outbox gets them as a transition stores them (since migration 0015:
   one rendering for every two recipients, each one's subject, name and link), so the
   dispatcher writes each message's MIME and invitation as it does for real;
3. measures, over 1 and over 4 reused connections,
   (a) raw aiosmtplib `sendmail` of those bytes, and
   (b) the Dispatcher draining the same N messages from a SQLite outbox (and PostgreSQL with
       `--pg URL`: a throwaway database is created on that server and dropped after),
       claims, leases, sends and bookkeeping included;
4. prints a markdown table of msg/s and dispatcher/raw (target: ≥ 80 %).

    .venv/bin/python bench/mail_dispatch.py [-n 2000] [--repeat 5] [--pg URL] [--relay-delay S]

`--relay-delay` makes the sink wait that long before accepting each message, as a relay across
a network does (the loopback sink answers at once, which makes the bookkeeping weigh most).

Raw and dispatcher runs are interleaved (`--repeat` rounds, alternating order); the table
gives medians, and the ratio is the median of the per-round ratios. The sink's count is
checked after every run.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import multiprocessing.sharedctypes
import os
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiosmtplib  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from engine.clock import system_clock  # noqa: E402
from notifications.dispatcher import Dispatcher  # noqa: E402
from notifications.outbox_writer import preview_context  # noqa: E402
from notifications.preview import _sample_request  # noqa: E402
from notifications.recipient import Recipient  # noqa: E402
from notifications.render import (  # noqa: E402
    Attachment,
    MailRenderer,
    Rendered,
    Stored,
    build_message,
)
from notifications.smtp import SmtpConfig  # noqa: E402
from notifications.stored import invitation_fields, write_invitation  # noqa: E402
from storage import migrate, outbox  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import outbox_content_table  # noqa: E402
from workflows.loader import WORKFLOW_DIR, load_file  # noqa: E402

HOST = "127.0.0.1"
SENDER = "cicie@bench.test"
RECIPIENT = "partner@example.org"
MAX_MESSAGES = 20_000
LOCAL_HOSTNAME = "bench.test"


# ---------------------------------------------------------------- the sink (its own process)
def _sink(port_out: Any, count: Any, delay: float) -> None:
    from aiosmtpd.smtp import SMTP

    class Discard:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            count.value += 1
            if delay:
                await asyncio.sleep(delay)
            return "250 OK"

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        handler = Discard()
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="sink", loop=loop), HOST, 0
        )
        port_out.send(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(serve())


class Sink:
    def __init__(self, delay: float = 0.0) -> None:
        ctx = mp.get_context("spawn")
        self.count: multiprocessing.sharedctypes.Synchronized[int] = ctx.Value("q", 0)
        parent, child = ctx.Pipe()
        self.process = ctx.Process(target=_sink, args=(child, self.count, delay), daemon=True)
        self.process.start()
        if not parent.poll(30):
            raise RuntimeError("the SMTP sink did not start")
        self.port = int(parent.recv())

    def received(self) -> int:
        return int(self.count.value)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


# ---------------------------------------------------------------- messages
@dataclass(frozen=True)
class Real:
    """The message as raw sending gets it (rendered, its invitation) and as the outbox keeps
    it (the rendering with marks, the invitation's fields, the link)."""

    rendered: Rendered
    ics: bytes
    stored: Stored
    invitation: dict[str, Any]
    link: str


def _real_parts() -> Real:
    """A message as partners get them: the workshop's confirmed logistics (real templates, in
    Spanish, to a founder) with its .ics invitation — about 9.6 KiB once encoded."""
    definition = load_file(WORKFLOW_DIR / "international_workshop.yaml")
    view, emb = _sample_request("international_workshop", "ready", "Ready")
    recipient = Recipient("founders", "Instituto Nacional Electoral", RECIPIENT, "es")
    renderer = MailRenderer()
    context = preview_context(view, definition, emb, recipient, "https://cicie.example.org", "es")
    rendered = renderer.render("logistics_confirmed", recipient, context, language="es")
    start, end = view.data["event_start"], view.data["event_end"]
    fields = invitation_fields(
        uid="cicie-request-0@bench.test",
        sequence=view.version,
        title=f"{definition.title.get('es')}: {view.title}",
        start=date.fromisoformat(start),
        end=date.fromisoformat(end),
        location=str(view.data.get("venue") or "") or None,
        organizer=f"CICIE <{SENDER}>",
    )
    ics = write_invitation(
        fields,
        attendee=f"{recipient.name} <{RECIPIENT}>",
        link=str(context["link"]),
        now=datetime(2016, 5, 2, 16, 0, tzinfo=UTC),
    )
    stored = renderer.render_stored(
        "logistics_confirmed", recipient, context, language="es", shared={}
    )
    return Real(rendered, ics, stored, fields, str(context["link"]))


def render(n: int, real: Real) -> tuple[str, bytes]:
    """Message `n`: the real message with its own Message-ID, as the dispatcher sends it."""
    rendered, ics = real.rendered, real.ics
    message_id = f"<{uuid.uuid4().hex}@bench.test>"
    recipient = Recipient("founders", f"Instituto Nacional Electoral {n}", RECIPIENT, "es")
    body = build_message(
        rendered=rendered,
        sender=f"CICIE <{SENDER}>",
        recipient=recipient,
        message_id=message_id,
        date=datetime(2016, 5, 2, 16, 0, tzinfo=UTC),
        attachments=[Attachment.invitation(ics)],
    )
    return message_id, body


# ---------------------------------------------------------------- (a) raw aiosmtplib
async def raw_send(port: int, bodies: list[bytes], connections: int) -> None:
    clients = [
        aiosmtplib.SMTP(
            hostname=HOST, port=port, local_hostname=LOCAL_HOSTNAME, start_tls=False, timeout=30
        )
        for _ in range(connections)
    ]
    pending = iter(bodies)

    async def work(client: aiosmtplib.SMTP) -> None:
        await client.connect()
        for body in pending:
            await client.sendmail(SENDER, [RECIPIENT], body)
        await client.quit()

    await asyncio.gather(*(work(c) for c in clients))


# ---------------------------------------------------------------- (b) the dispatcher
def refill(db: Database, messages: list[tuple[str, bytes]], real: Real) -> None:
    """The messages as transitions store them: a rendering for every two recipients."""
    stored = real.stored
    contents = [
        outbox.NewContent(
            f"CICIE <{SENDER}>",
            stored.text,
            stored.html,
            stored.name_mark,
            stored.link_mark,
            real.invitation,
        )
        for _ in range((len(messages) + 1) // 2)
    ]
    rows = [
        outbox.NewMessage(
            key=f"bench:{n}",
            request_id=None,
            history_id=None,
            template="bench",
            language="es",
            to_addr=RECIPIENT,
            to_name=f"Instituto Nacional Electoral {n}",
            subject=stored.subject,
            message_id=message_id,
            content=n // 2,
            link=real.link,
        )
        for n, (message_id, _body) in enumerate(messages)
    ]
    with db.transaction() as conn:
        conn.execute(sa.delete(outbox.outbox_table))
        conn.execute(sa.delete(outbox_content_table))
        outbox.insert_many(conn, rows, system_clock(), contents)


async def drain(db: Database, port: int, connections: int, expected: int) -> None:
    config = SmtpConfig(
        host=HOST, port=port, timeout=30, local_hostname=LOCAL_HOSTNAME, sender=SENDER
    )
    dispatcher = Dispatcher(
        db,
        config,
        clock=system_clock,
        worker=f"bench-{uuid.uuid4().hex[:8]}",
        connections=connections,
        max_attempts=8,
        lease_seconds=120,
    )
    async with dispatcher:
        report = await dispatcher.run_once()
    if report.sent != expected:
        raise RuntimeError(f"the dispatcher sent {report.sent} of {expected}: {report}")


# ---------------------------------------------------------------- measuring
class Budget:
    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise SystemExit("benchmark time budget exceeded (raise --max-seconds)")


def timed(
    sink: Sink,
    expected: int,
    run: Callable[[], Coroutine[Any, Any, None]],
    prepare: Callable[[], None] | None = None,
) -> float:
    """msg/s of one run; the sink must have received exactly `expected` messages."""
    if prepare is not None:
        prepare()
    before = sink.received()
    start = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - start
    got = sink.received() - before
    if got != expected:
        raise RuntimeError(f"the sink received {got} messages, expected {expected}")
    return expected / elapsed


def postgres_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    name = f"cicie_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--messages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg", metavar="URL", help="PostgreSQL server URL (admin rights)")
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--relay-delay", type=float, default=0.0, metavar="S")
    args = parser.parse_args()
    n = min(max(args.messages, 1), MAX_MESSAGES)
    repeat = min(max(args.repeat, 1), 10)
    budget = Budget(args.max_seconds)

    parts = _real_parts()
    messages = [render(i, parts) for i in range(n)]
    bodies = [body for _, body in messages]
    delay = min(max(args.relay_delay, 0.0), 1.0)
    sink = Sink(delay)
    tmp = tempfile.TemporaryDirectory()
    databases: dict[str, Database] = {}
    cleanups: list[Callable[[], None]] = []
    try:
        sqlite_db = Database(f"sqlite:///{Path(tmp.name) / 'bench.db'}")
        migrate.upgrade(sqlite_db)
        databases["SQLite"] = sqlite_db
        if args.pg:
            url, drop = postgres_database(args.pg)
            cleanups.append(drop)
            pg_db = Database(url)
            migrate.upgrade(pg_db)
            databases["PostgreSQL"] = pg_db

        # warm-up: the sink, the connections, SQLAlchemy's statement caches
        asyncio.run(raw_send(sink.port, bodies[:100], 1))
        for db in databases.values():
            refill(db, messages[:100], parts)
            asyncio.run(drain(db, sink.port, 1, 100))

        # interleaved: each repetition measures raw and every dispatcher back to back (in
        # alternating order), so a busy moment of the machine hits them alike; the ratio is
        # taken within each repetition and the median reported
        rates: dict[tuple[str, int], list[float]] = {}
        for rep in range(repeat):
            for connections in (1, 4):
                variants: list[tuple[str, Callable[[], Coroutine[Any, Any, None]], Any]] = [
                    ("raw", partial(raw_send, sink.port, bodies, connections), None)
                ]
                for label, db in databases.items():
                    variants.append(
                        (
                            label,
                            partial(drain, db, sink.port, connections, n),
                            partial(refill, db, messages, parts),
                        )
                    )
                if rep % 2:
                    variants.reverse()
                for label, run, prepare in variants:
                    budget.check()
                    rate = timed(sink, n, run, prepare=prepare)
                    rates.setdefault((label, connections), []).append(rate)
    finally:
        for db in databases.values():
            db.dispose()
        for cleanup in cleanups:
            cleanup()
        sink.stop()
        tmp.cleanup()

    print(
        f"\n{n} pre-rendered messages ({len(bodies[0])} bytes each) to an aiosmtpd sink on "
        f"{HOST} (separate process{f', {delay * 1000:g} ms per message' if delay else ''}); "
        f"median of {repeat} interleaved runs; "
        f"{socket.gethostname()}, {os.cpu_count()} CPUs, aiosmtplib {aiosmtplib.__version__}\n"
    )
    header = "| connections | raw aiosmtplib msg/s |"
    rule = "|---:|---:|"
    for label in databases:
        header += f" dispatcher, {label} msg/s | {label} / raw |"
        rule += "---:|---:|"
    print(header)
    print(rule)
    for connections in (1, 4):
        raw = rates["raw", connections]
        line = f"| {connections} | {median(raw):,.0f} |"
        for label in databases:
            mine = rates[label, connections]
            ratio = median(d / r for d, r in zip(mine, raw, strict=True))
            line += f" {median(mine):,.0f} | {ratio:.0%} |"
        print(line)


if __name__ == "__main__":
    main()
