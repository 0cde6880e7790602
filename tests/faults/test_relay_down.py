"""The SMTP relay is down for the whole window, then back: every message is retried with
backoff (and jitter, so the retries spread out), nothing is lost or given up, and once the relay
answers again each message is delivered once. Real `cicie worker --once --now …` processes, a
real SMTP server on loopback that stops listening and comes back on the same port.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from storage.db import Database
from storage.models import outbox_table
from tests.faults.conftest import Spawner
from tests.faults.invariants import assert_mail_delivered_once, enqueue_mail, outbox_statuses
from tests.faults.smtp_sink import SmtpSink

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

T0 = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
O = outbox_table  # noqa: E741


def _rows(db: Database) -> list[tuple[int, str, datetime, str | None]]:
    with db.read() as conn:
        return [
            (r.attempts, r.status, r.next_attempt_at, r.last_reply)
            for r in conn.execute(
                sa.select(O.c.attempts, O.c.status, O.c.next_attempt_at, O.c.last_reply)
            )
        ]


def test_relay_down_then_back_every_message_retried_with_backoff_then_delivered_once(
    db: Database, spawn: Spawner, sink: SmtpSink
) -> None:
    enqueue_mail(db, 60, now=T0)
    env = spawn.env(
        db.url.render_as_string(hide_password=False),
        smtp_host=sink.host,
        smtp_port=sink.port,
        smtp_timeout=2,
    )

    def pass_at(moment: datetime) -> dict[str, int]:
        proc = spawn.run("once", "worker", "--once", "--json", "--now", moment.isoformat(), env=env)
        mail: dict[str, int] = json.loads(proc.stdout())["mail"]
        return mail

    sink.go_down()
    first = T0 + timedelta(minutes=1)
    assert pass_at(first) == {"sent": 0, "retrying": 60, "dead": 0}
    rows = _rows(db)
    assert {(a, s) for a, s, _, _ in rows} == {(1, "pending")}
    delays = [(due - first).total_seconds() for _, _, due, _ in rows]
    assert all(1 <= d <= 30 for d in delays), "first retry within the first backoff step"
    assert len(set(delays)) > 30, "jitter: the retries do not all fall at one moment"
    assert all(reply for _, _, _, reply in rows), "the relay's failure is recorded"

    second = first + timedelta(seconds=31)  # every message due again; the relay still down
    assert pass_at(second) == {"sent": 0, "retrying": 60, "dead": 0}
    delays = [(due - second).total_seconds() for _, _, due, _ in _rows(db)]
    assert all(1 <= d <= 60 for d in delays)
    assert max(delays) > 30, "the backoff doubled"

    early = second + timedelta(milliseconds=500)  # nothing is due yet: nothing is tried
    assert pass_at(early) == {"sent": 0, "retrying": 0, "dead": 0}

    sink.come_back()
    assert pass_at(second + timedelta(minutes=5)) == {"sent": 60, "retrying": 0, "dead": 0}
    assert outbox_statuses(db) == Counter(sent=60)
    assert {a for a, _, _, _ in _rows(db)} == {3}, "two failed attempts, then the delivery"
    assert_mail_delivered_once(db, sink)
