"""The clock jumps (a host whose time is corrected, a VM resumed after days): `cicie worker
--once --now …` run forward in steps, repeated at the same moment, then sent back in time and
forward again. Nothing fires twice, every due timer fires once (or is skipped by the late
policy, recorded once), and every message is delivered once.

The requests and their timers are made by the real engine (the planner arms them), at a fixed
moment; each worker run is a real process with its own injected clock.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from config.settings import Settings
from engine.actor import Actor
from engine.bootstrap import Runtime, build_runtime
from engine.clock import ManualClock
from notifications.wiring import install_mail
from storage.db import Database
from storage.models import history_table, timer_table
from tests.conftest import example_steps
from tests.faults.conftest import PgDatabases, Spawner, url_of
from tests.faults.invariants import (
    assert_history_contiguous,
    assert_mail_delivered_once,
    outbox_statuses,
)
from tests.faults.smtp_sink import SmtpSink

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

T0 = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # a Monday, 10:00 in Mexico City
COORDINATOR = Actor("coordinator", "ana")


@pytest.fixture
def seeded(pg: PgDatabases, tmp_path: Path, sink: SmtpSink) -> Iterator[Runtime]:
    """12 internship requests made at T0: 8 wait at intake (a reminder 14, 21 and 28 days
    later), 4 were accepted (an escalation 30 days later)."""
    settings = Settings(
        home=tmp_path / "seed",
        database_url=url_of(pg.new()),
        environment="test",
        smtp_host=sink.host,
        smtp_port=sink.port,
    )
    rt = build_runtime(settings, clock=ManualClock(T0), upgrade=False)
    install_mail(rt)
    accept = example_steps("internship")[0]
    for i in range(12):
        rt.engine.add_emb(
            code=f"EMB-{i}",
            name=f"Electoral body {i}",
            country="KE",
            language="en",
            email=f"emb{i}@example.org",
        )
        view = rt.engine.create(
            "internship", emb_code=f"EMB-{i}", title=f"request {i}", actor=COORDINATOR
        )
        if i % 3 == 0:
            rt.engine.advance(view.id, "accept", COORDINATOR, data=accept["data"])
    yield rt
    rt.close()


def _sweep_at(spawn: Spawner, env: dict[str, str], moment: datetime) -> dict[str, Any]:
    proc = spawn.run("once", "worker", "--once", "--json", "--now", moment.isoformat(), env=env)
    result: dict[str, Any] = json.loads(proc.stdout())
    return result


def _timer_history(db: Database) -> Counter[tuple[int, str]]:
    with db.read() as conn:
        return Counter(
            (rid, trigger)
            for rid, trigger in conn.execute(
                sa.select(history_table.c.request_id, history_table.c.trigger).where(
                    history_table.c.trigger.like("timer:%")
                )
            )
        )


def _timer_rows(db: Database) -> Counter[tuple[str, str]]:
    with db.read() as conn:
        return Counter(
            (name, status)
            for name, status in conn.execute(sa.select(timer_table.c.name, timer_table.c.status))
        )


def test_forward_and_backward_clock_jumps_fire_nothing_twice(
    seeded: Runtime, spawn: Spawner, sink: SmtpSink
) -> None:
    db = seeded.db
    env = spawn.env(
        db.url.render_as_string(hide_password=False), smtp_host=sink.host, smtp_port=sink.port
    )
    # the intake reminders are due 14, 21 and 28 days after T0 at 09:00 local (15:00 UTC)
    first = T0 + timedelta(days=14, minutes=-55)  # 5 minutes after the first one is due
    second = T0 + timedelta(days=21, minutes=-55)
    runs = {
        label: _sweep_at(spawn, env, moment)
        for label, moment in [
            ("first", first),
            ("again", first),  # the same moment twice
            ("back", T0 + timedelta(days=10)),  # backward, before anything was due
            ("second", second),
            # far forward: the day-28 reminder is 10 days late (skipped, recorded once), the
            # day-30 escalations fire once however late
            ("jump", T0 + timedelta(days=40)),
            ("back-again", first),  # backward over everything that fired
        ]
    }
    fired = {label: r["timers"]["fired"] for label, r in runs.items()}
    assert len(fired["first"]) == 8
    assert all(":stale_intake#0" in f for f in fired["first"])
    assert fired["again"] == [], "nothing twice"
    assert fired["back"] == [], "nothing early"
    assert len(fired["second"]) == 8
    assert all(":stale_intake#1" in f for f in fired["second"])
    assert len(fired["jump"]) == 4
    assert all(":assessment_stalled#" in f for f in fired["jump"])
    assert runs["jump"]["timers"]["skipped"] == 8
    assert fired["back-again"] == []
    assert runs["back-again"]["timers"]["skipped"] == 0
    every = [f for r in fired.values() for f in r]
    assert len(every) == len(set(every)) == 20

    assert _timer_rows(db) == Counter(
        {
            ("stale_intake", "fired"): 16,
            ("stale_intake", "skipped"): 8,
            ("stale_intake", "cancelled"): 12,  # the accepted requests left intake
            ("assessment_stalled", "fired"): 4,
        }
    )
    history = _timer_history(db)
    assert sum(history.values()) == 20
    assert set(history.values()) == {1, 2}  # one row per fired timer: two reminders, or one
    assert_history_contiguous(db)
    statuses = outbox_statuses(db)
    assert set(statuses) == {"sent"}, statuses
    assert_mail_delivered_once(db, sink)
