"""The dashboard fits a 1366 × 768 screen (issue 15): the count table by programme and state
has no sideways scroll, and "On hold" and "Total" are in view; the search box finds "peru"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page

from engine.actor import Actor
from engine.views import RequestView

pytestmark = pytest.mark.browser


def test_the_count_table_fits_at_1366_pixels(
    page: Page,
    sign_in: Callable[..., Any],
    make_request: Callable[..., RequestView],
    make_emb: Callable[..., str],
    engine: Any,
) -> None:
    # a request in every programme and a held one: every column and many rows
    for programme in (
        "international_workshop",
        "internship",
        "specialization_course",
        "seminar",
        "technical_assistance",
    ):
        make_request(programme, "intake")
    held = make_request("international_workshop", "agenda_design")
    engine.advance(
        held.id, "put_on_hold", Actor("coordinator", "ana"), data={"hold_reason": "Elections"}
    )
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page)
    page.goto("/")
    table = page.locator("table.counts")
    box = page.locator(".counts-fit")
    widths = box.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] <= widths[1], widths
    # nor does the page itself scroll sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    total = table.get_by_role("columnheader", name="Total")
    assert total.is_visible()
    right = total.evaluate("el => el.getBoundingClientRect().right")
    assert right <= 1366
    on_hold = table.get_by_role("rowheader", name="On hold")
    assert on_hold.is_visible()


def test_the_search_box_finds_peru_without_its_accent(
    page: Page, sign_in: Callable[..., Any], make_emb: Callable[..., str], engine: Any
) -> None:
    peru = make_emb("PE-JNE", country="PE", name="Jurado Nacional de Elecciones")
    made = engine.create(
        "seminar", emb_code=peru, title="Seminario en Lima", actor=Actor("coordinator", "ana")
    )
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page)
    page.goto("/")
    page.locator("#nav-search").fill("peru")
    page.locator("#nav-search").press("Enter")
    page.wait_for_url(lambda url: "/requests?q=peru" in url)
    assert page.get_by_role("link", name="Seminario en Lima").get_attribute("href") == (
        f"/requests/{made.id}"
    )
