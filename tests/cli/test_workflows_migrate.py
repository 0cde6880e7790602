"""`cicie workflows migrate NAME --to V [--dry-run] [--json]` and `cicie workflows diff NAME V1
V2`, as a coordinator runs them after a workflow file changed. On SQLite and PostgreSQL.

Requests are made on version 1 (the shipped seminar) through the engine; version 2 is the
edited copy of `tests.engine.test_migrate.seminar_v2`, registered when the command starts with
CICIE_WORKFLOW_DIR pointing at it, exactly as a restart with the edited file would."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from config.catalogues import load_catalogues
from engine.actor import Actor
from engine.clock import ManualClock
from engine.registry import WorkflowRegistry
from engine.service import Engine
from storage import workflow_versions
from storage.db import Database
from tests.conftest import START, example_steps
from tests.engine.test_migrate import seminar_v2

Run = Callable[..., Result]
COORDINATOR = Actor("coordinator", "ana")


@pytest.fixture
def v1(database_url: str) -> Iterator[Engine]:
    """The shipped workflows registered as version 1, with an engine to make requests."""
    db = Database(database_url)
    catalogues = load_catalogues()
    registry = WorkflowRegistry(catalogues)
    clock = ManualClock(START)
    registry.sync(db, clock)
    engine = Engine(db, registry, catalogues, clock=clock)
    engine.add_emb(code="OAS", name="OAS", country="US", language="es")
    yield engine
    db.dispose()


def seminar_in(engine: Engine, state: str) -> int:
    view = engine.create("seminar", emb_code="OAS", title=f"Forum ({state})", actor=COORDINATOR)
    for step in example_steps("seminar"):
        if view.state == state:
            break
        view = engine.advance(view.id, step["trigger"], Actor.parse(step["as"]), data=step["data"])
    assert view.state == state
    return view.id


@pytest.fixture
def made(v1: Engine) -> dict[str, int]:
    return {state: seminar_in(v1, state) for state in ("intake", "agenda_design", "ready")}


@pytest.fixture
def edited(v1: Engine, tmp_path: Path) -> Path:
    """A workflow folder holding version 2 of the seminar."""
    with v1.db.read() as conn:
        source = workflow_versions.source_of(conn, "seminar", 1)
    assert source is not None
    folder = tmp_path / "edited"
    folder.mkdir()
    (folder / "seminar.yaml").write_text(seminar_v2(source), encoding="utf-8")
    return folder


@pytest.fixture
def cicie(database_url: str, tmp_path: Path) -> Callable[..., Result]:
    runner = CliRunner()

    def run(*args: Any, workflows: Path | None = None) -> Result:
        env = {
            "CICIE_DATABASE_URL": database_url,
            "CICIE_HOME": str(tmp_path / "home"),
            "CICIE_LANG": "en",
        }
        if workflows is not None:
            env["CICIE_WORKFLOW_DIR"] = str(workflows)
        return runner.invoke(app, [str(a) for a in args], env=env)

    return run


def test_the_dry_run_shows_each_request_and_changes_nothing(
    cicie: Run, made: dict[str, int], edited: Path, v1: Engine
) -> None:
    before = [v1.get(i) for i in made.values()]
    result = cicie(
        "workflows", "migrate", "seminar", "--to", 2, "--dry-run", "--json", workflows=edited
    )
    assert result.exit_code == 1, result.output  # one request cannot move
    out = json.loads(result.stdout)
    assert {k: out[k] for k in ("workflow", "from_versions", "to", "dry_run", "migrated")} == {
        "workflow": "seminar",
        "from_versions": [1],
        "to": 2,
        "dry_run": True,
        "migrated": [],
    }
    assert out["refused"] == [made["ready"]]
    requests = {r["id"]: r for r in out["requests"]}
    assert set(requests) == set(made.values())
    agenda = requests[made["agenda_design"]]
    assert set(agenda) == {
        "id",
        "title",
        "state",
        "held_from",
        "from_version",
        "to_state",
        "to_held_from",
        "movable",
        "reasons",
        "invalid_data",
        "timers",
    }
    assert (agenda["state"], agenda["to_state"], agenda["movable"]) == (
        "agenda_design",
        "agenda_design",
        True,
    )
    assert agenda["invalid_data"][0]["field"] == "budget_code"
    (move,) = agenda["timers"]["move"]
    assert (move["timer"], move["occurrence"]) == ("agenda_approval", 0)
    assert move["from"] > move["to"]
    intake = requests[made["intake"]]
    assert [c["timer"] for c in intake["timers"]["cancel"]] == ["stale_intake"] * 3
    assert all("why" in c for c in intake["timers"]["cancel"])
    ready = requests[made["ready"]]
    assert ready["movable"] is False
    assert ready["to_state"] is None
    assert "no counterpart in v2" in ready["reasons"][0]
    assert [v1.get(i) for i in made.values()] == before


def test_migrating_moves_the_others_and_reports_the_one_that_cannot_move(
    cicie: Run, made: dict[str, int], edited: Path, v1: Engine
) -> None:
    result = cicie("workflows", "migrate", "seminar", "--to", 2, "--json", workflows=edited)
    assert result.exit_code == 1, result.output
    out = json.loads(result.stdout)
    assert out["dry_run"] is False
    assert sorted(out["migrated"]) == sorted([made["intake"], made["agenda_design"]])
    assert out["refused"] == [made["ready"]]
    for key in ("intake", "agenda_design"):
        view = v1.get(made[key])
        assert (view.workflow_version, view.state) == (2, key)
        last = v1.history(made[key])[-1]
        assert (last.trigger, last.actor, last.comment) == (
            "migrate",
            "admin:admin",
            "workflow v1 → v2",
        )
    assert v1.get(made["ready"]).workflow_version == 1

    # nothing left that can move: the text form says so, and exit 1 for the one left behind
    text = cicie(
        "workflows", "migrate", "seminar", "--to", 2, "--as", "coordinator:ana", workflows=edited
    )
    assert text.exit_code == 1
    assert text.stdout.splitlines() == [
        "seminar → v2",
        f"#{made['ready']} Forum (ready) [ready, v1] cannot move: state 'ready' has no "
        "counterpart in v2: map it under 'migrations: states:' of v2",
        "0 moved, 1 cannot move",
    ]


def test_when_every_request_can_move_the_command_succeeds(
    cicie: Run, v1: Engine, edited: Path
) -> None:
    request = seminar_in(v1, "agenda_design")
    dry = cicie("workflows", "migrate", "seminar", "--to", 2, "--dry-run", workflows=edited)
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines()[:2] == [
        "seminar → v2 (dry run)",
        f"#{request} Forum (agenda_design) [agenda_design, v1] → agenda_design",
    ]
    assert dry.stdout.splitlines()[-1] == "1 would move, 0 cannot move"
    assert v1.get(request).workflow_version == 1
    done = cicie("workflows", "migrate", "seminar", "--to", 2, "--json", workflows=edited)
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["migrated"] == [request]


def test_unknown_programmes_and_versions_are_not_found(cicie: Run, made: dict[str, int]) -> None:
    for args in (("nope", "--to", 1), ("seminar", "--to", 2)):
        result = cicie("workflows", "migrate", *args, "--dry-run", "--json")
        assert result.exit_code == 1, result.output
        assert json.loads(result.stdout)["error"]["code"] == "not_found"
    missing = cicie("workflows", "diff", "seminar", 1, 9, "--json")
    assert missing.exit_code == 1
    assert json.loads(missing.stdout)["error"]["message"] == (
        "workflow seminar has no version 9 (stored: 1)"
    )
    usage = cicie("workflows", "migrate", "seminar", "--dry-run")
    assert usage.exit_code == 2  # --to is required


def test_diff_lists_what_changed(cicie: Run, edited: Path) -> None:
    result = cicie("workflows", "diff", "seminar", 1, 2, "--json", workflows=edited)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["workflow"], out["from"], out["to"]) == ("seminar", 1, 2)
    assert set(out) >= {"states", "transitions", "guards", "timers", "fields", "migrations"}
    assert out["states"]["added"] == ["assessment"]
    assert out["states"]["removed"] == ["needs_assessment", "ready"]
    assert out["fields"] == {"added": ["budget_code"], "removed": [], "changed": []}
    approval = next(c for c in out["timers"]["changed"] if c["name"] == "agenda_approval")
    assert approval == {"name": "agenda_approval", "changes": {"days": [14, 10]}}
    text = cicie("workflows", "diff", "seminar", 1, 2, workflows=edited)
    assert text.exit_code == 0
    lines = text.stdout.splitlines()
    assert lines[0] == "seminar v1 → v2"
    assert "  + budget_code" in lines
    assert lines[-1] == "migrations from v1: needs_assessment → assessment"
