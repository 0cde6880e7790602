"""Seeding the fault tests' databases, and the invariants every fault test ends with:

- every committed change has exactly one history row: per request, the history versions are
  exactly the versions the request went through (no gap, no duplicate);
- every due timer fired once: one `fired` timer row and one history row per timer, none left
  claimed;
- every queued message delivered once, or at most twice with one Message-ID where the outcome
  of a delivery was unknown (a killed sender): counted at the SMTP sink by Message-ID.
"""

from __future__ import annotations

import socket
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher

from config.settings import Settings
from engine.accounts import Accounts
from engine.actor import Actor
from engine.bootstrap import build_runtime
from notifications.wiring import install_mail
from storage import outbox, requests, timers
from storage.db import Database
from storage.models import history_table, outbox_table, request_table, timer_table
from tests.faults.smtp_sink import SmtpSink

H, O, R, T = history_table, outbox_table, request_table, timer_table  # noqa: E741


def seed_due_timers(db: Database, *, n_requests: int, per_request: int, now: datetime) -> int:
    """Internship requests at intake, each with `per_request` due `stale_intake` reminders
    (the coordinator is mailed when one fires). Returns how many timers are due."""
    with db.transaction() as conn:
        version = conn.execute(
            sa.text("SELECT max(version) FROM workflow_version WHERE name = 'internship'")
        ).scalar_one()
        requests.insert_many(
            conn,
            [
                {
                    "programme": "internship",
                    "workflow_version": version,
                    "emb_id": None,
                    "title": f"fault {i}",
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
        ids = [r[0] for r in conn.execute(sa.select(R.c.id).order_by(R.c.id))]
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
                for n in range(per_request)
            ],
        )
    return n_requests * per_request


def enqueue_mail(db: Database, count: int, *, now: datetime) -> list[str]:
    """`count` rendered messages in the outbox, each with its own Message-ID."""
    ids: list[str] = []
    with db.transaction() as conn:
        for n in range(count):
            message_id = f"<{uuid.uuid4().hex}@cicie.test>"
            msg = EmailMessage()
            msg["From"] = "CICIE <cicie@cicie.test>"
            msg["To"] = f"partner{n}@example.org"
            msg["Subject"] = f"Fault test {n}"
            msg["Message-ID"] = message_id
            msg.set_content(f"message {n}\n")
            row = outbox.insert(
                conn,
                key=f"fault:{n}",
                request_id=None,
                history_id=None,
                template="test",
                language="en",
                to_addr=f"partner{n}@example.org",
                to_name="",
                subject=f"Fault test {n}",
                message_id=message_id,
                body=msg.as_bytes(),
                now=now,
            )
            assert row is not None
            ids.append(message_id)
    return ids


# ---------------------------------------------------------------- counts
def timer_statuses(db: Database) -> Counter[str]:
    with db.read() as conn:
        return Counter(
            dict(conn.execute(sa.select(T.c.status, sa.func.count()).group_by(T.c.status)).all())
        )


def outbox_statuses(db: Database) -> Counter[str]:
    with db.read() as conn:
        return Counter(
            dict(conn.execute(sa.select(O.c.status, sa.func.count()).group_by(O.c.status)).all())
        )


def outbox_message_ids(db: Database) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(sa.select(O.c.message_id)).scalars())


# ---------------------------------------------------------------- invariants
def assert_history_contiguous(db: Database) -> int:
    """Per request, history versions are exactly (first recorded … current version), each once.
    Returns the number of history rows."""
    with db.read() as conn:
        current = dict(conn.execute(sa.select(R.c.id, R.c.version)).all())
        versions: dict[int, list[int]] = {}
        for rid, v in conn.execute(sa.select(H.c.request_id, H.c.version)):
            versions.setdefault(rid, []).append(v)
    problems = []
    for rid, found in versions.items():
        found.sort()
        expected = list(range(found[0], current[rid] + 1))
        if found != expected:
            problems.append((rid, current[rid], found[:20]))
    assert not problems, f"history gaps or duplicates (request, version, history): {problems[:5]}"
    return sum(len(v) for v in versions.values())


def due_or_held_timers(db: Database, now: datetime) -> int:
    """Timers still waiting although due at `now`, or still claimed."""
    with db.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(
                    (T.c.status == "claimed") | ((T.c.status == "pending") & (T.c.due_at <= now))
                )
            ).scalar_one()
        )


def assert_timers_fired_once(db: Database, expected: int) -> None:
    """Every due timer fired (none claimed, none due and pending), `expected` in all, and each
    has exactly one history row."""
    assert due_or_held_timers(db, datetime.now(UTC)) == 0, timer_statuses(db)
    assert timer_statuses(db)["fired"] == expected, timer_statuses(db)
    with db.read() as conn:
        fired = Counter(
            dict(
                conn.execute(
                    sa.select(T.c.request_id, sa.func.count())
                    .where(T.c.status == "fired")
                    .group_by(T.c.request_id)
                ).all()
            )
        )
        recorded = Counter(
            dict(
                conn.execute(
                    sa.select(H.c.request_id, sa.func.count())
                    .where(H.c.trigger.like("timer:%"))
                    .group_by(H.c.request_id)
                ).all()
            )
        )
    assert fired == recorded, "a fired timer without its history row, or one recorded twice"
    assert sum(recorded.values()) == expected


def assert_mail_delivered_once(
    db: Database, sink: SmtpSink, *, ambiguous_before: float | None = None
) -> Counter[str]:
    """Every outbox row sent, each Message-ID received once — or twice when its first copy
    arrived before `ambiguous_before` (a sender killed before it could record the delivery).
    Returns the sink's counts."""
    statuses = outbox_statuses(db)
    assert set(statuses) <= {"sent"}, statuses
    queued = set(outbox_message_ids(db))
    received = sink.received()
    counts = Counter(d.message_id for d in received)
    assert set(counts) == queued, (
        f"{len(queued - set(counts))} queued never arrived, "
        f"{len(set(counts) - queued)} arrived unqueued"
    )
    twice = {m for m, n in counts.items() if n > 1}
    assert all(n <= 2 for n in counts.values()), max(counts.values())
    if ambiguous_before is None:
        assert not twice, f"{len(twice)} messages delivered twice"
    else:
        first = {}
        for d in received:
            first.setdefault(d.message_id, d.at)
        late = [m for m in twice if first[m] >= ambiguous_before]
        assert not late, f"{len(late)} messages duplicated that were not in flight at the kill"
    return counts


# ---------------------------------------------------------------- the API's side
def seed_api(url: str, home: Path, *, requests_count: int) -> tuple[str, list[int]]:
    """A coordinator's API token, and internship requests at intake from EMBs with an address
    (so each hold or resume mails the EMB). Made by the real engine, committed."""
    settings = Settings(home=home, database_url=url, environment="test")
    rt = build_runtime(settings, upgrade=False)
    install_mail(rt)
    try:
        accounts = Accounts(rt.db, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        accounts.add_user("loader", "coordinator", "loader-password-long")
        token = accounts.issue_token("loader", "fault tests")
        actor = Actor("coordinator", "loader")
        ids = []
        for i in range(requests_count):
            code = f"EMB-{i}"
            rt.engine.add_emb(
                code=code, name=f"Body {i}", country="KE", language="en", email=f"e{i}@example.org"
            )
            ids.append(rt.engine.create("internship", emb_code=code, title=f"r{i}", actor=actor).id)
    finally:
        rt.close()
    return token, ids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port
