"""The sweep fires claimed timers a chunk per transaction, each timer in its own savepoint: one
timer that fails does not cost the others of its chunk, and is itself retried later. On SQLite
and PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.sweep import TimerSweep
from notifications.outbox_writer import OutboxWriter
from notifications.recipients import RecipientResolver
from notifications.render import TEMPLATE_DIR, MailRenderer
from storage import outbox, requests, timers
from storage.models import history_table, request_table

GOOD = {"ok": "yes"}


def _install_picky_mail(runtime: Runtime, tmp_path: Path) -> None:
    """The real templates, except that the reminder's subject prints
    `request.data.ok`: a request without it makes rendering fail (StrictUndefined)."""
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATE_DIR, templates)
    subject = templates / "reminder" / "subject.txt"
    subject.write_text("{{ request.data.ok }} " + subject.read_text(encoding="utf-8"), "utf-8")
    writer = OutboxWriter(
        MailRenderer(templates, timezone=runtime.settings.timezone),
        RecipientResolver(runtime.catalogues, runtime.settings),
        runtime.settings,
    )
    runtime.engine.subscribe(writer)


def _due_reminders(runtime: Runtime, clock: ManualClock, datas: list[dict[str, str]]) -> list[int]:
    """One intake request per entry of `datas`, each with one stale-intake reminder due now."""
    version = runtime.registry.current("internship").version
    now = clock()
    with runtime.db.transaction() as conn:
        requests.insert_many(
            conn,
            [
                {
                    "programme": "internship",
                    "workflow_version": version,
                    "emb_id": None,
                    "title": f"batch {i}",
                    "state": "intake",
                    "held_from": None,
                    "data": data,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, data in enumerate(datas)
            ],
        )
        ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM request ORDER BY id"))]
        timers.arm(
            conn,
            [
                {
                    "key": f"{rid}:stale_intake:0:0",
                    "request_id": rid,
                    "name": "stale_intake",
                    "kind": "reminder",
                    "occurrence": 0,
                    "armed_in": "intake",
                    "due_at": now - timedelta(minutes=5),
                    "status": "pending",
                    "created_at": now,
                }
                for rid in ids
            ],
        )
    return ids


def _mails_per_request(runtime: Runtime) -> dict[int | None, int]:
    with runtime.db.read() as conn:
        rows = outbox.listing(conn)
    counts: dict[int | None, int] = {}
    for row in rows:
        counts[row.request_id] = counts.get(row.request_id, 0) + 1
    return counts


def _timer_history(runtime: Runtime, request_id: int) -> int:
    with runtime.db.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(
                    history_table.c.request_id == request_id,
                    history_table.c.trigger == "timer:stale_intake",
                )
            ).scalar_one()
        )


def test_a_failing_timer_in_a_batch_is_left_to_retry_while_the_others_fire_once(
    runtime: Runtime, clock: ManualClock, tmp_path: Path
) -> None:
    _install_picky_mail(runtime, tmp_path)
    ids = _due_reminders(runtime, clock, [GOOD, GOOD, {}, GOOD, GOOD])
    bad = ids[2]

    first = TimerSweep(runtime.engine, worker="w1", chunk=10).run_once()  # one transaction

    assert (first.reminders, first.errors) == (4, 1)
    assert sorted(first.fired) == sorted(f"{rid}:stale_intake#0" for rid in ids if rid != bad)
    assert _mails_per_request(runtime) == {rid: 1 for rid in ids if rid != bad}
    assert [_timer_history(runtime, rid) for rid in ids] == [1, 1, 0, 1, 1]
    with runtime.db.read() as conn:
        (left,) = timers.for_request(conn, bad)
        version = conn.execute(
            sa.select(request_table.c.version).where(request_table.c.id == bad)
        ).scalar_one()
    assert left.status == "claimed", "kept under the lease, to be taken again"
    assert left.outcome is not None
    assert left.outcome.startswith("error: TemplateError")
    assert "reminder/subject.txt" in left.outcome
    assert version == 1, "nothing of the failed timer was written"

    # before the lease runs out nobody takes it, not even the same worker
    assert TimerSweep(runtime.engine, worker="w1").run_once().to_dict()["fired"] == []

    # the data is corrected; once the lease has run out another worker fires it, once
    with runtime.db.transaction() as conn:
        conn.execute(request_table.update().where(request_table.c.id == bad).values(data=GOOD))
    clock.advance(timedelta(minutes=3))
    second = TimerSweep(runtime.engine, worker="w2").run_once()
    assert second.fired == [f"{bad}:stale_intake#0"]
    assert second.errors == 0
    assert TimerSweep(runtime.engine, worker="w3").run_once().fired == []
    assert _mails_per_request(runtime) == dict.fromkeys(ids, 1)
    assert [_timer_history(runtime, rid) for rid in ids] == [1, 1, 1, 1, 1]
    with runtime.db.read() as conn:
        rows = [row for rid in ids for row in timers.for_request(conn, rid)]
    assert {row.status for row in rows} == {"fired"}


def test_chunks_of_one_and_of_many_fire_the_same_timers_in_due_order(
    runtime: Runtime, clock: ManualClock, tmp_path: Path
) -> None:
    _install_picky_mail(runtime, tmp_path)
    ids = _due_reminders(runtime, clock, [GOOD] * 7)
    report = TimerSweep(runtime.engine, worker="w1", batch=4, chunk=3).run_once()
    assert report.fired == [f"{rid}:stale_intake#0" for rid in ids]
    assert report.errors == 0
    assert _mails_per_request(runtime) == dict.fromkeys(ids, 1)
