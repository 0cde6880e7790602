"""The dashboard: counts by programme × state, the filters, the attention lists, the list with
its pages — over real databases, and fast with 10,000 requests."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.dashboard import PAGE_SIZE
from engine.service import Engine
from engine.views import RequestView
from storage import requests as request_rows
from tests.web.conftest import SignIn


def count_in(html: str, programme: str, state: str) -> int | None:
    """The number in the counts table for (programme, state), None when there is no link."""
    found = re.search(rf"programme={programme}&amp;state={state}\">(\d+)</a>", html)
    return int(found.group(1)) if found else None


def listed_ids(html: str) -> list[int]:
    table = re.search(r'<table class="requests">(.*?)</table>', html, re.S)
    if table is None:
        return []
    return [int(i) for i in re.findall(r'href="/requests/(\d+)"', table.group(1))]


@pytest.fixture
def mixed(
    engine: Engine, make_emb: Callable[..., str], make_request: Callable[..., RequestView]
) -> dict[str, Any]:
    """A few requests in different programmes, states, countries."""
    kenya = make_emb("KE-IEBC", country="KE", language="en")
    made = {
        "intake": make_request("international_workshop", "intake"),  # Honduras (America)
        "assessment": make_request("international_workshop", "needs_assessment"),
        "ready": make_request("international_workshop", "ready"),  # event in June 2016
        "internship": make_request("internship", "intake"),
    }
    made["kenya"] = engine.create(
        "seminar", emb_code=kenya, title="Kenyan seminar", actor=Actor("coordinator", "ana")
    )
    held = make_request("international_workshop", "agenda_design")
    made["held"] = engine.advance(
        held.id, "put_on_hold", Actor("coordinator", "ana"), data={"hold_reason": "Elections"}
    )
    return made


def test_counts_by_programme_and_state(sign_in: SignIn, mixed: dict[str, Any]) -> None:
    html = sign_in("viewer").get("/").text
    assert count_in(html, "international_workshop", "intake") == 1
    assert count_in(html, "international_workshop", "ready") == 1
    assert count_in(html, "international_workshop", "on_hold") == 1
    assert count_in(html, "internship", "intake") == 1
    assert count_in(html, "seminar", "intake") == 1
    assert count_in(html, "seminar", "ready") is None
    # labels come from the workflow files
    assert "International Workshop on Electoral Administration and Justice" in html
    assert "Needs assessment" in html
    assert set(listed_ids(html)) == {v.id for v in mixed.values()}


def test_filters_narrow_counts_and_list(sign_in: SignIn, mixed: dict[str, Any]) -> None:
    browser = sign_in("viewer")
    by_state = browser.get("/?state=intake").text
    assert set(listed_ids(by_state)) == {
        mixed["intake"].id,
        mixed["internship"].id,
        mixed["kenya"].id,
    }
    assert count_in(by_state, "international_workshop", "ready") is None
    programme = browser.get("/?programme=seminar").text
    assert listed_ids(programme) == [mixed["kenya"].id]
    africa = browser.get("/?region=Africa").text
    assert listed_ids(africa) == [mixed["kenya"].id]
    emb = browser.get("/?emb=KE-IEBC").text
    assert listed_ids(emb) == [mixed["kenya"].id]
    # year: the event's start year (the example workshop is in June 2016) or the creation year
    assert listed_ids(browser.get("/?year=2016").text) == [mixed["ready"].id]
    assert len(listed_ids(browser.get("/?year=2026").text)) == len(mixed)
    assert listed_ids(browser.get("/?year=2030").text) == []
    # theme: data.themes contains it (recorded at intake, so the requests past intake)
    themed = set(listed_ids(browser.get("/?theme=electoral_cycle.voter_registry").text))
    assert themed == {mixed["assessment"].id, mixed["ready"].id, mixed["held"].id}
    # a bad filter value is ignored, not an error
    assert browser.get("/?region=Atlantis&year=abc").status_code == 200


def test_attention_lists(
    sign_in: SignIn,
    mixed: dict[str, Any],
    clock: ManualClock,
) -> None:
    browser = sign_in("viewer")
    html = browser.get("/").text
    stuck = re.search(r'id="blocked-heading">.*?</section>', html, re.S)
    assert stuck is not None
    assert f'/requests/{mixed["held"].id}"' in stuck.group(0)
    # the intake reminder is due 14 days after creation: 10 days on it is due this week (an
    # idle session ends after 12 hours, so the viewer signs in again each time)
    clock.advance(timedelta(days=10))
    html = sign_in("viewer").get("/").text
    due = re.search(r'id="due-heading">.*?</section>', html, re.S)
    assert due is not None
    assert f'/requests/{mixed["intake"].id}"' in due.group(0)
    assert "Request waiting at intake" in due.group(0)  # the reminder's name, not its code
    assert "stale_intake" not in due.group(0)
    # 40 days on, the reminder is past due and nothing has changed for 30 days
    clock.advance(timedelta(days=30))
    html = sign_in("viewer").get("/").text
    overdue = re.search(r'id="overdue-heading">.*?</section>', html, re.S)
    assert overdue is not None
    assert f'/requests/{mixed["intake"].id}"' in overdue.group(0)
    stuck = re.search(r'id="blocked-heading">.*?</section>', html, re.S)
    assert stuck is not None
    assert "No change for 30 days" in stuck.group(0)


def test_the_list_pages_by_fifty(
    runtime: Runtime,
    engine: Engine,
    sign_in: SignIn,
) -> None:
    _bulk(runtime, engine, PAGE_SIZE + 7)
    browser = sign_in("viewer")
    first = browser.get("/").text
    assert len(listed_ids(first)) == PAGE_SIZE
    assert "Page 1 of 2" in first
    second = browser.get("/?page=2").text
    assert len(listed_ids(second)) == 7
    assert not set(listed_ids(first)) & set(listed_ids(second))
    assert browser.get("/?page=99").status_code == 200  # past the end: the last page
    # the pager's links lead there, keeping the filters
    assert 'rel="next" href="/?page=2"' in first
    assert 'rel="prev" href="/?page=1"' in second
    filtered = browser.get("/", params={"programme": "international_workshop"}).text
    assert 'rel="next" href="/?programme=international_workshop&amp;page=2"' in filtered


def _bulk(runtime: Runtime, engine: Engine, n: int) -> None:
    """`n` requests written in one statement (the dashboard reads, it does not care how)."""
    with runtime.db.read() as conn:
        exists = conn.exec_driver_sql("SELECT 1 FROM emb WHERE code = 'BULK'").scalar()
    if not exists:
        engine.add_emb(code="BULK", name="Bulk", country="HN", language="es")
    wf = runtime.registry.current("international_workshop")
    now = engine.clock()
    states = list(wf.definition.states)
    data = {"themes": ["electoral_cycle.voter_registry"], "event_start": "2016-06-06"}
    with runtime.db.transaction() as conn:
        emb_id = conn.exec_driver_sql("SELECT id FROM emb WHERE code = 'BULK'").scalar()
        request_rows.insert_many(
            conn,
            [
                {
                    "programme": "international_workshop",
                    "workflow_version": wf.version,
                    "emb_id": emb_id,
                    "title": f"Request {i}",
                    "state": states[i % len(states)],
                    "held_from": None,
                    "data": data,
                    "version": 1,
                    "created_at": now - timedelta(days=i % 900),
                    "updated_at": now - timedelta(days=i % 60),
                }
                for i in range(n)
            ],
        )


def test_the_dashboard_of_ten_thousand_requests_costs_the_same_queries_as_of_one_page(
    runtime: Runtime,
    engine: Engine,
    sign_in: SignIn,
) -> None:
    """The page does not grow with the table: as many SQL statements with 10,000 requests as
    with one page of them (its speed is measured in bench/web.py, not here)."""
    browser: TestClient = sign_in("viewer")
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    def page_statements() -> int:
        statements.clear()
        sa.event.listen(runtime.db.engine, "before_cursor_execute", count)
        try:
            response = browser.get("/")
        finally:
            sa.event.remove(runtime.db.engine, "before_cursor_execute", count)
        assert response.status_code == 200
        return len(statements)

    _bulk(runtime, engine, PAGE_SIZE)
    browser.get("/")  # warm
    with_one = page_statements()
    _bulk(runtime, engine, 10_000 - PAGE_SIZE)
    with_many = page_statements()
    assert "10000" in browser.get("/").text
    assert with_many == with_one, (with_one, with_many)
