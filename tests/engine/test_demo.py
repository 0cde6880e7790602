"""`make run` on an empty database shows a realistic picture: the 2016 calendar in many states,
and the brochure's history, so the results page and its map are full at first sight."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import yaml

from engine.accounts import Accounts
from engine.bootstrap import Runtime
from engine.demo import DEMO_FILE, example_steps, load_demo, load_demo_installation, step_data
from engine.service import Engine
from results.report import build_report

TODAY = date(2026, 1, 12)


def declared() -> list[dict[str, Any]]:
    return list(yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))["requests"])


def test_demo_requests_stand_in_the_states_the_demo_file_declares(engine: Engine) -> None:
    requests = declared()
    assert load_demo(engine) == len(requests)
    views = engine.list_requests()
    assert [(v.title, v.state) for v in views] == [(d["title"], d["state"]) for d in requests]
    assert len({v.state for v in views}) >= 8, "varied states"


def test_demo_is_loaded_only_into_an_empty_database(engine: Engine) -> None:
    first = load_demo(engine)
    assert first > 0
    assert load_demo(engine) == 0
    assert len(engine.list_requests()) == first


def test_a_fresh_demo_imports_the_brochure_history_for_a_full_results_page(
    runtime: Runtime,
) -> None:
    """Brochure § III: "From 2004 to December 2015, 61 Electoral Administration Workshops"."""
    load_demo_installation(runtime.engine, Accounts(runtime.db, runtime.engine.clock))
    report = build_report(runtime.db, today=TODAY, catalogues=runtime.catalogues).to_dict()
    assert report["workshops"]["total"] == 61
    assert len(report["workshops"]["countries"]) == 39  # the map has every country coloured
    assert [s["name"] for s in report["sources"]] == ["brochure-2016"]
    held_titles = {c["title"] for c in report["courses"]}
    assert "Electronic voting from abroad" in held_titles  # demo request 8, held in April 2016


def test_loading_the_demo_twice_imports_the_history_once(runtime: Runtime) -> None:
    accounts = Accounts(runtime.db, runtime.engine.clock)
    load_demo_installation(runtime.engine, accounts)
    before = build_report(runtime.db, today=TODAY).to_dict()
    load_demo_installation(runtime.engine, accounts)
    after = build_report(runtime.db, today=TODAY).to_dict()
    assert after["sources"] == before["sources"]
    assert after["workshops"]["total"] == 61
    assert len(after["courses"]) == len(before["courses"])


def test_no_course_or_other_activity_is_listed_twice_on_the_results_page(
    runtime: Runtime,
) -> None:
    """Demo requests 8 and 9 are two different courses of the 2016 calendar ("Electronic
    Voting from Abroad April 18th-22nd"; "Online Political Parties' Funds Oversight Model May
    5th and 6th"), not the same course data twice."""
    load_demo_installation(runtime.engine, Accounts(runtime.db, runtime.engine.clock))
    report = build_report(runtime.db, today=TODAY).to_dict()
    for table in ("courses", "seminars", "internships", "technical_assistance"):
        listed = Counter((a["title"], a["start"]) for a in report[table])
        assert [k for k, n in listed.items() if n > 1] == [], table
    from_requests = [c for c in report["courses"] if c["request_id"] is not None]
    assert len({(c["title"], c["start"]) for c in from_requests}) == len(from_requests) == 2


def test_no_two_demo_requests_of_a_programme_carry_the_same_data(engine: Engine) -> None:
    load_demo(engine)
    seen: dict[tuple[str, str], int] = {}
    for view in engine.list_requests():
        data = engine.get(view.id).data
        for field in ("course_topic", "seminar_topic", "internship_topic", "needs_summary"):
            if data.get(field):
                key = (field, str(data[field]))
                assert key not in seen, f"request {view.id} repeats request {seen[key]}'s {field}"
                seen[key] = view.id
        if data.get("event_start"):
            key = (view.programme, str(data["event_start"]))
            assert key not in seen, f"request {view.id} has request {seen[key]}'s dates"
            seen[key] = view.id


def test_every_value_a_demo_request_gives_reaches_the_request(engine: Engine) -> None:
    """A demo request's own values replace the example's in the step that sets them; a value
    that no step it goes through sets would be silently lost."""
    load_demo(engine)
    views = {v.title: v for v in engine.list_requests()}
    for item in declared():
        if not item.get("data") and not item.get("add"):
            continue
        view = views[item["title"]]
        data = engine.get(view.id).data
        sent: dict[str, Any] = {}
        for step in example_steps(item["programme"]):
            if step["trigger"] not in {e.trigger for e in engine.history(view.id)}:
                break
            sent |= step_data(item, step)
        for field, value in (item.get("data") or {}).items():
            assert field in sent, f"{item['title']}: no step sets {field!r}"
            assert data[field] == value, (item["title"], field)
