"""The map and the chart are produced from the report, and say what they show: the tests
read the SVG back (which countries are shaded, which bars stand) and check the PNG files."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from results.charts import BINS, NO_ACTIVITY, map_codes, write_charts
from results.report import build_report
from storage.db import Database
from tests.results.conftest import TODAY

NS = {"svg": "http://www.w3.org/2000/svg"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _shaded(path: Path) -> dict[str, int]:
    root = ET.parse(path).getroot()
    out = {}
    for group in root.iterfind(".//svg:g[@data-code]", NS):
        count = int(group.get("data-count", "0"))
        assert (group.get("fill") == NO_ACTIVITY) == (count == 0)
        if count:
            out[group.get("data-code", "")] = count
    return out


def test_charts_are_written_as_svg_and_png(imported: Database, tmp_path: Path) -> None:
    report = build_report(imported, year_from=2004, year_to=2015, today=TODAY)
    written = write_charts(report, tmp_path / "charts")
    assert sorted(p.name for p in written) == [
        "activities_map.png",
        "activities_map.svg",
        "workshops_by_year.png",
        "workshops_by_year.svg",
        "workshops_map.png",
        "workshops_map.svg",
    ]
    for path in written:
        assert path.stat().st_size > 1000
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_the_workshop_map_shades_exactly_the_countries_the_table_names(
    imported: Database, tmp_path: Path
) -> None:
    report = build_report(imported, year_from=2004, year_to=2015, today=TODAY)
    write_charts(report, tmp_path, png=False)
    shaded = _shaded(tmp_path / "workshops_map.svg")
    expected = {c["code"]: c["activities"] for c in report.to_dict()["workshops"]["by_country"]}
    assert shaded == expected
    assert len(shaded) == 39
    assert shaded["EC"] == 8
    assert shaded["PS"] == 1
    assert shaded["TL"] == 2
    assert "MX" not in shaded
    assert "US" not in shaded
    root = ET.parse(tmp_path / "workshops_map.svg").getroot()
    ecuador = root.find(".//svg:g[@id='country-EC']", NS)
    assert ecuador is not None
    assert ecuador.get("fill") == BINS[3][2]


def test_the_activities_map_adds_the_countries_of_courses(
    imported: Database, tmp_path: Path
) -> None:
    report = build_report(imported, year_from=2004, year_to=2015, today=TODAY)
    write_charts(report, tmp_path, png=False)
    shaded = _shaded(tmp_path / "activities_map.svg")
    assert len(shaded) == report.to_dict()["countries_reached"]["total"]
    assert {"MX", "BR", "MU", "EE", "BG"} <= set(shaded)  # course participants only
    assert shaded["PE"] == 3 + 7  # 3 workshops and 7 courses


def test_every_country_reached_can_be_drawn(imported: Database) -> None:
    reached = build_report(imported, today=TODAY).to_dict()["countries_reached"]
    assert {c["code"] for c in reached["countries"]} <= map_codes()


def test_the_bars_stack_each_year_by_continent(imported: Database, tmp_path: Path) -> None:
    report = build_report(imported, year_from=2004, year_to=2015, today=TODAY)
    write_charts(report, tmp_path, png=False)
    root = ET.parse(tmp_path / "workshops_by_year.svg").getroot()
    segments = {
        (r.get("data-year"), r.get("data-continent")): int(r.get("data-count", "0"))
        for r in root.iterfind(".//svg:rect[@data-year]", NS)
    }
    by_year = report.to_dict()["workshops"]["by_year"]
    expected = {
        (year, continent): n for year, row in by_year.items() for continent, n in row.items() if n
    }
    assert segments == expected
    labels = {t.get("data-total"): t.text for t in root.iterfind(".//svg:text[@data-total]", NS)}
    assert labels["2011"] == "10"
    assert labels["2015"] == "4"
    years = [t.text for t in root.iterfind(".//svg:g[@id='axis']/svg:text", NS)]
    assert "2006" in years
    assert "2007" in years
