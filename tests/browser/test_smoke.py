"""Smoke tests in a real browser: sign in through the form, the dashboard, a request's page,
the keyboard, the interface language. Elements are found by role and label (English or
Spanish), never by CSS class, so the pages' markup may evolve."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from engine.actor import Actor
from engine.demo import example_steps
from engine.views import RequestView
from tests.browser.live import (
    BUTTON_SIGN_IN,
    BUTTON_SIGN_OUT,
    LABEL_LANGUAGE,
    LABEL_PASSWORD,
    LABEL_USERNAME,
    PASSWORD,
    LiveServer,
)

pytestmark = pytest.mark.browser


def is_focused(locator: Locator) -> bool:
    return bool(locator.evaluate("element => element === document.activeElement"))


def tab_to(page: Page, locator: Locator, *, limit: int = 20) -> None:
    """Press Tab until `locator` has the focus (fails after `limit` presses)."""
    for _ in range(limit):
        if is_focused(locator):
            return
        page.keyboard.press("Tab")
    assert is_focused(locator), f"{locator} is not reachable with Tab"


def test_a_coordinator_signs_in_through_the_form_and_lands_on_the_dashboard(
    page: Page,
    live_server: LiveServer,
    make_request: Callable[..., RequestView],
    artefacts: Path,
) -> None:
    live_server.add_user("ana", "coordinator")
    for programme, state in [
        ("international_workshop", "intake"),
        ("internship", "intake"),
        ("seminar", "intake"),
    ]:
        make_request(programme, state)

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))  # signed out: sent to sign in
    page.get_by_label(LABEL_USERNAME).fill("ana")
    page.get_by_label(LABEL_PASSWORD).fill(PASSWORD)
    page.get_by_role("button", name=BUTTON_SIGN_IN).click()

    # "/" is the form's default `next`: a coordinator starts at "Needs my action"
    expect(page).to_have_url(live_server.url + "/work")
    expect(page.get_by_role("button", name=BUTTON_SIGN_OUT)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")  # the user's language
    page.goto("/")
    page.screenshot(path=artefacts / "smoke-dashboard.png", full_page=True)


def test_a_request_created_through_the_engine_has_its_page(
    page: Page,
    live_server: LiveServer,
    make_emb: Callable[..., str],
    sign_in: Callable[..., object],
    artefacts: Path,
) -> None:
    engine, ana = live_server.engine, Actor("coordinator", "ana")
    title = "Workshop on the voter registry, Tegucigalpa"
    view = engine.create(
        "international_workshop", emb_code=make_emb("TSE-HN"), title=title, actor=ana
    )
    step = example_steps("international_workshop")[0]  # accepted: some data and history
    view = engine.advance(view.id, step["trigger"], Actor.parse(step["as"]), data=step["data"])

    sign_in(page)
    response = page.goto(f"/requests/{view.id}")
    assert response is not None
    assert response.status == 200, f"/requests/{view.id} answered {response.status}"
    expect(page.get_by_text(title).first).to_be_visible()
    page.screenshot(path=artefacts / "smoke-request.png", full_page=True)


def test_the_sign_in_form_works_with_the_keyboard_alone(
    page: Page, live_server: LiveServer
) -> None:
    live_server.add_user("ana", "coordinator")
    page.goto("/login")
    username = page.get_by_label(LABEL_USERNAME)
    password = page.get_by_label(LABEL_PASSWORD)
    button = page.get_by_role("button", name=BUTTON_SIGN_IN)

    tab_to(page, username)
    page.keyboard.type("ana")
    tab_to(page, password, limit=3)
    page.keyboard.type(PASSWORD)
    tab_to(page, button, limit=5)
    page.keyboard.press("Enter")

    expect(page).to_have_url(live_server.url + "/work")
    expect(page.get_by_role("button", name=BUTTON_SIGN_OUT)).to_be_visible()


def switch_language(page: Page, code: str) -> None:
    """Choose `code` in the language selector and submit its form (if choosing alone has not
    already done so)."""
    select = page.get_by_label(LABEL_LANGUAGE)
    select.select_option(code)
    html = page.locator("html")
    if html.get_attribute("lang") != code:
        form = page.locator("form").filter(has=select)
        with page.expect_navigation():
            form.get_by_role("button").first.click()
    expect(html).to_have_attribute("lang", code)


@pytest.mark.parametrize("signed_in", [False, True], ids=["on-the-sign-in-page", "signed-in"])
def test_switching_the_language_changes_the_page_language(
    page: Page, sign_in: Callable[..., object], signed_in: bool
) -> None:
    if signed_in:
        sign_in(page, language="en")
    else:
        page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    switch_language(page, "es")
    switch_language(page, "en")
    switch_language(page, "es")
    page.reload()  # kept (in the session, and as the user's preference)
    expect(page.locator("html")).to_have_attribute("lang", "es")
