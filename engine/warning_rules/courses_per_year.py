"""Two courses a year, each for a different region (brochure § 2.3: "Two courses are held every
year and each one is for a different región").

Not a refusal: a coordinator may have good reasons for a third course or a second one in the
same region. From intake (so it is seen before `accept`) until the course is over, a course
whose year has another course gets a warning naming that course and its region — sharper when
the region is the same, and one more when the year has more than two courses (which names at
most three of the others, same region first, and counts them all).

A course's year is the year of its start date, or, before dates are set (at intake), the year
the request was created (local date). Declined and withdrawn courses do not count."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from engine.warnings import Notice, WarningContext, warning_rule
from i18n import Text, vocabulary
from storage import reads
from storage.rows import RequestRow
from workflows.guards.reading import parse_date

PROGRAMME = "specialization_course"
COURSES_A_YEAR = 2
# the other courses a warning names, same region first: past that, the count says it (a year
# with dozens of courses must not put dozens of sentences on each course's page and row)
NAMED_AT_MOST = 3
NOT_HELD = frozenset({"declined", "withdrawn"})  # courses that will not take place


def course_year(row: RequestRow, local_date: date) -> int:
    """The year a course counts in: its start date's, else its creation's (`local_date`)."""
    start = parse_date(row.data.get("event_start"))
    return start.year if start is not None else local_date.year


def _region(row: RequestRow) -> object:
    code = row.data.get("region")
    if isinstance(code, str) and code:
        return vocabulary.REGIONS.get(code, code)
    return Text("no region recorded yet")


def _title(row: RequestRow) -> str:
    topic = row.data.get("course_topic")
    return topic.strip() if isinstance(topic, str) and topic.strip() else row.title


@warning_rule
def courses_per_year(ctx: WarningContext) -> list[Notice]:
    row = ctx.request
    if row.programme != PROGRAMME or row.state in NOT_HELD:
        return []
    state = ctx.definition.states.get(row.state)
    if state is None or state.final:
        return []
    local = ctx.business.local_date
    year = course_year(row, local(row.created_at))
    # the courses held in that year, sorted out once per read (a dashboard page lists several
    # courses of one year: each then only leaves itself out)
    held = ctx.once(
        ("courses_held_in_year", year),
        lambda: [
            other
            # the courses of that year only (the derived year facet: event or creation year),
            # never every course of every year (issue 16: a request page must not grow with them)
            for other in ctx.once(
                ("courses_in_year", year), lambda: reads.in_year(ctx.conn, PROGRAMME, year)
            )
            if other.state not in NOT_HELD and course_year(other, local(other.created_at)) == year
        ],
    )
    others = [other for other in held if other.id != row.id]
    region = row.data.get("region")

    def same_region(other: RequestRow) -> bool:
        return bool(isinstance(region, str) and region and other.data.get("region") == region)

    notices: list[Notice] = []
    named = sorted(others, key=lambda o: (not same_region(o), o.id))[:NAMED_AT_MOST]
    for other in named:
        same = same_region(other)
        if same:
            notices.append(
                Notice(
                    "course_same_region",
                    Text(
                        "Request %(id)s, “%(title)s”, is also a course of %(year)s for "
                        "%(region)s; the brochure holds two courses a year, each for a "
                        "different region.",
                        id=other.id,
                        title=_title(other),
                        year=str(year),
                        region=_region(other),
                    ),
                    "region",
                )
            )
        else:
            notices.append(
                Notice(
                    "course_second_in_year",
                    Text(
                        "Request %(id)s, “%(title)s”, is another course of %(year)s, for "
                        "%(region)s; the brochure holds two courses a year, each for a "
                        "different region.",
                        id=other.id,
                        title=_title(other),
                        year=str(year),
                        region=_region(other),
                    ),
                    "region",
                )
            )
    if len(others) + 1 > COURSES_A_YEAR:
        notices.append(
            Notice(
                "courses_per_year",
                Text(
                    "%(count)s courses are planned for %(year)s; the brochure holds two a year.",
                    count=len(others) + 1,
                    year=str(year),
                ),
                None,
            )
        )
    return notices


# what the rule reads of the other courses of a year (`course_year`, `_region`, `_title`): a
# listed page reads only these of them (`share_courses_of_years`)
OTHER_COURSE_KEYS = ("event_start", "region", "course_topic")


def share_courses_of_years(
    conn: Any, rows: Iterable[RequestRow], shared: dict[object, Any], local_date: Any
) -> None:
    """The courses of the years of `rows`' courses, read in one statement with only their
    OTHER_COURSE_KEYS, into `shared` (what a `WarningContext` keeps for the rows of one read)
    under the key the rule reads them from: a dashboard page lists courses of a few years,
    hundreds each in a large database, whose whole documents cost most of the page."""
    years = {course_year(r, local_date(r.created_at)) for r in rows if r.programme == PROGRAMME}
    if not years:
        return
    from storage.dashboard import in_years  # SQLAlchemy: the web's path, not `request show`

    for year, found in in_years(conn, PROGRAMME, years, OTHER_COURSE_KEYS).items():
        shared.setdefault(("courses_in_year", year), found)
