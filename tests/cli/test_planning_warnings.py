"""Planning warnings as an operator meets them: `cicie request show --json` lists the lead times
a workshop can no longer meet and the election whose window its event falls in (issue 14,
items 8 and 9). The command runs on the real clock, so the dates are chosen from today."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from config.planning import load_elections
from tests.conftest import example_steps


@pytest.fixture
def cicie(database_url: str, tmp_path: Path) -> Any:
    runner = CliRunner()
    env = {"CICIE_DATABASE_URL": database_url, "CICIE_HOME": str(tmp_path / "home")}

    def run(*args: Any) -> Any:
        result = runner.invoke(app, [str(a) for a in args], env=env)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return run


def workshop_with_event(cicie: Any, country: str, start: date, end: date) -> int:
    code = f"{country}-EMB"
    emb = ["--code", code, "--name", "Electoral body", "--country", country, "--language", "en"]
    cicie("emb", "add", *emb, "--json")
    request = cicie(
        "request", "new", "international_workshop", "--emb", code, "--title", "W", "--json"
    )
    for step in example_steps("international_workshop"):
        if request["state"] == "logistics":
            break
        data = json.dumps(step.get("data") or {})
        advance = [request["id"], step["trigger"], "--data", data, "--as", step["as"]]
        request = cicie("request", "advance", *advance, "--json")
    dates = {"event_start": start.isoformat(), "event_end": end.isoformat()}
    cicie("request", "update", request["id"], "--data", json.dumps(dates), "--json")
    return int(request["id"])


def test_show_lists_the_lead_times_a_workshop_twenty_days_ahead_can_no_longer_meet(
    cicie: Any,
) -> None:
    """Brochure, financing system: "Air ticket to Mexico City for every participating
    delegate" — twenty days ahead is too late for it and for the visa letters."""
    start = date.today() + timedelta(days=20)
    request_id = workshop_with_event(cicie, "CR", start, start + timedelta(days=2))

    warnings = cicie("request", "show", request_id, "--json", "--lang", "en")["warnings"]

    lead = [w for w in warnings if w["code"] == "lead_time"]
    assert any("Invitation letters for visas" in w["message"] for w in lead)
    assert any("Air tickets of the visiting delegation" in w["message"] for w in lead)
    assert {w["field"] for w in lead} == {"event_start"}


def test_show_names_the_election_a_week_after_the_event(cicie: Any) -> None:
    """The election is one of the centre's list (elections.yaml), far enough ahead that the
    lead times are not what this test is about."""
    soon = date.today() + timedelta(days=120)
    election = next((e for e in load_elections().elections if e.day >= soon), None)
    if election is None:
        pytest.skip("elections.yaml lists no election four months ahead: add the coming ones")
    start = election.day - timedelta(days=7)
    request_id = workshop_with_event(cicie, election.country, start, start + timedelta(days=2))

    warnings = cicie("request", "show", request_id, "--json", "--lang", "es")["warnings"]

    [window] = [w for w in warnings if w["code"] == "election_window"]
    assert window["field"] == "event_start"
    assert str(election.day.year) in window["message"]
    assert "periodo de restricción" in window["message"]
