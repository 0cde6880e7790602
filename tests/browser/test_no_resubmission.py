"""Post/redirect/get on the public final report form, in a real Chromium: after submitting,
reloading and going Back never send the form again (no "Confirm Form Resubmission" page).

An intern first submits with a section left blank (refused: the problems are summarised at the
top and marked next to the field), then completes it and submits. The page after the
submission is "report received", got with GET at its own address; reload and Back are GETs
too: `page.on("request")` records every request, and no POST leaves the browser after the
one submission."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.live import LiveServer
from tests.browser.test_public_pages_languages import internship_awaiting_report, report_link

pytestmark = pytest.mark.browser

SECTIONS = {
    "final_report_experience": "Four days with the registry team, from enrolment to the card.",
    "final_report_adaptations": "A mobile enrolment unit for remote districts.",
    "final_report_recommendations": "Publish the audit of the roll each year.",
}


def test_reload_and_back_after_submitting_the_report_never_post_again(
    page: Page, live_server: LiveServer
) -> None:
    view = internship_awaiting_report(live_server.engine)
    url = report_link(live_server, view.id)
    token_path = url[len(live_server.url) :]
    posts: list[str] = []

    def record(request: Request) -> None:
        if request.method == "POST":
            posts.append(request.url)

    page.on("request", record)
    page.goto(url)

    # a refusal first: one section left blank; the summary at the top links to the field
    page.locator("#final_report_experience").fill(SECTIONS["final_report_experience"])
    page.locator("#final_report_adaptations").fill(SECTIONS["final_report_adaptations"])
    page.get_by_role("button", name="Submit report").click()
    # the browser's own check stops a blank required section before anything is sent
    assert posts == []
    page.locator("#final_report_recommendations").fill(" ")
    page.evaluate("document.getElementById('final_report_recommendations').required = false")
    with page.expect_response(lambda r: r.request.method == "POST") as refused:
        page.get_by_role("button", name="Submit report").click()
    assert refused.value.status == 422
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator('a[href="#final_report_recommendations"]')).to_be_visible()
    expect(page.locator("#final_report_recommendations-error")).to_be_visible()
    # the refused post's history entry became the form's own address (app.js)
    assert page.url.endswith(token_path)
    assert len(posts) == 1

    # then the report, complete
    page.locator("#final_report_recommendations").fill(SECTIONS["final_report_recommendations"])
    with page.expect_navigation():
        page.get_by_role("button", name="Submit report").click()
    assert len(posts) == 2
    page.wait_for_url(f"**{token_path}/received")
    expect(page.get_by_role("heading", level=1)).to_contain_text("final report was received")

    # reload: a GET of "report received"
    with page.expect_navigation() as reloaded:
        page.reload()
    assert reloaded.value is not None
    assert reloaded.value.request.method == "GET"
    assert reloaded.value.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text("final report was received")

    # Back, and Back again: pages got with GET, never a resubmission
    for _ in range(2):
        response = page.go_back()
        assert response is None or response.request.method == "GET"
        assert "chrome-error://" not in page.url
        expect(page.locator("body")).not_to_contain_text("Confirm Form Resubmission")
        expect(page.locator("h1")).to_be_visible()
    assert len(posts) == 2, posts
