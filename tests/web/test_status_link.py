"""The partner's status page: read-only, the public state, the progress along the main path,
what is expected from the partner, the dates, the reminders that concern them — and nothing
internal (comments, who did what, costs)."""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from config.secret import site_secret
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.links import LinkSigner
from engine.service import Engine
from engine.views import RequestView
from tests.conftest import PROGRAMMES, example_steps
from web.pages.links import main_path

SECRET_COMMENT = "internal note: the budget is tight"
MakeRequest = Callable[..., RequestView]


@pytest.fixture
def make_emb(make_emb: Callable[..., str]) -> Callable[..., str]:
    """EMBs with the address the status links below are issued to: a link is honoured only
    for an address that is still a recipient of the request."""
    return functools.partial(make_emb, email="contact@emb.example", language="en")


def status_url(runtime: Runtime, request_id: int, purpose: str = "status") -> str:
    signer = LinkSigner(site_secret(runtime.settings).get_secret_value(), runtime.engine.clock)
    token = signer.token(request_id, purpose, "contact@emb.example")  # type: ignore[arg-type]
    return f"/status/{token}"


def drive(
    engine: Engine, make_emb: Callable[..., str], programme: str, state: str, **dates: Any
) -> RequestView:
    """A request along its bundled example up to `state`, with the event dates replaced and
    an internal comment on every step."""
    view = engine.create(
        programme,
        emb_code=make_emb(),
        title="Workshop for the electoral body",
        actor=Actor("coordinator", "ana"),
    )
    for step in example_steps(programme):
        if view.state == state:
            break
        data = copy.deepcopy(step.get("data") or {})
        for key, value in dates.items():
            if key in data:
                data[key] = value
        view = engine.advance(
            view.id, step["trigger"], Actor.parse(step["as"]), data=data, comment=SECRET_COMMENT
        )
    assert view.state == state
    return view


def test_a_partner_sees_the_public_state_progress_dates_and_reminders_but_nothing_internal(
    english: TestClient, runtime: Runtime, make_emb: Callable[..., str]
) -> None:
    view = drive(
        runtime.engine,
        make_emb,
        "international_workshop",
        "ready",
        event_start="2026-05-04",
        event_end="2026-05-08",
    )
    response = english.get(status_url(runtime, view.id))
    assert response.status_code == 200
    html = response.text
    assert "International Workshop on Electoral Administration and Justice" in html
    assert "Workshop for the electoral body" in html
    assert 'badge badge-current">Ready' in html
    assert "May 4, 2026" in html
    assert "May 8, 2026" in html
    # the progress list: done, current, to come
    assert html.index("Intake") < html.index("Logistics") < html.index("Closed")
    assert html.count(">done<") == 4
    assert html.count(">current step<") == 1
    assert "Make sure the delegates travel" in html
    # a reminder to the EMB (air tickets, 37 days before the event); none only for CICIE
    assert "Delegates&#39; air tickets" in html
    # nothing internal
    assert SECRET_COMMENT not in html
    assert not re.search(r"\bana\b", html)  # no actor from the history
    assert "founders" not in html
    assert "cost" not in html.lower()
    assert '<form method="post" action="/logout"' not in html
    assert response.headers["cache-control"] == "no-store"


def test_reminders_for_cicie_only_are_not_shown(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "intake")
    labels = [e.label for e in runtime.engine.timeline(view.id)]
    assert "Request waiting at intake" in labels  # to the coordinator only
    html = english.get(status_url(runtime, view.id)).text
    assert "Request waiting at intake" not in html
    assert "Nothing for now: CICIE is reviewing the request." in html


def test_the_step_expected_from_the_partner_follows_the_request(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "logistics")
    assert (
        "Confirm the delegates and their air tickets"
        in english.get(status_url(runtime, view.id)).text
    )
    view = make_request("internship", "final_report")
    runtime.engine.advance(view.id, "mark_overdue", Actor("system", "timer"))
    html = english.get(status_url(runtime, view.id)).text
    assert "Final report overdue" in html
    assert "Send the final report." in html


def test_a_declined_request_has_no_current_step(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "intake")
    runtime.engine.advance(
        view.id, "decline", Actor("coordinator", "ana"), data={"decline_reason": "out of scope"}
    )
    html = english.get(status_url(runtime, view.id)).text
    assert "Declined" in html
    assert ">current step<" not in html
    assert ">not reached<" in html
    assert "out of scope" not in html


def test_status_links_expire_and_a_report_link_does_not_open_the_status(
    english: TestClient, runtime: Runtime, make_request: MakeRequest, clock: ManualClock
) -> None:
    view = make_request("internship", "logistics")
    url = status_url(runtime, view.id)
    report_token = status_url(runtime, view.id, "report").split("/")[-1]
    assert english.get(f"/status/{report_token}").status_code == 404
    clock.advance(timedelta(days=366))
    response = english.get(url)
    assert response.status_code == 410
    assert "new link" in response.text


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_every_programme_has_a_main_path_to_closed(runtime: Runtime, programme: str) -> None:
    """Only the internship waits for a final report: "the requesting OAE will generate a
    final report about the internship" (brochure § 2.2, issue 14 item 1); the other
    programmes close through evaluation."""
    definition = runtime.registry.current(programme).definition
    path = main_path(definition)
    assert path[0] == "intake"
    assert path[-1] == "closed"
    assert "report_overdue" not in path
    assert "on_hold" not in path
    after_the_event = path[path.index("in_progress") + 1 :]
    if programme == "internship":
        assert after_the_event == ["final_report", "report_received", "closed"]
    else:
        assert after_the_event == ["evaluation", "closed"]
