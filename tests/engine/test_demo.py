"""`make run` on an empty database shows a realistic picture: the 2016 calendar in many states."""

from __future__ import annotations

import yaml

from engine.demo import DEMO_FILE, load_demo
from engine.service import Engine


def test_demo_requests_stand_in_the_states_the_demo_file_declares(engine: Engine) -> None:
    declared = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))["requests"]
    assert load_demo(engine) == len(declared)
    views = engine.list_requests()
    assert [(v.title, v.state) for v in views] == [(d["title"], d["state"]) for d in declared]
    assert len({v.state for v in views}) >= 8, "varied states"


def test_demo_is_loaded_only_into_an_empty_database(engine: Engine) -> None:
    first = load_demo(engine)
    assert first > 0
    assert load_demo(engine) == 0
    assert len(engine.list_requests()) == first
