"""The calendars' answers kept between processes (issue 16): a process that finds them in the
definition cache counts business days without importing the `holidays` package or PyYAML,
and counts them exactly as the package and the closures file say."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import holidays
import pytest

from config import file_cache
from engine import calendars

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from datetime import date
from pathlib import Path
from config import file_cache
file_cache.use_dir(Path(sys.argv[1]))
from engine import calendars
from engine.business_time import BusinessTime
business = BusinessTime()
print(json.dumps({
    "mx": sorted(
        d.isoformat() for y in (2025, 2026, 2027) for d in calendars.public_holidays("MX", y)
    ),
    "hn": sorted(d.isoformat() for d in calendars.public_holidays("HN", 2026)),
    "weekend": {c: sorted(calendars._weekend(c)) for c in ("MX", "AE", "ZZ")},
    "supported": sorted(calendars.supported_countries()),
    "unknown": sorted(calendars.public_holidays("ZZ", 2026)),
    "closures": [[c.day.isoformat(), c.name] for c in calendars.load_closures()],
    "counted": business.add_days(date(2026, 12, 18), 12, working=True, country="HN").isoformat(),
    "loaded": sorted(m for m in ("holidays", "yaml") if m in sys.modules),
}))
"""


def _probe(cache_dir: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(cache_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(done.stdout))


@pytest.fixture
def kept(tmp_path: Path) -> Iterator[Path]:
    """This process keeps calendar values in `tmp_path` for the test, then forgets them."""
    file_cache.use_dir(tmp_path)
    calendars._store.cache_clear()
    calendars.load_closures.cache_clear()
    yield tmp_path
    file_cache.use_dir(None)
    calendars._store.cache_clear()
    calendars.load_closures.cache_clear()


def test_a_warm_cache_answers_without_the_holidays_package_or_yaml(tmp_path: Path) -> None:
    first = _probe(tmp_path)  # fills the cache: reads the package and the file
    second = _probe(tmp_path)
    assert first.pop("loaded") == ["holidays", "yaml"]
    assert second.pop("loaded") == []
    assert first == second
    # the package's own answers
    mx = {
        d.isoformat() for y in (2025, 2026, 2027) for d in holidays.country_holidays("MX", years=y)
    }
    assert set(second["mx"]) == mx
    assert set(second["hn"]) == {d.isoformat() for d in holidays.country_holidays("HN", years=2026)}
    assert set(second["supported"]) == set(holidays.list_supported_countries())
    assert second["weekend"]["AE"] == sorted(holidays.country_holidays("AE").weekend)
    assert second["weekend"]["ZZ"] == [5, 6]
    assert second["unknown"] == []
    assert [tuple(c) for c in second["closures"]] == [
        (c.day.isoformat(), c.name) for c in calendars._read_closures(calendars.CLOSURES_FILE)
    ]


def test_an_unreadable_holiday_file_is_written_again(tmp_path: Path) -> None:
    _probe(tmp_path)
    [kept_file] = tmp_path.glob("holidays-*.json")
    kept_file.write_text("{not json", encoding="utf-8")
    again = _probe(tmp_path)
    assert again["loaded"] == ["holidays"]  # the closures are still kept; the holidays not
    assert "values" in json.loads(kept_file.read_text(encoding="utf-8"))


def test_a_changed_closures_file_is_read_again(kept: Path, tmp_path_factory: Any) -> None:
    closures = tmp_path_factory.mktemp("closures") / "ine_closures.yaml"
    closures.write_text("closures:\n  - {date: 2026-03-02, name: Inventory}\n", encoding="utf-8")
    assert calendars.load_closures(closures) == (calendars.Closure(date(2026, 3, 2), "Inventory"),)
    calendars.load_closures.cache_clear()
    closures.write_text("closures:\n  - {date: 2026-03-03, name: Moved}\n", encoding="utf-8")
    assert calendars.load_closures(closures) == (calendars.Closure(date(2026, 3, 3), "Moved"),)
    assert len(list(kept.glob("closures-*.pickle"))) == 1  # the stale value is gone


def test_a_broken_closures_file_is_never_kept(kept: Path, tmp_path_factory: Any) -> None:
    closures = tmp_path_factory.mktemp("closures") / "ine_closures.yaml"
    closures.write_text("closures:\n  - {date: 2026-02-30, name: Nope}\n", encoding="utf-8")
    for _ in range(2):
        calendars.load_closures.cache_clear()
        with pytest.raises(calendars.InvalidClosures, match="2026-02-30"):
            calendars.load_closures(closures)
    assert list(kept.glob("closures-*.pickle")) == []
