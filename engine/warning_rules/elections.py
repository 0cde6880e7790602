"""Plan around elections (issue 14, item 9), from `config/catalogues/elections.yaml` (the
elections of the requesting organisation's country, kept by the centre) and the request's own
`next_election` date:

- `election_window`: the event (event_start … event_end) falls inside an election's blackout
  window (`blackout.days_before` days before election day to `blackout.days_after` after);
- `election_timing`: a request timed "before elections" (the brochure's optimal criteria for
  workshops) ends less than `before_elections_weeks` weeks before the next election day;
- `election_unknown`: it is timed "before elections" but no coming election is known.

Warnings only: a coordinator may well hold an event close to an election on purpose."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from config.catalogues import Label
from config.planning import Election, ElectionCalendar, load_elections
from engine.form_dates import parse_date
from engine.warnings import Notice, WarningContext, warning_rule
from i18n import Text
from storage.reads import emb_country
from workflows.guards.reading import Country, Day

if TYPE_CHECKING:
    import sqlalchemy as sa

    from storage.requests import RequestRow

BEFORE_ELECTIONS = "before_elections"  # the timing scenario (brochure: "Before elections")


@dataclass(frozen=True)
class _Known:
    """An election as the rules name it: from the file, or the request's own date."""

    day: date
    election: Election | None  # None: the request's `next_election`


def _country_key(emb_code: str | None) -> tuple[str, str | None]:
    return ("emb_country", emb_code)


def share_emb_countries(
    conn: sa.Connection, rows: Iterable[RequestRow], shared: dict[object, Any]
) -> None:
    """The countries of `rows`' organisations read in one statement into `shared` (what a
    `WarningContext` keeps for the rows of one read), so that the rule reads none per row:
    a dashboard page lists 50 requests of some 25 organisations."""
    import sqlalchemy as sa  # not for one request's page (issue 16: `cicie request show`)

    from storage.models import emb_table

    codes = {row.emb_code for row in rows if row.emb_code}
    if not codes:
        return
    found = dict(
        conn.execute(
            sa.select(emb_table.c.code, emb_table.c.country).where(emb_table.c.code.in_(codes))
        ).all()
    )
    for code in codes:
        shared[_country_key(code)] = found.get(code)


def timing_scenarios(data: dict[str, Any]) -> set[str]:
    """The request's timing scenarios: `timing_scenarios` (a list) or `timing_scenario` (one)."""
    found: set[str] = set()
    for key in ("timing_scenarios", "timing_scenario"):
        value = data.get(key)
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, list | tuple):
            found.update(v for v in value if isinstance(v, str))
    return found


def known_elections(
    calendar: ElectionCalendar, country: str | None, recorded: date | None
) -> list[_Known]:
    """The country's elections and the request's recorded date (unless the file has that
    day already), in date order."""
    found = [_Known(e.day, e) for e in calendar.of_country(country)]
    if recorded is not None and recorded not in {k.day for k in found}:
        found.append(_Known(recorded, None))
    return sorted(found, key=lambda k: k.day)


def _name(calendar: ElectionCalendar, known: _Known) -> Label | Text | str:
    election = known.election
    if election is None:
        return Text("the next election recorded on the request")
    return election.name or calendar.kind_label(election.kind)


@warning_rule
def election_windows(ctx: WarningContext) -> list[Notice]:
    row = ctx.request
    state = ctx.definition.states.get(row.state)
    if state is None or state.final:
        return []
    calendar = load_elections()
    country = ctx.once(_country_key(row.emb_code), lambda: emb_country(ctx.conn, row.emb_code))
    elections = known_elections(calendar, country, parse_date(row.data.get("next_election")))
    start = parse_date(row.data.get("event_start"))
    end = parse_date(row.data.get("event_end")) or start
    notices: list[Notice] = []
    if start is not None and end is not None:
        for known in elections:
            opens = known.day - timedelta(days=calendar.days_before)
            closes = known.day + timedelta(days=calendar.days_after)
            if start <= closes and end >= opens:
                notices.append(_window_notice(calendar, known, country))
    if BEFORE_ELECTIONS in timing_scenarios(row.data):
        notices.extend(_timing_notices(calendar, elections, start, end, ctx.today))
    return notices


def _window_notice(calendar: ElectionCalendar, known: _Known, country: str | None) -> Notice:
    if known.election is None:
        message = Text(
            "The event falls within the blackout window of the next election recorded on the "
            "request, on %(date)s (from %(before)s days before to %(after)s days after "
            "election day).",
            date=Day(known.day),
            before=calendar.days_before,
            after=calendar.days_after,
        )
    else:
        message = Text(
            "The event falls within the blackout window of an election in %(country)s: "
            "%(election)s, on %(date)s (from %(before)s days before to %(after)s days after "
            "election day).",
            country=Country(known.election.country),
            election=_name(calendar, known),
            date=Day(known.day),
            before=calendar.days_before,
            after=calendar.days_after,
        )
    return Notice(code="election_window", message=message, field="event_start")


def _timing_notices(
    calendar: ElectionCalendar,
    elections: list[_Known],
    start: date | None,
    end: date | None,
    today: date,
) -> list[Notice]:
    after = start or today
    coming = [k for k in elections if k.day >= after]
    if not coming:
        return [
            Notice(
                code="election_unknown",
                message=Text(
                    "The request is timed before elections, but no coming election is known: "
                    "record the date of the next election."
                ),
                field="next_election",
            )
        ]
    if end is None:
        return []
    known = coming[0]
    latest = known.day - timedelta(weeks=calendar.before_elections_weeks)
    if end <= latest:
        return []
    return [
        Notice(
            code="election_timing",
            message=Text(
                "The request is timed before elections: the event should end at least "
                "%(weeks)s weeks before election day (%(election)s, %(date)s), by %(latest)s; "
                "it ends on %(end)s.",
                weeks=calendar.before_elections_weeks,
                election=_name(calendar, known),
                date=Day(known.day),
                latest=Day(latest),
                end=Day(end),
            ),
            field="event_end",
        )
    ]
