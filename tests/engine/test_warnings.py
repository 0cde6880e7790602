"""Warnings as a result of their own: what does not block a step but a coordinator must see,
from `Engine.show`, `request show --json` and the API, in the reader's language."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from cli.main import app
from engine.actor import Actor
from engine.clock import ManualClock
from engine.service import Engine
from engine.views import RequestView


def course(
    engine: Engine, make_emb: Callable[..., str], region: str, topic: str, **data: Any
) -> RequestView:
    coordinator = Actor("coordinator", "ana")
    view = engine.create(
        "specialization_course", emb_code=make_emb(), title=topic, actor=coordinator
    )
    return engine.update(
        view.id, coordinator, data={"course_topic": topic, "region": region, **data}
    )


def test_a_second_course_in_the_year_warns_naming_the_other_course_and_its_region(
    engine: Engine, make_emb: Callable[..., str], coordinator: Actor
) -> None:
    """§ 2.3: "Two courses are held every year and each one is for a different región" — a
    warning at `accept`, not a refusal."""
    first = course(engine, make_emb, "africa", "Electoral justice in Africa")
    second = course(engine, make_emb, "latin_america", "Party finance online")
    view, available = engine.show(second.id, coordinator)
    (notice,) = view.warnings
    assert notice.code == "course_second_in_year"
    assert notice.field == "region"
    assert notice.message.say("en") == (
        f"Request {first.id}, “Electoral justice in Africa”, is another course of 2026, for "
        "Africa; the brochure holds two courses a year, each for a different region."
    )
    assert "África" in notice.message.say("es")
    # not a refusal: accept stays open once its own rules hold
    data = {"co_organisers": ["OAS"], "themes": ["consolidation.party_finance_audit"]}
    accepted = engine.advance(second.id, "accept", coordinator, data=data)
    assert accepted.state == "needs_assessment"
    assert [a.trigger for a in available if a.trigger == "accept"] == ["accept"]


def test_a_course_for_the_same_region_in_the_year_warns_sharper(
    engine: Engine, make_emb: Callable[..., str], coordinator: Actor
) -> None:
    """§ 2.3: "each one is for a different región"."""
    course(engine, make_emb, "africa", "First")
    second = course(engine, make_emb, "africa", "Second")
    third = course(engine, make_emb, "europe", "Third")
    codes = [n.code for n in engine.show(second.id, coordinator)[0].warnings]
    assert codes.count("course_same_region") == 1
    assert "courses_per_year" in codes
    (too_many,) = [n for n in engine.show(third.id, coordinator)[0].warnings if n.field is None]
    assert too_many.message.say("en") == (
        "3 courses are planned for 2026; the brochure holds two a year."
    )


def test_a_withdrawn_course_does_not_count(
    engine: Engine, make_emb: Callable[..., str], coordinator: Actor
) -> None:
    """§ 2.3: only the courses that will be held count towards "two courses … every year"."""
    first = course(engine, make_emb, "africa", "First")
    engine.advance(first.id, "withdraw", coordinator, data={"withdrawal_reason": "No funds"})
    second = course(engine, make_emb, "europe", "Second")
    assert engine.show(second.id, coordinator)[0].warnings == ()


def test_a_course_alone_in_its_year_has_no_warning(
    engine: Engine, make_emb: Callable[..., str], coordinator: Actor, clock: ManualClock
) -> None:
    """§ 2.3: one course in a year breaks nothing; a course asked for next year counts
    there."""
    only = course(engine, make_emb, "africa", "Only")
    clock.advance(timedelta(days=365))
    course(engine, make_emb, "africa", "Next year")
    assert engine.show(only.id, coordinator)[0].warnings == ()


def test_request_show_json_lists_the_warnings_in_the_chosen_language(
    database_url: str, tmp_path: Path
) -> None:
    """§ 2.3 "Two courses are held every year and each one is for a different región", seen
    by a script: `request show --json` → "warnings": [{"code", "message", "field"}]."""
    runner = CliRunner()
    env = {"CICIE_DATABASE_URL": database_url, "CICIE_HOME": str(tmp_path / "home")}

    def cicie(*args: str) -> Any:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    cicie("emb", "add", "--code", "KE-IEBC", "--name", "IEBC", "--country", "KE",
          "--language", "en", "--json")  # fmt: skip
    ids = []
    for region, topic in (("africa", "Results transmission"), ("europe", "Voting abroad")):
        made = cicie("request", "new", "specialization_course", "--emb", "KE-IEBC",
                     "--title", topic, "--json")  # fmt: skip
        data = json.dumps({"course_topic": topic, "region": region})
        cicie("request", "update", str(made["id"]), "--data", data, "--json")
        ids.append(made["id"])
    shown = cicie("request", "show", str(ids[1]), "--json", "--lang", "es")
    (warning,) = shown["warnings"]
    assert warning["code"] == "course_second_in_year"
    assert warning["field"] == "region"
    assert warning["message"].startswith(f"La solicitud {ids[0]}, «Results transmission»")
    assert "África" in warning["message"]
    first = cicie("request", "show", str(ids[0]), "--json")
    assert [w["code"] for w in first["warnings"]] == ["course_second_in_year"]


def test_a_crowded_year_names_a_few_courses_and_counts_them_all(
    engine: Engine, make_emb: Callable[..., str], coordinator: Actor
) -> None:
    """Dozens of courses in a year: each course's page says how many, and names only the
    first few, same region first (not one sentence per other course)."""
    regions = [
        "europe",
        "asia_pacific",
        "caribbean",
        "asia_pacific",
        "europe",
        "asia_pacific",
        "africa",
    ]
    made = [course(engine, make_emb, region, f"Course {i}") for i, region in enumerate(regions)]
    last = made[-1]  # the only one for Africa
    notices = engine.show(made[1].id, coordinator)[0].warnings
    named = [n for n in notices if n.field == "region"]
    assert len(named) == 3
    assert [n.code for n in named][:2] == ["course_same_region", "course_same_region"]
    (count,) = [n for n in notices if n.field is None]
    assert count.message.say("en").startswith("7 courses are planned for 2026")
    assert len([n for n in engine.show(last.id, coordinator)[0].warnings if n.field]) == 3
