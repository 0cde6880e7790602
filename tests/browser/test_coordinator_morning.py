"""A coordinator's morning, in a real Chromium (issue 15, "Done when"): sign in and land on
"Needs my action", search "peru", add an organisation, open a request for it and advance it —
one refusal, then a success —, reload and go Back without the browser re-sending a form, and
download a delegate's invitation letter. The screenshots it takes are the user guide's
(docs/images/morning-*.png: copy them from the artefacts folder after a run)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, expect
from pypdf import PdfReader

from engine.demo import load_demo
from tests.browser.live import LiveServer

pytestmark = pytest.mark.browser

ORGANISATION = ("SV-TSE", "Tribunal Supremo Electoral de El Salvador")
CONTACT = "rosa.menjivar@example.org"


def _posts(page: Page) -> list[str]:
    """Every form post the page sends from now on (a resubmission would be one)."""
    sent: list[str] = []

    def seen(request: Request) -> None:
        if request.method == "POST" and request.resource_type == "document":
            sent.append(request.url)

    page.on("request", seen)
    return sent


def _act(page: Page, trigger: str) -> None:
    with page.expect_navigation():
        page.locator(f'button[name="trigger"][value="{trigger}"]').click()


def test_a_coordinators_morning(
    page: Page,
    live_server: LiveServer,
    sign_in: Callable[..., object],
    artefacts: Path,
) -> None:
    load_demo(live_server.engine)

    # signing in lands on what needs the coordinator now, with its count in the navigation
    sign_in(page)
    expect(page).to_have_url(re.compile(r"/work$"))
    expect(page.locator("h1")).to_have_text("Needs my action")
    count = page.locator("#work-count")
    expect(count).to_be_visible()
    listed = page.locator("table.work tbody tr")
    assert listed.count() >= 1
    assert int(count.inner_text().split()[0]) >= listed.count()
    page.screenshot(path=artefacts / "morning-needs-my-action.png", full_page=True)

    # "peru", typed without its accent, finds the request of Peru's JNE
    page.locator("#nav-search").fill("peru")
    with page.expect_navigation():
        page.locator("#nav-search").press("Enter")
    expect(page).to_have_url(re.compile(r"/requests\?q=peru"))
    expect(page.get_by_role("link", name=re.compile("electoral justice for Peru"))).to_be_visible()
    page.screenshot(path=artefacts / "morning-search.png", full_page=True)

    # a new organisation, added in the browser
    page.get_by_role("link", name="Organisations").first.click()
    page.get_by_role("link", name=re.compile("Add an organisation")).first.click()
    code, name = ORGANISATION
    page.locator("#code").fill(code)
    page.locator("#name").fill(name)
    page.locator("#country").select_option("SV")
    page.locator("#language").select_option("es")
    page.locator("#email").fill("cooperacion@example.org")
    page.screenshot(path=artefacts / "morning-organisation.png", full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="Add the organisation").click()
    expect(page.get_by_text(name).first).to_be_visible()
    assert any(e.code == code for e in live_server.engine.list_embs())

    # a request for it; accepting it before its contact is known is refused, with the reason
    # by the field, and nothing changes; with the contact, it is accepted
    page.goto("/requests/new")
    page.get_by_label("Programme").select_option("international_workshop")
    page.get_by_label(re.compile("EMB|Organisation")).select_option(code)
    page.get_by_label("Title").fill("Workshop on electoral observation for El Salvador")
    with page.expect_navigation():
        page.get_by_role("button", name="Create the request").click()
    request_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    # nothing was tried yet: no red reason under the steps that need typed input
    for trigger in ("decline", "withdraw", "put_on_hold"):
        expect(page.locator(f"#reasons-{trigger}")).to_have_count(0)
    expect(page.locator(".field-error:visible, #error-summary")).to_have_count(0)

    # the step is blocked on the saved data; typing enables it, and the server refuses what is
    # still missing, keeping what was typed
    expect(page.locator('button[name="trigger"][value="accept"]')).to_be_disabled()
    posts = _posts(page)
    page.locator('[name="contact_name"]').fill("Rosa Menjívar")
    _act(page, "accept")
    assert live_server.engine.get(request_id).state == "intake"
    expect(page.locator("#reasons-accept")).to_be_visible()
    expect(page.locator('[name="contact_name"]')).to_have_value("Rosa Menjívar")
    page.screenshot(path=artefacts / "morning-refusal.png", full_page=True)

    page.locator('[name="contact_email"]').fill(CONTACT)
    page.locator('[name="contact_language"]').select_option("es")
    page.locator('[name="timing_scenario"][value="before_elections"]').check()
    page.locator('[name="themes"][value="electoral_cycle.voter_registry"]').check()
    _act(page, "accept")
    assert live_server.engine.get(request_id).state == "needs_assessment"
    assert len(posts) == 2

    # reload and Back: plain GETs, no "Confirm Form Resubmission", no second transition
    page.reload()
    page.go_back()
    page.go_forward()
    page.reload()
    assert len(posts) == 2, posts
    assert live_server.engine.get(request_id).state == "needs_assessment"
    assert live_server.engine.get(request_id).version == 2

    # a delegate's invitation letter, for the internship whose event took place
    page.locator("#nav-search").fill("voting from abroad")
    with page.expect_navigation():
        page.locator("#nav-search").press("Enter")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("voting from abroad for Costa Rica")).click()
    letter_link = page.locator('a[href$="/delegates/1/letter.pdf"]')
    expect(letter_link).to_be_visible()
    page.screenshot(path=artefacts / "morning-documents.png", full_page=True)
    with page.expect_download() as download:
        letter_link.click()
    pdf = PdfReader(io.BytesIO(Path(download.value.path()).read_bytes()))
    # justified lines come out with doubled spaces
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in pdf.pages))
    assert "Mauricio Araya Solís" in text
    # in the delegate's language (Spanish), with the event's dates
    assert "Carta de invitación" in text
    assert "15 de febrero de 2016 al 26 de febrero de 2016" in text
