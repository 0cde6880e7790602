"""docs/results.md cannot silently fall behind the format and the commands."""

from __future__ import annotations

from pathlib import Path

from cli.results_cmd import TABLES
from results.history_format import ACTIVITY_FIELDS, CLAIM_FIELDS, REGIONS

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "results.md"


def test_every_field_region_and_table_is_documented() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    names = [*ACTIVITY_FIELDS, *CLAIM_FIELDS, *REGIONS, *TABLES]
    missing = [name for name in names if f"`{name}`" not in text]
    assert not missing, f"document these in docs/results.md: {missing}"


def test_the_screenshots_the_guide_links_exist() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for name in ("results-workshops-map", "results-activities-map", "results-workshops-by-year"):
        assert f"images/{name}.png" in text
        assert (GUIDE.parent / "images" / f"{name}.png").is_file()
