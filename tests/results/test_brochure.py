"""Acceptance: from the bundled brochure data the report reproduces the brochure's table —
per-year totals and per-continent totals 2004–2015 — and lists every place where the
brochure's stated figures disagree with what its tables list. On both databases."""

from __future__ import annotations

from dataclasses import replace

from results.records import HistorySource, check
from results.report import build_report
from storage.db import Database
from tests.results.conftest import PRINTED_COLUMN_TOTALS, PRINTED_YEAR_TOTALS, TODAY


def test_report_reproduces_the_brochure_per_year_and_per_continent_totals(
    imported: Database,
) -> None:
    workshops = build_report(imported, year_from=2004, year_to=2015, today=TODAY).to_dict()[
        "workshops"
    ]
    assert workshops["year_totals"] == PRINTED_YEAR_TOTALS
    assert {y: sum(row.values()) for y, row in workshops["by_year"].items()} == (
        PRINTED_YEAR_TOTALS
    )
    assert workshops["by_continent"] == PRINTED_COLUMN_TOTALS | {"Oceania": 0}
    assert workshops["total"] == 61
    # the rows as printed, cell by cell (Africa, America, Asia, Europe)
    cells = {
        y: [row["Africa"], row["America"], row["Asia"], row["Europe"]]
        for y, row in workshops["by_year"].items()
    }
    assert cells == {
        "2004": [0, 1, 1, 0],
        "2005": [0, 3, 0, 0],
        "2008": [0, 0, 0, 1],
        "2009": [2, 1, 3, 0],
        "2010": [3, 2, 0, 1],
        "2011": [3, 2, 3, 2],
        "2012": [4, 4, 0, 2],
        "2013": [1, 7, 1, 0],
        "2014": [2, 4, 2, 2],
        "2015": [2, 1, 0, 1],
    }


def test_discrepancies_list_every_stated_figure_the_brochure_tables_do_not_bear_out(
    imported: Database,
) -> None:
    report = build_report(imported, today=TODAY).to_dict()
    found = [(d["source"], d["where"], d["stated"], d["listed"]) for d in report["discrepancies"]]
    assert found == [
        # "61 Electoral Administration Workshops for 40 countries": the table names 39
        ("brochure-2016", "workshops 2004–2015", 40, 39),
        # "20 electoral officers from 11 countries, including Mexico": 9 named + Mexico
        (
            "brochure-2016",
            "2013 specialization course 'Voter Registration (Latin America)' (May 27–31, 2013)",
            11,
            10,
        ),
        # "20 officers from 11 countries": 7 African, 5 European and El Salvador are named
        (
            "brochure-2016",
            "2013 specialization course 'Electoral Systems and Results Broadcasting' "
            "(December 2–6, 2013)",
            11,
            13,
        ),
    ]
    assert all(d["message"] for d in report["discrepancies"])


def test_the_countries_reached_are_the_39_the_table_names(imported: Database) -> None:
    workshops = build_report(imported, year_from=2004, year_to=2015, today=TODAY).to_dict()[
        "workshops"
    ]
    assert len(workshops["countries"]) == 39
    assert {"HT", "IQ", "BA", "PS", "TL", "GE", "RU", "AL"} <= set(workshops["countries"])
    by_country = {c["code"]: c["activities"] for c in workshops["by_country"]}
    assert by_country["EC"] == 8  # 4 in 2013, 3 in 2014, the joint one of 2015
    assert by_country["GT"] == 4


def test_each_ambiguous_multi_country_entry_says_how_it_was_counted(
    imported: Database,
) -> None:
    readings = build_report(imported, today=TODAY).to_dict()["readings"]
    assert [(r["year"], r["as_printed"], r["counted_as"]) for r in readings] == [
        (2011, "Ethiopia, Botswana and Kenya", 3),
        (2012, "Egypt, Libya and Tunisia", 1),
        (2013, "Peru and Colombia", 1),
        (2015, "Colombia Ecuador and Peru", 1),
    ]


def test_reading_2015s_joint_entry_as_three_workshops_would_break_row_and_column(
    brochure: HistorySource,
) -> None:
    """The other reading of "Colombia Ecuador and Peru" is caught by the printed totals."""
    activities = []
    for a in brochure.activities:
        if a.year == 2015 and a.as_printed == "Colombia Ecuador and Peru":
            activities += [replace(a, key=f"{a.key}/{c}", countries=(c,)) for c in a.countries]
        else:
            activities.append(a)
    found = {(d.where, d.stated, d.listed) for d in check("alt", activities, brochure.claims)}
    assert ("workshops 2015", 4, 6) in found
    assert ("workshops in America 2004–2015", 25, 27) in found
    assert ("workshops 2004–2015", 61, 63) in found


def test_held_activities_exclude_the_2016_calendar_which_is_listed_as_planned(
    imported: Database,
) -> None:
    report = build_report(imported, today=TODAY).to_dict()
    assert "2016" not in report["workshops"]["by_year"]
    planned = report["planned"]
    assert sum(p["programme"] == "international_workshop" for p in planned) == 6
    assert {p["title"] for p in planned if p["programme"] == "seminar"} == {
        "IX Inter-American Electoral Seminar",
        "Latin American Democracy Forum: Civic Education, Political Culture and "
        "Citizenship's Ethics",
    }
    forum = next(p for p in planned if p["start"] == "2016-10-05")
    assert forum["end"] == "2016-10-07"
    workshops_2016 = next(p for p in planned if p["programme"] == "international_workshop")
    assert workshops_2016["countries"] == []
    assert set(workshops_2016["candidates"]) == {"DE", "CZ", "HN", "PE", "CR", "LS", "IN", "MZ"}


def test_courses_and_seminars_carry_dates_regions_countries_and_participants(
    imported: Database,
) -> None:
    report = build_report(imported, year_from=2011, year_to=2015, today=TODAY).to_dict()
    courses = report["courses"]
    assert len(courses) == 11
    first = courses[0]
    assert (first["start"], first["end"], first["region"]) == (
        "2011-10-03",
        "2011-10-07",
        "latin_america",
    )
    assert len(first["countries"]) == 13
    assert first["institutions"] == 15
    europe = next(c for c in courses if c["region"] == "europe")
    assert europe["participants"] == 7
    assert europe["countries"] == [
        "BG",
        "HR",
        "HU",
        "LT",
        "RO",
        "RU",
    ]
    assert [s["year"] for s in report["seminars"]] == [2011, 2012, 2013, 2013, 2013]
