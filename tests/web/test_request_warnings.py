"""Warnings on the request page, in the API and on the dashboard: what does not block but a
coordinator must see, said in the reader's language."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from engine.actor import Actor
from engine.service import Engine
from engine.views import RequestView
from tests.web.conftest import Auth, SignIn


@pytest.fixture
def two_courses(
    engine: Engine, make_emb: Callable[..., str], coordinator: Actor
) -> tuple[RequestView, RequestView]:
    """Two courses asked for in the same year, for Africa and for Europe."""
    made = []
    for region, topic in (("africa", "Results transmission"), ("europe", "Voting abroad")):
        view = engine.create(
            "specialization_course", emb_code=make_emb(), title=topic, actor=coordinator
        )
        data = {"course_topic": topic, "region": region}
        made.append(engine.update(view.id, coordinator, data=data))
    return made[0], made[1]


def warnings_box(html: str) -> str:
    found = re.search(r'<section class="warnings[^"]*"[^>]*>(.*?)</section>', html, re.S)
    assert found, "no warnings box"
    return found.group(1)


def test_the_request_page_shows_the_other_course_of_the_year_near_the_top(
    sign_in: SignIn, two_courses: tuple[RequestView, RequestView]
) -> None:
    """§ 2.3: "Two courses are held every year and each one is for a different región"."""
    first, second = two_courses
    html = sign_in("coordinator", "ana").get(f"/requests/{second.id}").text
    box = warnings_box(html)
    assert "To keep in mind" in box
    assert f"Request {first.id}, “Results transmission”, is another course of 2026" in box
    assert "Africa" in box
    assert "<strong>Region:</strong>" in box
    # near the top: before the data and the actions
    assert html.index('class="warnings') < html.index('id="data-heading"')


def test_a_request_without_warnings_has_no_box(
    sign_in: SignIn, make_request: Callable[..., RequestView]
) -> None:
    """A seminar is no course: the § 2.3 rule says nothing about it."""
    view = make_request("seminar", "intake")
    html = sign_in("coordinator", "ana").get(f"/requests/{view.id}").text
    assert 'class="warnings' not in html


def test_the_api_gives_the_warnings_in_the_accepted_language(
    client: TestClient, auth: Auth, two_courses: tuple[RequestView, RequestView]
) -> None:
    """§ 2.3 "each one is for a different región", for a script: `warnings` in the API."""
    first, second = two_courses
    headers = {**auth("coordinator"), "Accept-Language": "fr"}
    body = client.get(f"/api/requests/{second.id}", headers=headers).json()
    (warning,) = body["warnings"]
    assert warning["code"] == "course_second_in_year"
    assert warning["field"] == "region"
    assert warning["message"].startswith(f"La demande {first.id}, « Results transmission »")
    assert "Afrique" in warning["message"]


def test_the_dashboard_counts_the_listed_requests_with_warnings(
    sign_in: SignIn, two_courses: tuple[RequestView, RequestView]
) -> None:
    """§ 2.3 on the dashboard: both courses of the year are flagged."""
    html = sign_in("coordinator", "ana").get("/").text
    assert "Requests with warnings on this page: 2" in html
    for view in two_courses:
        assert f'href="/requests/{view.id}#warnings"' in html
