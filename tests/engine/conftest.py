"""Requests whose event is still to come.

The bundled examples replay the brochure's 2016 events and say so (`past_event: true`); on the
tests' clock (12 January 2026) their timers are already past when armed and the late policy
skips them (issue 14, item 6). Tests of deadlines that must be pending, then fire, drive the
same example with its logistics moved to an event ahead of that clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from engine.actor import Actor
from engine.service import Engine
from engine.views import RequestView
from tests.conftest import example_steps

# Monday 1 June to Friday 12 June 2026: after the tests' today, weekdays as in the examples,
# no Mexican holiday within the report's 30 days after the event
UPCOMING_START, UPCOMING_END = date(2026, 6, 1), date(2026, 6, 12)


@pytest.fixture
def make_upcoming_request(
    engine: Engine, make_emb: Callable[..., str], coordinator: Actor
) -> Callable[..., RequestView]:
    """Like `make_request`, with the event on `start`..`end` and not recorded as past."""

    def make(
        programme: str = "international_workshop",
        state: str = "intake",
        start: date = UPCOMING_START,
        end: date = UPCOMING_END,
    ) -> RequestView:
        view = engine.create(
            programme, emb_code=make_emb(), title=f"{programme} request", actor=coordinator
        )
        for step in example_steps(programme):
            if view.state == state:
                return view
            data: dict[str, Any] = dict(step.get("data") or {})
            if step["trigger"] == "confirm_logistics":
                data.pop("past_event", None)
                data.update(event_start=start.isoformat(), event_end=end.isoformat())
            view = engine.advance(view.id, step["trigger"], Actor.parse(step["as"]), data=data)
        assert view.state == state, f"{programme} never reached {state}"
        return view

    return make
