"""Plan around elections (issue 14, item 9): an event inside the blackout window of an election
in the requesting EMB's country (config/catalogues/elections.yaml) or of the request's own
"next election" is warned of, and a workshop timed "before elections" should end some weeks
before election day. Real SQLite and PostgreSQL engines, the clock at 12 January 2026."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from config.planning import InvalidPlanning, load_elections
from engine.actor import Actor
from engine.service import Engine
from engine.warnings import Notice
from tests.conftest import example_steps
from tests.engine.test_lead_times import WORKSHOP, set_dates, warnings_of

PERU_GENERAL = date(2026, 4, 12)  # in elections.yaml


def workshop(engine: Engine, emb: str, *, accept: dict[str, Any] | None = None) -> int:
    """A workshop at the logistics stage, `accept` adding to the example's accept data."""
    coordinator = Actor("coordinator", "ana")
    view = engine.create(WORKSHOP, emb_code=emb, title="Workshop", actor=coordinator)
    for step in example_steps(WORKSHOP):
        if view.state == "logistics":
            break
        data = dict(step.get("data") or {})
        if step["trigger"] == "accept":
            data.update(accept or {})
        view = engine.advance(view.id, step["trigger"], Actor.parse(step["as"]), data=data)
    assert view.state == "logistics"
    return view.id


def coded(notices: list[Notice], code: str) -> list[Notice]:
    return [n for n in notices if n.code == code]


def test_a_workshop_a_week_before_perus_general_election_is_warned_of_it(
    engine: Engine, make_emb: Any
) -> None:
    """The election is taken from the centre's list for the requesting EMB's country."""
    request_id = workshop(engine, make_emb(country="PE"))
    set_dates(engine, request_id, PERU_GENERAL - timedelta(days=7), days=2)

    [window] = coded(warnings_of(engine, request_id), "election_window")

    assert window.field == "event_start"
    assert window.to_dict("en")["message"] == (
        "The event falls within the blackout window of an election in Peru: Elecciones "
        "Generales 2026, on April 12, 2026 (from 30 days before to 15 days after election day)."
    )
    assert "12 de abril de 2026" in window.to_dict("es")["message"]
    assert "Perú" in window.to_dict("es")["message"]


def test_an_event_clear_of_the_window_is_not_warned_of(engine: Engine, make_emb: Any) -> None:
    request_id = workshop(engine, make_emb(country="PE"))
    set_dates(engine, request_id, date(2026, 2, 16), days=2)  # 8 weeks before election day
    assert coded(warnings_of(engine, request_id), "election_window") == []
    assert coded(warnings_of(engine, request_id), "election_timing") == []


def test_the_window_also_holds_after_election_day(engine: Engine, make_emb: Any) -> None:
    request_id = workshop(engine, make_emb(country="PE"))
    set_dates(engine, request_id, PERU_GENERAL + timedelta(days=10), days=1)
    assert len(coded(warnings_of(engine, request_id), "election_window")) == 1


def test_a_workshop_timed_before_elections_should_end_weeks_before_election_day(
    engine: Engine, make_emb: Any
) -> None:
    """Brochure, "Optimal criteria for participation": workshops "are considered to be really
    useful" "Before elctions are held" [sic] — so they should end well before election day
    (six weeks: our choice, in elections.yaml)."""
    request_id = workshop(engine, make_emb(country="PE"))
    set_dates(engine, request_id, date(2026, 3, 2), days=2)  # ends 4 March; by 1 March at best

    notices = warnings_of(engine, request_id)

    assert coded(notices, "election_window") == []  # 39 days before: outside the window
    [timing] = coded(notices, "election_timing")
    assert timing.field == "event_end"
    assert timing.to_dict("en")["message"] == (
        "The request is timed before elections: the event should end at least 6 weeks before "
        "election day (Elecciones Generales 2026, April 12, 2026), by March 1, 2026; it ends "
        "on March 4, 2026."
    )


def test_before_elections_with_no_election_known_asks_for_the_next_one(
    engine: Engine, make_emb: Any
) -> None:
    """Honduras' last listed election (30 November 2025) is past: no coming election is known."""
    request_id = workshop(engine, make_emb(country="HN"))
    [unknown] = coded(warnings_of(engine, request_id), "election_unknown")
    assert unknown.field == "next_election"
    assert "fecha de la próxima elección" in unknown.to_dict("es")["message"]


def test_the_next_election_recorded_on_the_request_opens_its_own_window(
    engine: Engine, make_emb: Any
) -> None:
    next_election = date(2026, 3, 29)
    request_id = workshop(
        engine, make_emb(country="HN"), accept={"next_election": next_election.isoformat()}
    )
    set_dates(engine, request_id, next_election - timedelta(days=5), days=1)

    notices = warnings_of(engine, request_id)

    assert coded(notices, "election_unknown") == []
    [window] = coded(notices, "election_window")
    assert window.to_dict("en")["message"] == (
        "The event falls within the blackout window of the next election recorded on the "
        "request, on March 29, 2026 (from 30 days before to 15 days after election day)."
    )
    [timing] = coded(notices, "election_timing")
    assert "the next election recorded on the request" in timing.to_dict("en")["message"]


def test_a_declined_request_is_not_warned_of_elections(engine: Engine, make_emb: Any) -> None:
    view = engine.create(
        WORKSHOP, emb_code=make_emb(country="PE"), title="W", actor=Actor("coordinator", "ana")
    )
    view = engine.advance(
        view.id, "decline", Actor("coordinator", "ana"), data={"decline_reason": "Out of scope"}
    )
    assert view.state == "declined"
    assert coded(warnings_of(engine, view.id), "election_window") == []


# ---------------------------------------------------------------- the file
def test_the_centres_list_loads_with_its_window_and_the_demo_countries() -> None:
    calendar = load_elections()
    assert (calendar.days_before, calendar.days_after, calendar.before_elections_weeks) == (
        30,
        15,
        6,
    )
    assert {e.country for e in calendar.elections} >= {"HN", "PE", "CR", "KE"}


HEADER = (
    "blackout: {days_before: 30, days_after: 15}\n"
    "before_elections_weeks: 6\n"
    "kinds:\n"
    "  general: {label: General election}\n"
    "elections:\n"
)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("{country: NO, date: 2029-09-10, kind: regional}", "unknown kind 'regional'"),
        ("{country: Norway, date: 2029-09-10, kind: general}", "ISO code"),
        ("{country: NO, date: 2029-02-30, kind: general}", "YYYY-MM-DD"),
        ("{country: NO, date: 2029-09-10, kind: general, when: soon}", "unknown key 'when'"),
    ],
)
def test_a_mistake_in_the_elections_names_the_file_and_line(
    tmp_path: Path, entry: str, problem: str
) -> None:
    path = tmp_path / "elections.yaml"
    path.write_text(f"{HEADER}  - {entry}\n", encoding="utf-8")
    with pytest.raises(InvalidPlanning) as caught:
        load_elections(path)
    assert f"{path}:6:" in str(caught.value)
    assert problem in str(caught.value)


def test_norway_is_read_as_a_country_not_as_false(tmp_path: Path) -> None:
    path = tmp_path / "elections.yaml"
    path.write_text(
        f"{HEADER}  - {{country: NO, date: 2029-09-10, kind: general}}\n", encoding="utf-8"
    )
    [election] = load_elections(path).elections
    assert election.country == "NO"


def test_the_blackout_window_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "elections.yaml"
    header = HEADER.replace("days_before: 30", "days_before: 400")
    path.write_text(header.replace("elections:\n", "elections: []\n"), encoding="utf-8")
    with pytest.raises(InvalidPlanning, match=r":1: a whole number from 0 to 365"):
        load_elections(path)
