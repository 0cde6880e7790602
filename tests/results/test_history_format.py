"""The history format: YAML and CSV say the same things, every problem is reported with its
line, and nothing is dropped or fixed silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from results.history_format import InvalidHistory, checksum, parse_history
from results.records import HistorySource

YAML = """\
format: cicie-history/1
source: sample
stated:
  - {programme: international_workshop, year: 2017, activities: 3, countries: 2}
activities:
  - programme: international_workshop
    year: 2017
    countries: [Perú]
    count: 2
  - programme: international_workshop
    year: 2017
    countries: [Egypt, Libya, TN]
    listed_under: Africa
    reading: one joint workshop
  - programme: specialization_course
    title: Voter registration
    start: 2017-05-22
    end: 2017-05-26
    region: latin_america
    countries: [CL, AR]
    participants: 14
    stated_countries: 3
"""

CSV = (
    "record,source,programme,year,start,end,title,countries,count,listed_under,region,participants,stated_countries,reading,activities\n"
    "stated,sample,international_workshop,2017,,,,2,,,,,,,3\n"
    "activity,sample,international_workshop,2017,,,,Perú,2,,,,,,\n"
    "activity,sample,international_workshop,2017,,,,Egypt;Libya;TN,,Africa,,,,one joint workshop,\n"
    "activity,sample,specialization_course,,2017-05-22,2017-05-26,Voter registration,"
    "CL;AR,,,latin_america,14,3,,\n"
)


def test_a_csv_saved_by_excel_with_a_byte_order_mark_reads_the_same() -> None:
    from_excel = parse_history("\ufeff" + CSV, path="sample.csv")
    assert checksum(from_excel) == checksum(parse_history(CSV, path="sample.csv"))


def _problems(error: pytest.ExceptionInfo[InvalidHistory]) -> list[tuple[int, str]]:
    return [(p.line, p.message) for p in error.value.problems]


def test_yaml_and_csv_files_with_the_same_content_give_the_same_records() -> None:
    from_yaml = parse_history(YAML, path="sample.yaml")
    from_csv = parse_history(CSV, path="sample.csv")
    assert checksum(from_yaml) == checksum(from_csv)
    assert [a.key for a in from_yaml.activities] == [
        "international_workshop:2017:PE#1",
        "international_workshop:2017:PE#2",
        "international_workshop:2017:EG+LY+TN#1",
        "specialization_course:2017:voter-registration#1",
    ]
    course = from_yaml.activities[-1]
    assert course.year == 2017
    assert course.countries == ("CL", "AR")
    assert from_yaml.claims[0].activities == 3
    assert from_yaml.claims[0].countries == 2


def test_a_count_stands_for_that_many_activities_with_keys_of_their_own() -> None:
    source = parse_history(YAML, path="sample.yaml")
    peru = [a for a in source.activities if a.countries == ("PE",)]
    assert len(peru) == 2
    assert len({a.key for a in peru}) == 2


def test_unknown_country_names_are_reported_with_their_line_and_nothing_is_imported() -> None:
    text = YAML.replace("[Perú]", "[Perú, Narnia]").replace("[CL, AR]", "[CL,\n      Mordor]")
    with pytest.raises(InvalidHistory) as error:
        parse_history(text, path="sample.yaml")
    assert _problems(error) == [
        (8, "unknown country 'Narnia' in 'countries'"),
        (21, "unknown country 'Mordor' in 'countries'"),
    ]
    assert error.value.code == "invalid_history"
    assert "sample.yaml:8: unknown country 'Narnia'" in error.value.message


def test_csv_problems_name_the_row_line() -> None:
    text = CSV.replace("Egypt;Libya;TN", "Egypt;Atlantis;TN").replace("2017-05-26", "2017-13-01")
    with pytest.raises(InvalidHistory) as error:
        parse_history(text, path="sample.csv")
    assert _problems(error) == [
        (4, "unknown country 'Atlantis' in 'countries'"),
        (5, "'end' must be a date YYYY-MM-DD, not '2017-13-01'"),
    ]


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = """\
format: cicie-history/2
source: Bad Name
activities:
  - programme: workshop
    year: 2017
  - programme: international_workshop
    year: 2017
    colour: red
  - programme: specialization_course
    start: 2017-05-26
    end: 2017-05-22
    stated_continents: [Atlantis]
"""
    with pytest.raises(InvalidHistory) as error:
        parse_history(text, path="bad.yaml")
    messages = [m for _, m in _problems(error)]
    assert any("'format' must be 'cicie-history/1'" in m for m in messages)
    assert any("'programme' must be one of" in m for m in messages)
    assert any("'colour' is not a field of an activity" in m for m in messages)
    assert any("must name its country" in m for m in messages)
    assert any("'end' 2017-05-22 is before 'start' 2017-05-26" in m for m in messages)
    assert any("unknown continent 'Atlantis'" in m for m in messages)
    assert any("source name 'Bad Name'" in m for m in messages)


def test_unknown_themes_are_refused_when_the_catalogue_is_given() -> None:
    text = YAML.replace("participants: 14", "participants: 14\n    themes: [no.such_theme]")
    with pytest.raises(InvalidHistory) as error:
        parse_history(text, path="sample.yaml", theme_ids={"electoral_cycle.voter_registry"})
    assert _problems(error) == [(22, "unknown theme 'no.such_theme' (see config/catalogues)")]


def test_invalid_yaml_is_reported_with_its_line() -> None:
    with pytest.raises(InvalidHistory) as error:
        parse_history("source: x\nactivities: [\n", path="broken.yaml")
    assert error.value.problems[0].message.startswith("not valid YAML")


def test_the_bundled_brochure_transcription_parses(brochure: HistorySource) -> None:
    assert brochure.name == "brochure-2016"
    held = [a for a in brochure.activities if a.status == "held"]
    planned = [a for a in brochure.activities if a.status == "planned"]
    assert sum(a.programme == "international_workshop" for a in held) == 61
    assert sum(a.programme == "specialization_course" for a in held) == 11
    assert sum(a.programme == "seminar" for a in held) == 5
    assert len(planned) == 11  # 6 workshops/internships, 3 courses, 2 seminars (§ IV)
    assert len({a.key for a in brochure.activities}) == len(brochure.activities)


def test_a_file_name_gives_the_source_when_the_file_does_not(tmp_path: Path) -> None:
    text = CSV.replace(",sample,", ",,")
    assert parse_history(text, path=str(tmp_path / "Past Workshops.csv")).name == "past-workshops"
