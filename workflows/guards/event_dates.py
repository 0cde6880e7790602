"""Sane event dates: logistics are confirmed for an event still to come, unless the request
is explicitly recorded after the event (a past activity entered for the record)."""

from __future__ import annotations

from i18n import Text
from workflows.guard_api import GUARDS, GuardContext
from workflows.guards.reading import Day, Params, parse_date


class PastParams(Params):
    start: str = "event_start"
    end: str = "event_end"
    past_event: str = "past_event"  # the boolean field that records an event already held


@GUARDS.register("event_dates_not_past", params=PastParams)
def event_dates_not_past(ctx: GuardContext) -> list[Text]:
    """The event starts today or later, unless the request is recorded after the event."""
    raw = ctx.data.get(ctx.params.start)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        # said in `dates_set`'s words, so a step refused by both says it once
        return [Text("“%(field)s” has not been set.", field=ctx.label(ctx.params.start))]
    today = ctx.request.today
    if today is None or ctx.data.get(ctx.params.past_event) is True:
        return []
    start = parse_date(raw)
    if start is None or start >= today:
        return []  # an invalid date is `dates_set`'s to say
    end = parse_date(ctx.data.get(ctx.params.end))
    if end is not None and end != start:
        return [
            Text(
                "The event dates, %(start)s to %(end)s, are before today (%(today)s): set the "
                "dates of the coming event, or mark “%(flag)s” if the request records an event "
                "that has already taken place.",
                start=Day(start),
                end=Day(end),
                today=Day(today),
                flag=ctx.label(ctx.params.past_event),
            )
        ]
    return [
        Text(
            "The event date, %(start)s, is before today (%(today)s): set the date of the "
            "coming event, or mark “%(flag)s” if the request records an event that has "
            "already taken place.",
            start=Day(start),
            today=Day(today),
            flag=ctx.label(ctx.params.past_event),
        )
    ]
