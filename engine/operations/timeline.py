"""A request's future: every reminder, escalation and automatic transition still to come."""

from __future__ import annotations

from engine.errors import NotFound
from engine.operations.core import EngineCore
from engine.timers import PlannedTimer, emb_country
from engine.views import TimelineEntry
from engine.warning_rules.lead_times import lead_time_timeline
from storage import requests
from storage import timers as timer_rows


def timeline(engine: EngineCore, request_id: int) -> list[TimelineEntry]:
    """Every future reminder, escalation and automatic transition of a request as it stands
    now: the armed ones, and those of the stages it can still reach whose dates are already
    known — nothing of the stages it has left."""
    now = engine.clock()
    with engine.db.read() as conn:
        row = requests.get(conn, request_id)
        if row is None:
            raise NotFound(f"no request {request_id}")
        wf = engine.registry.get(conn, row.programme, row.workflow_version)
        definition = wf.definition
        by_id = {t.id: t for t in definition.timers}
        planned = [
            PlannedTimer(by_id[r.name], r.occurrence, r.due_at, "armed")
            for r in timer_rows.for_request(conn, request_id, statuses=("pending",))
            if r.name in by_id
        ]
        country = emb_country(conn, row.emb_code)
    planned.extend(
        engine.timers.projected(
            definition, row.state, row.data, now, country, held_from=row.held_from
        )
    )
    planned.sort(key=lambda p: (p.due_at, p.timer.id, p.occurrence))
    entries = [
        TimelineEntry(
            due_at=engine.business_time.localize(p.due_at),
            kind=p.timer.kind,
            what=p.timer.fire or (p.timer.notify[0].template if p.timer.notify else ""),
            recipients=tuple(dict.fromkeys(r for n in p.timer.notify for r in n.to)),
            timer=p.timer.id,
            label=p.timer.label.get(engine.language),
            occurrence=p.occurrence,
            status=p.status,
        )
        for p in planned
    ]
    # each lead time's latest date (config/catalogues/lead_times.yaml), while before the event
    entries.extend(lead_time_timeline(engine, row, definition))
    return sorted(entries, key=lambda e: e.due_at)
