""" "Needs my action" (`/work`, issue 15 item 1) in the browser's terms: what a coordinator can
move forward, with the step and what blocks it, overdue first; the count in the navigation;
where each role lands after signing in; a viewer's explanation. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from engine.accounts import Accounts
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.my_work import PAGE_SIZE
from engine.service import Engine
from engine.views import RequestView
from storage.db import Database
from tests.web.conftest import Auth, SignIn, csrf_of

COORDINATOR = Actor("coordinator", "ana")


def work_rows(html: str) -> list[int]:
    """The request numbers of the list, in order."""
    table = re.search(r'<table class="requests work">(.*?)</table>', html, re.S)
    if table is None:
        return []
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', table.group(1))]


def row_of(html: str, request_id: int) -> str:
    found = re.search(rf'<td class="num">{request_id}</td>(.*?)</tr>', html, re.S)
    assert found, f"request {request_id} is not listed"
    return found.group(1)


def nav_counts(html: str) -> tuple[int | None, int | None]:
    """(requests, overdue) of the navigation's "Needs my action" link."""
    total = re.search(r'id="work-count">(\d+)<', html)
    overdue = re.search(r'id="work-overdue">(\d+) ', html)
    return (
        int(total.group(1)) if total else None,
        int(overdue.group(1)) if overdue else None,
    )


def test_a_coordinator_sees_what_they_can_do_and_what_blocks_it(
    sign_in: SignIn, engine: Engine, make_emb: Callable[..., str]
) -> None:
    view = engine.create(
        "seminar",
        emb_code=make_emb("TSE-HN", name="Tribunal Supremo Electoral"),
        title="Foro sobre democracia digital",
        actor=COORDINATOR,
    )
    page = sign_in("coordinator", "ana").get("/work")
    assert page.status_code == 200
    assert "<h1>Needs my action</h1>" in page.text
    row = row_of(page.text, view.id)
    assert "Foro sobre democracia digital" in row
    assert "Tribunal Supremo Electoral" in row
    assert "TSE-HN" in row
    assert f'<a href="/requests/{view.id}#work-heading">Accept the request</a>' in row
    assert "Fill in “Seminar topic” first." in row
    # declining asks for its reason when it is taken: listed, not blocked
    assert f'<a href="/requests/{view.id}#work-heading">Decline the request</a>' in row
    assert "Reason for declining" not in row
    # withdrawing and putting on hold are possible anywhere: not what needs doing
    assert "Withdraw the request" not in row
    assert "Put on hold" not in row


def test_the_page_speaks_the_user_s_language(
    sign_in: SignIn, accounts: Accounts, engine: Engine, make_emb: Callable[..., str]
) -> None:
    engine.create("seminar", emb_code=make_emb(), title="Foro", actor=COORDINATOR)
    browser = sign_in("coordinator", "ana")
    user = accounts.authenticate("ana", "ana-password-long")
    assert user is not None
    accounts.set_language(user.id, "es")
    page = browser.get("/work").text
    assert "<h1>Requiere mi acción</h1>" in page
    assert "Accept the request" not in page
    assert "Fill in" not in page
    assert "Lo que puede hacer" in page


def test_overdue_first_with_its_due_date_in_words(
    sign_in: SignIn,
    make_request: Callable[..., RequestView],
    clock: ManualClock,
) -> None:
    waiting = make_request("international_workshop", "intake")  # reminder 14 days on
    clock.advance(timedelta(days=20))
    newer = make_request("international_workshop", "intake")
    page = sign_in("coordinator", "ana").get("/work").text
    assert work_rows(page) == [waiting.id, newer.id]
    late = row_of(page, waiting.id)
    assert "Past due" in late
    assert "Request waiting at intake" in late
    assert "Past due" not in row_of(page, newer.id)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", late), "a date must be said in words"
    assert "Overdue: 1." in page


def test_the_navigation_counts_what_the_page_lists(
    sign_in: SignIn,
    make_request: Callable[..., RequestView],
    clock: ManualClock,
) -> None:
    make_request("international_workshop", "intake")
    clock.advance(timedelta(days=20))
    make_request("international_workshop", "needs_assessment")
    make_request("international_workshop", "closed")
    browser = sign_in("coordinator", "ana")
    work = browser.get("/work").text
    assert nav_counts(work) == (2, 1) == (len(work_rows(work)), 1)
    # on every page, first in the navigation
    dashboard = browser.get("/").text
    assert nav_counts(dashboard) == (2, 1)
    nav = re.search(r'<ul class="nav-links">(.*?)</ul>', dashboard, re.S)
    assert nav is not None
    assert re.findall(r'href="([^"]+)"', nav.group(1))[0] == "/work"


def test_a_request_that_moves_on_leaves_the_list_and_the_count(
    sign_in: SignIn, engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    kept = make_request("international_workshop", "intake")
    declined = make_request("international_workshop", "needs_assessment")
    browser = sign_in("coordinator", "ana")
    # both due on their stage's first reminder: intake's (14 days) before the assessment's (30)
    assert work_rows(browser.get("/work").text) == [kept.id, declined.id]
    engine.advance(declined.id, "decline", COORDINATOR, data={"decline_reason": "Out of scope."})
    page = browser.get("/work").text
    assert work_rows(page) == [kept.id]
    assert nav_counts(page) == (1, None)


def test_a_viewer_reads_why_nothing_waits_for_them(
    sign_in: SignIn, make_request: Callable[..., RequestView]
) -> None:
    make_request("international_workshop", "intake")
    page = sign_in("viewer", "val").get("/work")
    assert page.status_code == 200
    assert "Nothing here needs your action" in page.text
    assert "Your role (Viewer) can read every request but not move one forward" in page.text
    assert work_rows(page.text) == []
    assert nav_counts(page.text) == (None, None)


def test_the_programme_lead_sees_escalations_addressed_to_them(
    sign_in: SignIn,
    engine: Engine,
    make_request: Callable[..., RequestView],
    clock: ManualClock,
) -> None:
    from engine.sweep import TimerSweep

    stalled = make_request("international_workshop", "needs_assessment")
    clock.advance(timedelta(days=45))
    make_request("seminar", "intake")
    TimerSweep(engine, worker="w1").run_once()
    page = sign_in("admin", "lead").get("/work").text
    section = re.search(r'<section class="card"[^>]*id="escalations">(.*?)</section>', page, re.S)
    assert section is not None
    assert "Escalated to the programme lead" in section.group(1)
    assert f'href="/requests/{stalled.id}"' in section.group(1)
    assert "Needs assessment stalled" in section.group(1)
    coordinator = sign_in("coordinator", "ana").get("/work").text
    assert "Escalated" in row_of(coordinator, stalled.id)


def test_coordinators_and_admins_land_on_their_work_viewers_on_the_dashboard(
    client: TestClient, accounts: Accounts
) -> None:
    for role, home in (("coordinator", "/work"), ("admin", "/work"), ("viewer", "/")):
        accounts.add_user(f"{role}-1", role, "a-password-long-enough")
        browser = client
        browser.cookies.clear()
        token = csrf_of(browser.get("/login").text)
        answer = browser.post(
            "/login",
            data={
                "username": f"{role}-1",
                "password": "a-password-long-enough",
                "csrf_token": token,
            },
            follow_redirects=False,
        )
        assert (answer.status_code, answer.headers["location"]) == (303, home)
    # a page asked for is where one lands, whatever the role
    browser.cookies.clear()
    token = csrf_of(browser.get("/login?next=/results").text)
    answer = browser.post(
        "/login",
        data={
            "username": "coordinator-1",
            "password": "a-password-long-enough",
            "csrf_token": token,
            "next": "/results",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/results"


def test_pages_of_twenty_five_and_bounded_parameters(
    sign_in: SignIn, engine: Engine, make_emb: Callable[..., str]
) -> None:
    emb = make_emb()
    for n in range(PAGE_SIZE + 3):
        engine.create("seminar", emb_code=emb, title=f"Foro {n}", actor=COORDINATOR)
    browser = sign_in("coordinator", "ana")
    first = browser.get("/work").text
    assert len(work_rows(first)) == PAGE_SIZE
    assert 'href="/work?page=2"' in first
    second = browser.get("/work?page=2").text
    assert len(work_rows(second)) == 3
    assert not set(work_rows(first)) & set(work_rows(second))
    assert work_rows(browser.get("/work?page=99").text) == work_rows(second)  # the last page
    for bad in ("0", "-1", "abc", "1" * 40):
        refused = browser.get(f"/work?page={bad}")
        assert 400 <= refused.status_code < 500, bad
        assert refused.headers["content-type"].startswith("text/html"), bad


def test_the_api_gives_the_same_list_with_codes_and_labels(
    auth: Auth,
    client: TestClient,
    make_request: Callable[..., RequestView],
    clock: ManualClock,
) -> None:
    waiting = make_request("international_workshop", "intake")
    clock.advance(timedelta(days=20))
    newer = make_request("international_workshop", "intake")
    make_request("international_workshop", "closed")
    answer = client.get(
        "/api/work", headers={**auth("coordinator", "ana"), "Accept-Language": "es"}
    )
    assert answer.status_code == 200
    work = answer.json()
    assert (work["total"], work["overdue"], work["page"], work["pages"]) == (2, 1, 1, 1)
    assert [i["id"] for i in work["items"]] == [waiting.id, newer.id]
    late = work["items"][0]
    assert late["overdue"] is True
    assert work["items"][1]["overdue"] is False
    assert late["state"] == "intake"
    assert late["state_label"] == "Recepción de la solicitud"
    accept = next(a for a in late["actions"] if a["trigger"] == "accept")
    assert accept["label"]
    assert accept["label"] != "accept"
    assert late["due_at"].endswith("+00:00")  # ISO 8601 for scripts, in UTC


def test_the_api_bounds_the_page_and_needs_a_token(auth: Auth, client: TestClient) -> None:
    headers = auth("coordinator", "ana")
    assert client.get("/api/work").status_code == 401
    assert client.get("/api/work?page=0", headers=headers).status_code == 422
    assert client.get("/api/work?page=99999999999", headers=headers).status_code == 422
    viewer = client.get("/api/work", headers=auth("viewer", "val")).json()
    assert viewer["can_act"] is False
    assert viewer["items"] == []


def test_the_navigation_count_follows_other_processes_within_two_seconds(
    sign_in: SignIn,
    make_request: Callable[..., RequestView],
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A change this server commits shows at once (above); one committed by another process
    (the worker, a second server, the CLI: another `Database` on the same data) within
    `FRESH_FOR` seconds, the count being kept that long between pages."""
    from web import work_badge

    now = [1000.0]
    monkeypatch.setattr(work_badge.time, "monotonic", lambda: now[0])
    make_request("international_workshop", "intake")
    browser = sign_in("coordinator", "ana")
    assert nav_counts(browser.get("/").text) == (1, None)
    other = Database(runtime.settings.resolved_database_url)
    try:
        elsewhere = Engine(other, runtime.registry, runtime.catalogues, clock=runtime.engine.clock)
        elsewhere.create(
            "seminar", emb_code=runtime.engine.list_embs()[0].code, title="Foro", actor=COORDINATOR
        )
    finally:
        other.dispose()
    assert nav_counts(browser.get("/").text) == (1, None)  # kept: read a moment ago
    now[0] += work_badge.FRESH_FOR
    assert nav_counts(browser.get("/").text) == (2, None)
