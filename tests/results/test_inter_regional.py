"""A course whose countries span continents is inter-regional — its own column in the
report, the text and the bars — never the continent of its first country; the brochure's
workshop table is still reproduced as printed."""

from __future__ import annotations

from collections.abc import Callable

from engine.actor import Actor
from engine.service import Engine
from engine.views import RequestView
from i18n.vocabulary import term
from results import countries
from results.charts import bars_svg
from results.history_format import parse_history
from results.importer import import_history
from results.report import build_report, render_text
from storage.db import Database
from tests.conftest import example_steps
from tests.results.conftest import NOW, PRINTED_COLUMN_TOTALS, TODAY

MakeRequest = Callable[..., RequestView]
LEBANON_TUNISIA_PANAMA_GUATEMALA = (
    "Election Results Systems Management: comparative experiences between Latin America and "
    "the Arab world"
)


def _course(report: dict, title: str) -> dict:
    [found] = [c for c in report["courses"] if c["title"] == title]
    return found


def test_the_2015_course_with_lebanon_tunisia_panama_and_guatemala_is_inter_regional(
    imported: Database,
) -> None:
    """Brochure § III: "7 officers from 4 countries participated: Lebanon, Tunisia, Panama,
    and Guatemala's IFES representative" — Asia, Africa and America, not Asia."""
    report = build_report(imported, today=TODAY).to_dict()
    course = _course(report, LEBANON_TUNISIA_PANAMA_GUATEMALA)
    assert course["countries"] == ["LB", "TN", "PA", "GT"]
    assert course["continent"] == "Inter-regional" != "Asia"


def test_a_course_for_one_region_with_a_guest_country_keeps_its_region(
    imported: Database,
) -> None:
    """Brochure § III: "First Specialization Course on Voter Registration for authorities from
    Africa and Haiti": an African course (region africa), Haiti its guest."""
    report = build_report(imported, today=TODAY).to_dict()
    assert _course(report, "Voter Registration (Africa and Haiti)")["continent"] == "Africa"


def test_the_brochure_courses_by_continent_count_five_inter_regional(
    imported: Database,
) -> None:
    """The eleven courses of § III, 2011–2015: four Latin American, one African, one European
    ("for European electoral authorities"), five spanning continents."""
    by = build_report(imported, year_from=2011, year_to=2015, today=TODAY).to_dict()[
        "courses_by_continent"
    ]
    assert by["by_continent"] == {
        "Africa": 1,
        "America": 4,
        "Asia": 0,
        "Europe": 1,
        "Oceania": 0,
        "Inter-regional": 5,
    }
    assert by["total"] == 11
    assert by["by_year"]["2015"]["Inter-regional"] == 2
    assert by["year_totals"] == {"2011": 2, "2012": 2, "2013": 2, "2014": 3, "2015": 2}


def test_the_workshop_totals_are_still_the_brochures_61(imported: Database) -> None:
    """Brochure § III table: "Total 17 25 10 9 61" — no workshop of it spans continents, so the
    table has no inter-regional column."""
    workshops = build_report(imported, year_from=2004, year_to=2015, today=TODAY).to_dict()[
        "workshops"
    ]
    assert workshops["by_continent"] == PRINTED_COLUMN_TOTALS | {"Oceania": 0}
    assert workshops["total"] == 61
    assert all("Inter-regional" not in row for row in workshops["by_year"].values())


def test_the_four_continents_of_the_2015_course_are_still_checked_by_country(
    imported: Database,
) -> None:
    """Brochure § III: "12 participants from 10 countries in Africa, America, Asia and Europe
    attended" — inter-regional, and its stated continents agree with its countries."""
    report = build_report(imported, today=TODAY).to_dict()
    course = _course(report, "The Role of the Electoral Body in the Political Parties Regime")
    assert course["continent"] == "Inter-regional"
    assert not [d for d in report["discrepancies"] if "Political Parties Regime" in d["where"]]


def test_a_joint_workshop_across_continents_gets_an_inter_regional_column(db: Database) -> None:
    """A workshop whose source prints no continent column for it and whose countries span two
    continents is counted in a column of its own, after the five continents."""
    source = parse_history(
        """
source: joint
activities:
  - {programme: international_workshop, year: 2017, countries: [MX, ES]}
  - {programme: international_workshop, year: 2017, countries: [PE]}
""",
        path="joint.yaml",
    )
    import_history(db, source, NOW)
    report = build_report(db, today=TODAY)
    workshops = report.to_dict()["workshops"]
    assert workshops["by_continent"] == {
        "Africa": 0,
        "America": 1,
        "Asia": 0,
        "Europe": 0,
        "Oceania": 0,
        "Inter-regional": 1,
    }
    assert list(workshops["by_year"]["2017"])[-1] == "Inter-regional"
    text = render_text(report)
    assert "Inter-regional" in text.splitlines()[2]  # the table's header
    svg = bars_svg(workshops["by_year"], title="Workshops", language="es")
    assert 'data-continent="Inter-regional" data-count="1"' in svg
    assert "Interregional (1)" in svg  # the legend, in Spanish


def test_inter_regional_is_said_in_every_language() -> None:
    assert term("continent", countries.INTER_REGIONAL, "es") == "Interregional"
    assert term("continent", countries.INTER_REGIONAL, "fr") == "Interrégional"
    assert term("continent", countries.INTER_REGIONAL, "ar") == "أقاليمي"
    assert term("continent", countries.INTER_REGIONAL, "pt") == "Inter-regional"


def test_a_course_request_with_participants_from_several_continents(
    db: Database, make_request: MakeRequest, engine: Engine
) -> None:
    """Brochure § 2.3: a course is "for a specific region". Declared for Latin America, a course
    with guests from Africa and Asia stays a Latin American course (its region decides, as for
    the 2011 course "for authorities from Africa and Haiti"); declared inter-regional, or
    without a region among its participants' continents, it is inter-regional — never the
    continent of its first participant."""
    course = make_request("specialization_course", "logistics")
    [logistics] = [
        s for s in example_steps("specialization_course") if s["trigger"] == "confirm_logistics"
    ]
    people = logistics["data"]["participants"][:3]
    for person, country in zip(people, ("TN", "PH", "PA"), strict=True):
        person["country"] = country
        person["funded_by"] = "founders"
    logistics["data"]["participants"] = people
    actor = Actor.parse(logistics["as"])
    engine.advance(course.id, "confirm_logistics", actor, data=logistics["data"])
    engine.advance(course.id, "start", actor, data={})
    [listed] = build_report(db, today=TODAY).to_dict()["courses"]
    assert (listed["countries"], listed["region"]) == (["TN", "PH", "PA"], "latin_america")
    assert listed["continent"] == "America"

    engine.update(course.id, actor, data={"region": "inter_regional"})
    report = build_report(db, today=TODAY).to_dict()
    assert report["courses"][0]["continent"] == "Inter-regional" != "Africa"
    assert report["courses_by_continent"]["by_continent"]["Inter-regional"] == 1
