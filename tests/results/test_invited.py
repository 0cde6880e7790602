"""Organisations invited to an activity (the brochure's "Invitation to international
specialized bodies: OSCE, IDEA International, NDI, among others") are recorded as invited,
never as co-organising partners, and the partner catalogue knows them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from config.catalogues import load_catalogues
from engine.actor import Actor
from engine.service import Engine
from engine.views import RequestView
from results.history_format import InvalidHistory, checksum, parse_history
from results.importer import import_history
from results.records import HistorySource
from results.report import build_report
from storage.db import Database
from tests.conftest import example_steps
from tests.results.conftest import NOW, TODAY, dump

MakeRequest = Callable[..., RequestView]


def _planned(report: dict, title: str) -> dict:
    [found] = [p for p in report["planned"] if p["title"] == title]
    return found


def test_the_2016_electronic_voting_course_invites_osce_idea_and_ndi(imported: Database) -> None:
    """Brochure § IV: "Electronic Voting from Abroad April 18th-22nd … Invitation to
    international specialized bodies: OSCE, IDEA International, NDI, among others"."""
    report = build_report(imported, today=TODAY).to_dict()
    course = _planned(report, "Electronic Voting from Abroad")
    assert course["invited"] == ["OSCE", "IDEA", "NDI"]
    assert course["partners"] == []


def test_the_november_course_collaborates_with_the_community_and_invites_idea(
    imported: Database,
) -> None:
    """Brochure § IV: "Collaboration with the Community of Democracies … Invitation to
    international specialized bodies: IDEA International"."""
    report = build_report(imported, today=TODAY).to_dict()
    course = _planned(
        report, "Electoral Risk Management or Accessibility and Political Participation"
    )
    assert (course["partners"], course["invited"]) == (["COMMUNITY_OF_DEMOCRACIES"], ["IDEA"])


def test_every_invited_or_partner_code_of_the_brochure_is_in_the_partner_catalogue(
    brochure: HistorySource,
) -> None:
    catalogue = load_catalogues().partners
    codes = {c for a in brochure.activities for c in (*a.partners, *a.invited)}
    assert {c for c in codes if c not in catalogue} == set()
    assert catalogue["OSCE"].kind == catalogue["NDI"].kind == "invited"


def test_an_organisation_both_co_organising_and_invited_is_refused_with_its_line() -> None:
    text = """source: x
activities:
  - programme: seminar
    year: 2016
    partners: [OAS]
    invited: [OAS, NDI]
"""
    with pytest.raises(InvalidHistory) as refused:
        parse_history(text, path="x.yaml")
    assert [(p.line, p.message) for p in refused.value.problems] == [
        (6, "'OAS' is in both 'partners' and 'invited'")
    ]


def test_invited_organisations_survive_the_import_and_a_second_import_writes_nothing(
    db: Database,
) -> None:
    text = """source: annual-2016
activities:
  - {programme: seminar, year: 2016, title: Forum, partners: [OAS], invited: [OSCE, NDI]}
"""
    source = parse_history(text, path="annual.yaml")
    import_history(db, source, NOW)
    before = dump(db)
    assert import_history(db, source, NOW).changed is False
    assert dump(db) == before
    [seminar] = build_report(db, today=TODAY).to_dict()["seminars"]
    assert (seminar["partners"], seminar["invited"]) == (["OAS"], ["OSCE", "NDI"])


def test_a_csv_file_has_an_invited_column() -> None:
    csv_text = "programme,year,title,partners,invited\nseminar,2016,Forum,OAS,OSCE;NDI\n"
    yaml_text = """source: forum
activities:
  - {programme: seminar, year: 2016, title: Forum, partners: [OAS], invited: [OSCE, NDI]}
"""
    from_csv = parse_history(csv_text, path="forum.csv")
    assert from_csv.activities[0].invited == ("OSCE", "NDI")
    assert checksum(from_csv) == checksum(parse_history(yaml_text, path="forum.yaml"))


def test_a_course_request_lists_its_invited_organisations_apart_from_its_co_organisers(
    db: Database, make_request: MakeRequest, engine: Engine
) -> None:
    course = make_request("specialization_course", "agenda_design")
    for step in example_steps("specialization_course"):
        if step["trigger"] in ("accept", "complete_assessment"):
            continue
        data = dict(step.get("data") or {})
        if step["trigger"] == "approve_agenda":
            data["invited_organisations"] = ["OSCE", "NDI"]
        course = engine.advance(course.id, step["trigger"], Actor.parse(step["as"]), data=data)
        if course.state == "in_progress":
            break
    [listed] = build_report(db, today=TODAY).to_dict()["courses"]
    assert listed["invited"] == ["OSCE", "NDI"]
    assert "OSCE" not in listed["partners"]
    assert "OAS" in listed["partners"]
