"""Plan backwards from the event (issue 14, item 8): each programme's lead times
(`config/catalogues/lead_times.yaml`) counted in INE's business days before `event_start`.

While a request has not reached its event, each item that can no longer be met — today plus
its business days falls after the start date — is a warning (`lead_time`, on `event_start`),
and the timeline shows every item's latest date (`lead_time_entries`). Warnings are computed
from the request as stored, so they follow the dates whenever they change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from config.catalogues import Label
from config.planning import lead_times_of
from engine.business_time import BusinessTime
from engine.form_dates import parse_date
from engine.views import TimelineEntry
from engine.warnings import Notice, WarningContext, warning_rule
from i18n import Text
from workflows.definition import WorkflowDefinition
from workflows.guards.reading import Day

if TYPE_CHECKING:
    from engine.operations.core import EngineCore
    from storage.requests import RequestRow

EVENT_STATE = "in_progress"  # from this state on (in the workflow's order) the event has begun


@dataclass(frozen=True)
class LeadTimeEntry:
    """One item of a request's lead times: its latest date and whether it can still be met."""

    id: str
    label: Label
    business_days: int
    latest: date  # `business_days` business days before the event starts
    late: bool  # today + business_days business days falls after the start

    @property
    def status(self) -> str:
        return "late" if self.late else "met"


def before_event(definition: WorkflowDefinition, state: str, held_from: str | None) -> bool:
    """Whether a request in `state` (held from `held_from`) has not yet reached its event: not
    in a final state, and before `in_progress` in the workflow's order of states."""
    current = held_from if state == definition.hold_state() and held_from else state
    found = definition.states.get(current)
    if found is None or found.final:
        return False
    order = list(definition.states)
    if EVENT_STATE not in order:
        return True
    return order.index(current) < order.index(EVENT_STATE)


def lead_time_entries(
    programme: str,
    definition: WorkflowDefinition,
    state: str,
    held_from: str | None,
    data: dict[str, Any],
    today: date,
    business: BusinessTime,
) -> list[LeadTimeEntry]:
    """The programme's lead times for a request, latest date first: none when the start date
    is not set yet or the event has begun."""
    start = parse_date(data.get("event_start"))
    if start is None or not before_event(definition, state, held_from):
        return []
    entries = [
        LeadTimeEntry(
            id=item.id,
            label=item.label,
            business_days=item.business_days,
            latest=business.add_days(start, -item.business_days, working=True),
            late=business.add_days(today, item.business_days, working=True) > start,
        )
        for item in lead_times_of(programme)
    ]
    return sorted(entries, key=lambda e: (e.latest, e.id))


@warning_rule
def lead_times_not_met(ctx: WarningContext) -> list[Notice]:
    row = ctx.request
    entries = lead_time_entries(
        row.programme, ctx.definition, row.state, row.held_from, row.data, ctx.today, ctx.business
    )
    start = parse_date(row.data.get("event_start"))
    return [
        Notice(
            code="lead_time",
            message=Text(
                "Lead time missed: “%(item)s” needs %(days)s business days before the start on "
                "%(start)s; the latest date was %(latest)s.",
                item=entry.label,
                days=entry.business_days,
                start=Day(start),
                latest=Day(entry.latest),
            ),
            field="event_start",
        )
        for entry in entries
        if entry.late and start is not None
    ]


def lead_time_timeline(
    engine: EngineCore, row: RequestRow, definition: WorkflowDefinition
) -> list[TimelineEntry]:
    """The lead times as timeline entries (kind `lead_time`, status `met` or `late`), each at
    its latest date, at the business hour."""
    business = engine.business_time
    today = business.local_date(engine.clock())
    return [
        TimelineEntry(
            due_at=business.localize(business.at_hour(entry.latest)),
            kind="lead_time",
            what=entry.id,
            recipients=(),
            timer=f"lead_time.{entry.id}",
            label=entry.label.get(engine.language),
            occurrence=1,
            status=entry.status,
        )
        for entry in lead_time_entries(
            row.programme, definition, row.state, row.held_from, row.data, today, business
        )
    ]
