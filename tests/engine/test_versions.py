"""A request keeps the definition version it started with, even after the file changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config.catalogues import load_catalogues
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.errors import GuardFailed
from engine.registry import WorkflowRegistry
from engine.service import Engine
from workflows.loader import WORKFLOW_DIR


def _engine(runtime: Runtime, directory: Path, clock: ManualClock) -> Engine:
    registry = WorkflowRegistry(load_catalogues(), directory)
    registry.sync(runtime.db, clock)
    return Engine(runtime.db, registry, runtime.catalogues, clock=clock)


def test_an_edited_definition_becomes_a_new_version_and_old_requests_keep_theirs(
    runtime: Runtime, tmp_path: Path, clock: ManualClock
) -> None:
    folder = tmp_path / "workflows"
    folder.mkdir()
    shutil.copy(WORKFLOW_DIR / "seminar.yaml", folder / "seminar.yaml")
    before = _engine(runtime, folder, clock)
    before.add_emb(code="OAS", name="OAS", country="US", language="es")
    coordinator = Actor("coordinator", "ana")
    old = before.create("seminar", emb_code="OAS", title="Old rules", actor=coordinator)
    assert old.workflow_version == 1

    # the edit: the seminar now also needs its co-organisers at intake
    text = (folder / "seminar.yaml").read_text(encoding="utf-8")
    edited = text.replace("requires: [seminar_topic", "requires: [co_organisers, seminar_topic", 1)
    assert edited != text
    (folder / "seminar.yaml").write_text(edited, encoding="utf-8")
    after = _engine(runtime, folder, clock)  # a restart with the edited file
    new = after.create("seminar", emb_code="OAS", title="New rules", actor=coordinator)
    assert new.workflow_version == 2

    data = {
        "seminar_topic": "Electoral integrity",
        "topic_criterion": "current_concerns",
        "themes": ["institutionalisation.electoral_legislation"],
    }
    with pytest.raises(GuardFailed) as refused:
        after.advance(new.id, "accept", coordinator, data=data)
    assert any(f.get("field") == "co_organisers" for f in refused.value.failures)
    moved = after.advance(old.id, "accept", coordinator, data=data)
    assert (moved.state, moved.workflow_version) == ("needs_assessment", 1)


def test_registering_the_same_files_twice_keeps_one_version(
    runtime: Runtime, clock: ManualClock
) -> None:
    again = WorkflowRegistry(load_catalogues())
    again.sync(runtime.db, clock)
    assert {again.current(n).version for n in again.names()} == {1}
