"""Reports are computed from records: the imported history and the requests handled in the
system alike (a request counts once its event is happening or has happened, in the year of
its event, in its EMB's country)."""

from __future__ import annotations

from collections.abc import Callable

from config.catalogues import load_catalogues
from engine.views import RequestView
from results.report import build_report, render_text
from storage.db import Database
from tests.results.conftest import TODAY

MakeRequest = Callable[..., RequestView]


def _year(view: RequestView) -> str:
    return str(view.data["event_start"])[:4]


def test_a_closed_workshop_request_counts_in_its_event_year_and_emb_country(
    imported: Database, make_request: MakeRequest
) -> None:
    closed = make_request("international_workshop", "closed")  # EMB in Honduras
    make_request("international_workshop", "intake")  # not held: not counted
    report = build_report(imported, today=TODAY).to_dict()
    workshops = report["workshops"]
    assert workshops["total"] == 62
    assert workshops["by_year"][_year(closed)]["America"] == 1
    assert "HN" in workshops["countries"]
    assert "HN" in {c["code"] for c in report["countries_reached"]["countries"]}


def test_a_course_in_progress_lists_its_participants_countries(
    db: Database, make_request: MakeRequest
) -> None:
    course = make_request("specialization_course", "in_progress")
    report = build_report(db, today=TODAY).to_dict()
    [listed] = report["courses"]
    assert listed["request_id"] == course.id
    assert listed["source"] == "requests"
    expected = list(dict.fromkeys(p["country"] for p in course.data["participants"]))
    assert listed["countries"] == expected
    assert listed["start"] == course.data["event_start"]
    assert listed["participants"] == len(course.data["participants"])


def test_requests_are_counted_by_programme_and_state_for_the_current_year(
    db: Database, make_request: MakeRequest
) -> None:
    make_request("international_workshop", "intake")
    make_request("international_workshop", "needs_assessment")
    make_request("seminar", "closed")
    requests = build_report(db, today=TODAY).to_dict()["requests"]
    assert requests == {
        "year": 2026,
        "by_programme": {
            "international_workshop": {"intake": 1, "needs_assessment": 1},
            "seminar": {"closed": 1},
        },
        "total": 3,
    }
    next_year = build_report(db, today=TODAY.replace(year=2027)).to_dict()["requests"]
    assert next_year["total"] == 0


def test_most_requested_themes_come_first_with_their_catalogue_labels(
    db: Database, make_request: MakeRequest
) -> None:
    first = make_request("international_workshop", "needs_assessment")
    make_request("internship", "needs_assessment")
    themes = build_report(db, today=TODAY, catalogues=load_catalogues()).to_dict()["themes"]
    assert themes[0]["total"] >= themes[-1]["total"]
    counted = {t["theme"]: t["requests"] for t in themes}
    for theme in first.data["themes"]:
        assert counted[theme] >= 1
    catalogue = load_catalogues().themes
    assert all(t["label"] == catalogue[t["theme"]].label.en for t in themes)


def test_the_years_asked_bound_every_table(imported: Database) -> None:
    report = build_report(imported, year_from=2012, year_to=2013, today=TODAY).to_dict()
    assert list(report["workshops"]["by_year"]) == ["2012", "2013"]
    assert report["workshops"]["total"] == 19
    assert {c["year"] for c in report["courses"]} == {2012, 2013}
    assert {s["year"] for s in report["seminars"]} == {2012, 2013}
    assert report["planned"] == []
    assert report["range"] == {"from": 2012, "to": 2013}
    # discrepancies are about the whole source, whatever the years asked
    assert len(report["discrepancies"]) == 3


def test_the_text_report_prints_the_brochure_table(imported: Database) -> None:
    text = render_text(build_report(imported, year_from=2004, year_to=2015, today=TODAY))
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("Year"))
    assert header.split() == ["Year", "Africa", "America", "Asia", "Europe", "Total"]
    total = next(line for line in lines if line.startswith("Total"))
    assert total.split() == ["Total", "17", "25", "10", "9", "61"]
    assert "the source states 40 countries but its entries name 39" in text


def test_an_empty_database_gives_an_empty_report(db: Database) -> None:
    report = build_report(db, today=TODAY).to_dict()
    assert report["workshops"]["total"] == 0
    assert report["workshops"]["by_year"] == {}
    assert report["courses"] == []
    assert report["discrepancies"] == []
    assert "Total" in render_text(build_report(db, today=TODAY))
