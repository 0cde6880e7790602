"""The final report form in a real Chromium, in French and in Arabic: the language the link
asks for, Arabic laid out right to left (the computed direction, and the page mirrored: headings
and labels start at the right edge), and the switcher that changes the language without losing
what was typed.

The browser asks for English (`Accept-Language`): the link's `?lang=` wins. Screenshots
`report-form-fr.png` and `report-form-ar.png` are saved as artefacts; with
`CICIE_SCREENSHOTS=1` they are also copied to docs/images/ (the user guide shows them)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from config.secret import site_secret
from engine.actor import Actor
from engine.links import LinkSigner
from engine.service import Engine
from engine.views import RequestView
from tests.browser.live import LiveServer
from tests.conftest import example_steps

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DOCS_IMAGES = ROOT / "docs" / "images"
INTERN = "wanjiru.kamau@example.org"  # the internship example's intern


def internship_awaiting_report(engine: Engine) -> RequestView:
    """An internship along its bundled example until it awaits the intern's final report."""
    engine.add_emb(
        code="KE-IEBC",
        name="Independent Electoral and Boundaries Commission",
        country="KE",
        language="en",
        email="info@iebc.example",
    )
    view = engine.create(
        "internship",
        emb_code="KE-IEBC",
        title="Estancia sobre el Registro Federal de Electores",
        actor=Actor("coordinator", "ana"),
    )
    for step in example_steps("internship"):
        if view.state == "final_report":
            break
        view = engine.advance(
            view.id, step["trigger"], Actor.parse(step["as"]), data=step.get("data") or {}
        )
    assert view.state == "final_report"
    return view


def report_link(live_server: LiveServer, request_id: int) -> str:
    secret = site_secret(live_server.runtime.settings).get_secret_value()
    signer = LinkSigner(secret, live_server.engine.clock)
    return f"{live_server.url}/report/{signer.token(request_id, 'report', INTERN)}"


def keep(page: Page, artefacts: Path, name: str) -> None:
    """A full-page screenshot as an artefact, and in docs/images when asked for."""
    path = artefacts / name
    page.screenshot(path=path, full_page=True)
    if os.environ.get("CICIE_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMAGES / name)


def text_box(page: Page, selector: str) -> dict[str, float]:
    """Where the text of an element is drawn (not its box, which may span the whole line)."""
    box = page.eval_on_selector(
        selector,
        "e => { const r = document.createRange(); r.selectNodeContents(e);"
        " const b = r.getBoundingClientRect(); return {left: b.left, right: b.right}; }",
    )
    return {"left": float(box["left"]), "right": float(box["right"])}


def direction_of(page: Page, selector: str) -> str:
    return str(page.eval_on_selector(selector, "e => getComputedStyle(e).direction"))


def test_a_french_report_form_is_in_french_left_to_right(
    page: Page, live_server: LiveServer, artefacts: Path
) -> None:
    view = internship_awaiting_report(live_server.engine)
    page.goto(f"{report_link(live_server, view.id)}?lang=fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_text("Rapport final")
    expect(page.get_by_role("button", name="Enregistrer le brouillon")).to_be_visible()
    expect(page.get_by_role("button", name="Envoyer le rapport")).to_be_visible()
    assert direction_of(page, "html") == "ltr"
    switcher = page.get_by_role("navigation", name="Langue")
    expect(switcher).to_be_visible()
    expect(switcher.locator('[aria-current="true"]')).to_have_text("Français")
    keep(page, artefacts, "report-form-fr.png")


def test_an_arabic_report_form_is_right_to_left_and_mirrored(
    page: Page, live_server: LiveServer, artefacts: Path
) -> None:
    view = internship_awaiting_report(live_server.engine)
    url = report_link(live_server, view.id)
    page.goto(f"{url}?lang=ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("h1")).to_have_text("التقرير النهائي")
    assert direction_of(page, "html") == "rtl"
    assert direction_of(page, "textarea") == "rtl"
    # mirrored: the heading and a field's label start at the right edge of their box
    article = page.locator("main article").bounding_box()
    assert article is not None
    heading = text_box(page, "h1")
    assert abs(heading["right"] - (article["x"] + article["width"])) < 2
    assert heading["left"] > article["x"] + article["width"] / 2  # a short heading, on the right
    field = page.locator("#final_report_experience").bounding_box()
    assert field is not None
    label = text_box(page, "label[for=final_report_experience]")
    assert abs(label["right"] - (field["x"] + field["width"])) < 2
    assert label["left"] > field["x"] + field["width"] / 2
    keep(page, artefacts, "report-form-ar.png")

    # the switcher keeps the link and what was typed
    page.locator("#final_report_experience").fill("تعرّفنا على سجل الناخبين من التسجيل إلى البطاقة.")
    with page.expect_navigation():
        page.get_by_role("button", name="Français").click()
    assert page.url == url  # the same link, the language remembered for it
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert direction_of(page, "html") == "ltr"
    expect(page.locator("#final_report_experience")).to_have_value(
        "تعرّفنا على سجل الناخبين من التسجيل إلى البطاقة."
    )
    expect(page.get_by_role("status").first).to_contain_text("Votre brouillon a été enregistré.")
