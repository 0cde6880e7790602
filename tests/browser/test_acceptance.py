"""The web application's acceptance path, in a real Chromium: a coordinator runs a workshop
from intake to `ready` through the forms (meeting a refused step on the way), the event takes
place, and the coordinator records the evaluation and closes the request (a workshop asks for
no final report: only internships do, brochure § 2.2); and an intern sends the final report
from the link in the e-mail before the coordinator closes the internship.
Screenshots of the dashboard and the request page are saved as artefacts."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from engine.demo import load_demo
from tests.browser.live import LiveServer
from tests.browser.test_public_pages_languages import INTERN, internship_awaiting_report

pytestmark = pytest.mark.browser

DELEGATE = "karla.mendez@example.org"
STAGES = ("emb_challenges", "mexican_experience", "international_comparison")
COSTS = {
    "lodging_meals": "founders",
    "local_transport": "founders",
    "organisation_materials": "founders",
    "specialists": "founders",
    "interpretation": "not_needed",
    "delegates_air_tickets": "emb",
    "international_experts": "associate_partner",
}


def act(page: Page, trigger: str) -> None:
    """Press the action button of `trigger` and wait for the answer page."""
    with page.expect_navigation():
        page.locator(f'button[name="trigger"][value="{trigger}"]').click()


def state_badge(page: Page) -> str:
    return page.locator(".request-meta .badge").first.inner_text().strip()


def test_a_workshop_runs_from_intake_to_closed_in_the_browser(
    page: Page,
    live_server: LiveServer,
    sign_in: Callable[..., object],
    artefacts: Path,
) -> None:
    load_demo(live_server.engine)  # other requests around it, as on a real dashboard
    sign_in(page)

    # a new request
    page.goto("/requests/new")
    page.get_by_label("Programme").select_option("international_workshop")
    page.get_by_label(re.compile("EMB")).select_option("HN-TSE")
    page.get_by_label("Title").fill("Workshop on the voter registry, Tegucigalpa")
    with page.expect_navigation():
        page.get_by_role("button", name="Create the request").click()
    expect(page.locator("h1")).to_have_text("Workshop on the voter registry, Tegucigalpa")
    request_url = page.url
    request_id = int(request_url.rstrip("/").rsplit("/", 1)[1])

    # intake → needs assessment
    page.locator('[name="contact_name"]').fill("Karla Méndez Zelaya")
    page.locator('[name="contact_email"]').fill(DELEGATE)
    page.locator('[name="contact_language"]').select_option("es")
    page.locator('[name="timing_scenario"][value="before_elections"]').check()
    page.locator('[name="themes"][value="electoral_cycle.voter_registry"]').check()
    act(page, "accept")
    assert state_badge(page) == "Needs assessment"

    # needs assessment → agenda design
    page.locator('[name="needs_summary"]').fill("Clean the voter registry before 2017.")
    act(page, "complete_assessment")
    assert state_badge(page) == "Agenda design"

    # an agenda whose session lacks a methodology stage is refused, with the guard's message
    page.locator('[name="agenda_sessions-0-title"]').fill("Updating the voter registry")
    page.locator('[name="agenda_sessions-0-theme"]').select_option("electoral_cycle.voter_registry")
    for stage in STAGES[:2]:
        page.locator(f'[name="agenda_sessions-0-stages"][value="{stage}"]').check()
    page.locator('[name="agenda_sessions-0-speakers-0-name"]').fill("Óscar Rivera Paz")
    act(page, "approve_agenda")
    assert state_badge(page) == "Agenda design"  # unchanged
    refusal = page.locator("#reasons-approve_agenda")
    expect(refusal).to_contain_text("international comparative perspective")
    assert live_server.engine.get(request_id).state == "agenda_design"
    # what was typed is still there; the missing stage is added and the agenda approved
    expect(page.locator('[name="agenda_sessions-0-title"]')).to_have_value(
        "Updating the voter registry"
    )
    page.locator(f'[name="agenda_sessions-0-stages"][value="{STAGES[2]}"]').check()
    act(page, "approve_agenda")
    assert state_badge(page) == "Logistics"

    # logistics → ready
    for category, payer in COSTS.items():
        page.locator(f'[name="cost_sharing-{category}"]').select_option(payer)
    page.locator('[name="event_start"]').fill("2026-03-02")
    page.locator('[name="event_end"]').fill("2026-03-06")
    page.locator('[name="venue"]').fill("INE, Viaducto Tlalpan 100, Ciudad de México")
    page.locator('[name="delegates-0-name"]').fill("Karla Méndez Zelaya")
    page.locator('[name="delegates-0-position"]').fill("Directora de Cooperación Internacional")
    page.locator('[name="delegates-0-email"]').fill(DELEGATE)
    act(page, "confirm_logistics")
    assert state_badge(page) == "Ready"
    page.screenshot(path=artefacts / "request.png", full_page=True)

    # the event takes place
    act(page, "start")
    page.locator('[name="attendance"]').fill("24")
    act(page, "finish")
    # a workshop closes with the coordinator's evaluation: the brochure asks for a final
    # report only for internships (§ 2.2, "the requesting OAE will generate a final report
    # about the internship"; issue 14 item 1), so the delegation is sent no report link
    assert state_badge(page) == "Evaluation and closing"
    live_server.deliver_mail()
    assert not [u for u in live_server.links_in_mail(to=DELEGATE) if "/report/" in u]
    expect(page.locator('[name="final_report_experience"]')).to_have_count(0)

    # closing without the evaluation summary is refused; with it, the request closes
    page.locator('[name="closing_note"]').fill("Evaluation shared with TEPJF and UNDP.")
    act(page, "close")
    assert state_badge(page) == "Evaluation and closing"  # unchanged
    assert live_server.engine.get(request_id).state == "evaluation"
    page.locator('[name="evaluation_summary"]').fill(
        "The delegation valued the visits to the technical areas most."
    )
    page.locator('[name="outcome_notes"]').fill("A national drill of preliminary results.")
    expect(page.locator('[name="closing_note"]')).to_have_value(
        "Evaluation shared with TEPJF and UNDP."
    )
    act(page, "close")
    assert state_badge(page) == "Closed"
    closed = live_server.engine.get(request_id)
    assert closed.state == "closed"
    assert closed.data["evaluation_summary"].startswith("The delegation valued")

    page.goto("/")
    page.screenshot(path=artefacts / "dashboard.png", full_page=True)


def test_an_intern_sends_the_final_report_from_the_mail_and_the_coordinator_closes(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    sign_in: Callable[..., object],
) -> None:
    """The internship keeps the brochure's report: "the requesting OAE will generate a final
    report about the internship, which should highlight its experience" (§ 2.2)."""
    view = internship_awaiting_report(live_server.engine)  # finished: the report is asked for
    live_server.deliver_mail()
    report_links = [u for u in live_server.links_in_mail(to=INTERN) if "/report/" in u]
    assert report_links, "the final-report mail carries no report link"

    # the intern opens the link in the e-mail (no account), in the language of the mail
    intern = browser.new_context(base_url=live_server.url, locale="es-MX").new_page()
    intern.goto(report_links[-1])
    assert intern.locator("html").get_attribute("lang") == "en"  # the request's language
    intern.get_by_label(re.compile("experience", re.I)).fill("We saw the registry at work.")
    intern.get_by_label(re.compile("incorporated or adapted", re.I)).fill("A dedup protocol.")
    intern.get_by_label(re.compile("recommendations", re.I)).fill("Publish thresholds.")
    with intern.expect_navigation():
        intern.get_by_role("button", name="Submit report").click()
    assert live_server.engine.get(view.id).state == "report_received"
    intern.context.close()

    # the coordinator reads that the report came in, and closes the request
    sign_in(page, next_path=f"/requests/{view.id}")
    page.goto(f"/requests/{view.id}")
    assert state_badge(page) == "Final report received"
    expect(page.get_by_text("Read the final report and its attachments")).to_be_visible()
    page.locator('[name="closing_note"]').fill("Report shared with DERFE.")
    act(page, "close")
    assert state_badge(page) == "Closed"
    assert live_server.engine.get(view.id).data["final_report_adaptations"] == "A dedup protocol."
