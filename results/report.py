"""The programme results report, computed from records: the imported history and the
requests handled in the system alike.

`build_report` is what the CLI and (later) the web page call; its `to_dict()` is the JSON
contract of `cicie report results --format json` (docs/results.md § Report). Requests count
as activities once their event has happened or is happening — `HELD_STATES`, or on hold from
one of those — in the year of `event_start`, in the requesting EMB's country.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from typing import Any

from config.catalogues import Catalogues
from results import countries
from results.importer import partners_from_row, readings
from results.records import (
    PROGRAMMES,
    ActivityRecord,
    Claim,
    Discrepancy,
    check,
)
from storage import activities as store
from storage.db import Database

# the states of a request whose event is happening or has happened: the internship's
# report states, and the closing (`evaluation`) of the programmes without a final report
HELD_STATES = (
    "in_progress",
    "evaluation",
    "final_report",
    "report_overdue",
    "report_received",
    "closed",
)
REQUESTS = "requests"  # the source name of activities that are requests in the system


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def stored_record(stored: store.StoredActivity) -> ActivityRecord:
    f = stored.fields
    sc = (f.get("stated") or {}).get("continents")
    partners, invited = partners_from_row(f["partners"])
    return ActivityRecord(
        key=stored.key,
        programme=f["programme"],
        year=f["year"],
        status=f["status"],
        countries=tuple(c for c, role, _ in stored.countries if role == "participant"),
        candidates=tuple(c for c, role, _ in stored.countries if role == "candidate"),
        start=f["start_date"],
        end=f["end_date"],
        period=f["period"],
        title=f["title"] or "",
        region=f["region"],
        listed_under=f["listed_under"],
        participants=f["participants"],
        institutions=f["institutions"],
        partners=partners,
        invited=invited,
        themes=tuple(f["themes"] or ()),
        stated_countries=(f.get("stated") or {}).get("countries"),
        stated_continents=tuple(sc) if isinstance(sc, list) else sc,
        as_printed=f["as_printed"],
        reading=f["reading"],
        notes=f["notes"],
        source=stored.source,
    )


def is_held(row: store.RequestRow) -> bool:
    return row.state in HELD_STATES or (row.state == "on_hold" and row.held_from in HELD_STATES)


def request_year(row: store.RequestRow) -> int:
    """The year a request belongs to: its event's, or the year it was received."""
    start = _as_date(row.data.get("event_start"))
    return start.year if start else row.created_at.year


def request_record(row: store.RequestRow) -> ActivityRecord | None:
    """A handled request as an activity, or None while its event has not happened."""
    start = _as_date(row.data.get("event_start"))
    if not is_held(row) or start is None or row.programme not in PROGRAMMES:
        return None
    data = row.data
    served: list[str] = []
    participants = data.get("attendance")
    if row.programme == "specialization_course":
        people = [p for p in data.get("participants") or [] if isinstance(p, dict)]
        for p in people:
            if p.get("country") and p["country"] not in served:
                served.append(p["country"])
        if not served:
            served = list(dict.fromkeys(data.get("invited_countries") or []))
        if participants is None and people:
            participants = len(people)
    elif row.emb_country:
        served = [row.emb_country]
    partners = [c for c in data.get("co_organisers") or [] if isinstance(c, str) and c]
    partner = data.get("partner_institution")
    if isinstance(partner, str) and partner and partner not in partners:
        partners.insert(0, partner)
    invited = [c for c in data.get("invited_organisations") or [] if isinstance(c, str) and c]
    title = data.get("course_topic") or data.get("seminar_topic") or row.title
    return ActivityRecord(
        key=f"request:{row.id}",
        programme=row.programme,
        year=start.year,
        countries=tuple(served),
        start=start,
        end=_as_date(data.get("event_end")),
        title=str(title),
        region=data.get("region"),
        participants=participants if isinstance(participants, int) else None,
        partners=tuple(partners),
        invited=tuple(c for c in invited if c not in partners),
        themes=tuple(t for t in data.get("themes") or [] if isinstance(t, str)),
        source=REQUESTS,
        request_id=row.id,
    )


def activity_dict(a: ActivityRecord) -> dict[str, Any]:
    """One activity as the report lists it."""
    return {
        "source": a.source,
        "key": a.key.split("#")[0],
        "request_id": a.request_id,
        "programme": a.programme,
        "status": a.status,
        "year": a.year,
        "title": a.title,
        "start": a.start.isoformat() if a.start else None,
        "end": a.end.isoformat() if a.end else None,
        "period": a.period,
        "region": a.region,
        "continent": a.continent,
        "countries": list(a.countries),
        "country_names": [countries.name(c) for c in a.countries],
        "candidates": list(a.candidates),
        "participants": a.participants,
        "institutions": a.institutions,
        "partners": list(a.partners),
        "invited": list(a.invited),
        "themes": list(a.themes),
        "as_printed": a.as_printed,
        "notes": a.notes,
    }


def _order(a: ActivityRecord) -> tuple[Any, ...]:
    return (a.year, a.start or date(a.year, 12, 31), a.source, a.title, a.key)


@dataclass
class ResultsReport:
    """The report's figures (`to_dict`) and the activity records they were computed from."""

    year_from: int | None
    year_to: int | None
    today: date
    records: list[ActivityRecord]
    payload: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return self.payload

    def in_range(self, year: int) -> bool:
        return (self.year_from is None or year >= self.year_from) and (
            self.year_to is None or year <= self.year_to
        )

    def held(self, programme: str | None = None) -> list[ActivityRecord]:
        return sorted(
            (
                a
                for a in self.records
                if a.status == "held"
                and self.in_range(a.year)
                and (programme is None or a.programme == programme)
            ),
            key=_order,
        )


def _by_year_and_continent(held: list[ActivityRecord]) -> dict[str, Any]:
    """Activities by year × continent: the five continents always, then "Inter-regional"
    (an entry spanning continents) and "Unknown" (no country) only when some entry is."""
    by_year: dict[str, dict[str, int]] = {}
    for a in held:
        row = by_year.setdefault(str(a.year), dict.fromkeys(countries.CONTINENTS, 0))
        row[a.continent or "Unknown"] = row.get(a.continent or "Unknown", 0) + 1
    by_continent = dict.fromkeys(countries.CONTINENTS, 0)
    for extra in (countries.INTER_REGIONAL, "Unknown"):
        if any(extra in row for row in by_year.values()):
            by_continent[extra] = 0
            for row in by_year.values():
                row.setdefault(extra, 0)
    for row in by_year.values():
        for continent, n in row.items():
            by_continent[continent] += n
    return {
        "by_year": {y: _ordered(row, by_continent) for y, row in sorted(by_year.items())},
        "year_totals": {y: sum(row.values()) for y, row in sorted(by_year.items())},
        "by_continent": by_continent,
        "total": len(held),
    }


def _ordered(row: dict[str, int], columns: dict[str, int]) -> dict[str, int]:
    return {c: row.get(c, 0) for c in columns}


def _workshops(report: ResultsReport) -> dict[str, Any]:
    held = report.held("international_workshop")
    per_country = Counter(c for a in held for c in a.countries)
    return {
        **_by_year_and_continent(held),
        "countries": sorted(per_country),
        "by_country": _country_list(per_country),
    }


def _country_list(counts: Counter[str]) -> list[dict[str, Any]]:
    return [
        {
            "code": code,
            "name": countries.name(code),
            "continent": countries.continent(code),
            "activities": n,
        }
        for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _themes(
    report: ResultsReport, requests: list[store.RequestRow], catalogues: Catalogues | None
) -> list[dict[str, Any]]:
    from_requests: Counter[str] = Counter()
    for row in requests:
        if report.in_range(request_year(row)):
            from_requests.update(t for t in row.data.get("themes") or [] if isinstance(t, str))
    from_history = Counter(
        t
        for a in report.records
        if a.source != REQUESTS and report.in_range(a.year)
        for t in a.themes
    )
    out = []
    for theme in set(from_requests) | set(from_history):
        label = theme
        if catalogues is not None and theme in catalogues.themes:
            label = catalogues.themes[theme].label.en
        out.append(
            {
                "theme": theme,
                "label": label,
                "requests": from_requests[theme],
                "activities": from_history[theme],
                "total": from_requests[theme] + from_history[theme],
            }
        )
    return sorted(out, key=lambda t: (-t["total"], t["theme"]))


def _requests_this_year(requests: list[store.RequestRow], year: int) -> dict[str, Any]:
    by_programme: dict[str, Counter[str]] = defaultdict(Counter)
    for row in requests:
        if row.created_at.year == year:
            by_programme[row.programme][row.state] += 1
    return {
        "year": year,
        "by_programme": {p: dict(sorted(c.items())) for p, c in sorted(by_programme.items())},
        "total": sum(sum(c.values()) for c in by_programme.values()),
    }


def build_report(
    db: Database,
    *,
    year_from: int | None = None,
    year_to: int | None = None,
    today: date | None = None,
    catalogues: Catalogues | None = None,
) -> ResultsReport:
    """Read every record and compute the report for the years asked (both ends included).

    Discrepancies and readings are about whole sources, whatever the years asked."""
    today = today or date.today()
    with db.read() as conn:
        stored = store.activities(conn)
        sources = store.sources(conn)
        requests = store.requests_with_emb(conn)
    records = [stored_record(s) for s in stored]
    records += [r for row in requests if (r := request_record(row)) is not None]
    report = ResultsReport(year_from, year_to, today, records)

    discrepancies: list[Discrepancy] = []
    reading_list: list[dict[str, Any]] = []
    for src in sources:
        own = [r for r in records if r.source == src.name]
        claims = [Claim.from_dict(c) for c in src.stated]
        discrepancies += check(src.name, own, claims)
        reading_list += readings(src.name, own)

    reached = Counter(c for a in report.held() for c in a.countries)
    report.payload = {
        "range": {"from": year_from, "to": year_to},
        "workshops": _workshops(report),
        "courses": [activity_dict(a) for a in report.held("specialization_course")],
        "courses_by_continent": _by_year_and_continent(report.held("specialization_course")),
        "seminars": [activity_dict(a) for a in report.held("seminar")],
        "internships": [activity_dict(a) for a in report.held("internship")],
        "technical_assistance": [activity_dict(a) for a in report.held("technical_assistance")],
        "activities_by_programme": {
            p: dict(sorted(Counter(str(a.year) for a in report.held(p)).items()))
            for p in PROGRAMMES
        },
        "countries_reached": {"total": len(reached), "countries": _country_list(reached)},
        "planned": [
            activity_dict(a)
            for a in sorted(records, key=_order)
            if a.status == "planned" and report.in_range(a.year)
        ],
        "themes": _themes(report, requests, catalogues),
        "stated_topics": [
            {"source": s.name, "topics": list(s.topics)} for s in sources if s.topics
        ],
        "requests": _requests_this_year(requests, today.year),
        "sources": [
            {
                "name": s.name,
                "title": s.title,
                "imported_at": s.imported_at.isoformat(),
                "activities": sum(1 for r in records if r.source == s.name),
            }
            for s in sources
        ],
        "discrepancies": [d.to_dict() for d in discrepancies],
        "readings": reading_list,
    }
    return report


# ------------------------------------------------------------------ text
def _table(header: list[str], rows: Iterable[list[Any]]) -> list[str]:
    cells = [header, *[[("" if c is None else str(c)) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.rjust(w) if c.isdigit() else c.ljust(w) for c, w in zip(row, widths, strict=True)
            ).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def shown_continents(workshops: dict[str, Any]) -> list[str]:
    """The continent columns worth printing: those with any workshop (at least the four
    the brochure prints, so an empty range still shows its familiar table)."""
    used = [c for c, n in workshops["by_continent"].items() if n]
    return [c for c in workshops["by_continent"] if c in used or c != "Oceania"]


def render_text(report: ResultsReport) -> str:
    """The report as a person reads it in a terminal."""
    data = report.to_dict()
    w = data["workshops"]
    conts = shown_continents(w)
    span = data["range"]
    title = "International workshops by year and continent"
    if span["from"] or span["to"]:
        title += f" ({span['from'] or '…'}–{span['to'] or '…'})"
    out = [title, ""]
    rows = [
        [y, *(row.get(c, 0) for c in conts), w["year_totals"][y]] for y, row in w["by_year"].items()
    ]
    rows.append(["Total", *(w["by_continent"][c] for c in conts), w["total"]])
    out += _table(["Year", *conts, "Total"], rows)
    out += [
        "",
        f"{len(w['countries'])} countries reached by workshops: "
        + ", ".join(f"{c['name']} ({c['activities']})" for c in w["by_country"]),
    ]
    reached = data["countries_reached"]
    out += [f"{reached['total']} countries reached by all activities held."]

    def listing(name: str, items: list[dict[str, Any]]) -> None:
        out.extend(["", f"{name} ({len(items)})"])

        def when(a: dict[str, Any]) -> str:
            return str(a["period"] or a["start"] or a["year"])

        # identical entries (the calendar's six workshops) are printed once, with their number
        for _, group in groupby(items, key=lambda a: (a["year"], a["title"], when(a), a["key"])):
            same = list(group)
            a = same[0]
            times = f" (×{len(same)})" if len(same) > 1 else ""
            src = f" [request #{a['request_id']}]" if a["request_id"] else ""
            out.append(f"  {a['year']}  {a['title'] or '-'} — {when(a)}{src}{times}")
            figures = []
            if a["programme"] == "specialization_course" and a["continent"]:
                figures.append(a["continent"])
            if a["participants"] is not None:
                figures.append(f"{a['participants']} participants")
            if a["countries"]:
                figures.append(f"{len(a['countries'])} countries: {', '.join(a['countries'])}")
            if figures:
                out.append(f"        {'; '.join(figures)}")

    listing("Specialization courses", data["courses"])
    by_continent = data["courses_by_continent"]
    if by_continent["total"]:
        used = [c for c, n in by_continent["by_continent"].items() if n]
        out += ["", "Specialization courses by year and continent"]
        out += _table(
            ["Year", *used, "Total"],
            [
                *(
                    [y, *(row[c] for c in used), by_continent["year_totals"][y]]
                    for y, row in by_continent["by_year"].items()
                ),
                ["Total", *(by_continent["by_continent"][c] for c in used), by_continent["total"]],
            ],
        )
    listing("Seminars", data["seminars"])
    if data["internships"]:
        listing("Internships", data["internships"])
    if data["technical_assistance"]:
        listing("Technical assistance missions", data["technical_assistance"])
    if data["planned"]:
        listing("Planned", data["planned"])
    if data["themes"]:
        out += ["", "Most requested themes"]
        out += _table(
            ["Theme", "Requests", "Activities"],
            ([t["label"], t["requests"], t["activities"]] for t in data["themes"][:10]),
        )
    req = data["requests"]
    out += ["", f"Requests received in {req['year']}: {req['total']}"]
    for programme, states in req["by_programme"].items():
        out.append(f"  {programme}: " + ", ".join(f"{s} {n}" for s, n in states.items()))
    out += [
        "",
        f"Discrepancies between stated figures and listed entries ({len(data['discrepancies'])})",
    ]
    out += [f"  - [{d['source']}] {d['message']}" for d in data["discrepancies"]]
    if data["readings"]:
        out += ["", "How ambiguous entries were read"]
        out += [
            f'  - [{r["source"]}] {r["year"]} "{r["as_printed"]}" counted as '
            f"{r['counted_as']}: {r['reading']}"
            for r in data["readings"]
        ]
    return "\n".join(out)
