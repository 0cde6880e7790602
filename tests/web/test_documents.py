"""The delegates' documents on the request page: each delegate's invitation letter and agenda
pack, downloaded as PDF once the event is confirmed; before, an HTML page explains why not.
Any signed-in role that reads the request may download them; nobody else. Real databases,
real sign-in."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.service import Engine
from tests.documents.helpers import pdf_text, workshop
from tests.web.conftest import SignIn


@pytest.fixture
def emb(make_emb: Callable[..., str]) -> str:
    return make_emb("TSE-HN", country="HN", language="es", name="Tribunal Supremo Electoral")


def test_a_coordinator_downloads_a_delegates_letter_from_the_request_page(
    engine: Engine, emb: str, sign_in: SignIn
) -> None:
    view = workshop(engine, emb)
    browser = sign_in("coordinator", "ana")
    page = browser.get(f"/requests/{view.id}").text
    assert "Delegates&#39; documents" in page or "Delegates' documents" in page
    href = f"/requests/{view.id}/delegates/2/letter.pdf"
    assert f'href="{href}"' in page
    assert f'href="/requests/{view.id}/delegates/3/agenda.pdf"' in page
    response = browser.get(href)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="cicie-{view.id}-invitation-2-aminata-traore.pdf"'
    assert disposition.isascii()
    assert response.headers["cache-control"] == "private, no-store"
    text = pdf_text(response.content)
    assert "Aminata Traoré" in text
    assert "du 6 juin 2016 au 10 juin 2016" in text  # her language, whatever the page's


def test_a_viewer_may_download_and_a_stranger_is_sent_to_sign_in(
    engine: Engine, emb: str, sign_in: SignIn, client: object
) -> None:
    view = workshop(engine, emb)
    agenda = f"/requests/{view.id}/delegates/1/agenda.pdf"
    viewer = sign_in("viewer", "vera")
    assert viewer.get(agenda).status_code == 200
    stranger = client.get(agenda, follow_redirects=False)  # type: ignore[attr-defined]
    assert stranger.status_code == 303
    assert stranger.headers["location"].startswith("/login?next=")


def test_before_the_logistics_are_confirmed_there_are_no_links_and_a_page_says_why(
    engine: Engine, emb: str, sign_in: SignIn
) -> None:
    view = workshop(engine, emb, state="logistics")
    browser = sign_in("coordinator", "ana")
    assert "/delegates/1/letter.pdf" not in browser.get(f"/requests/{view.id}").text
    response = browser.get(f"/requests/{view.id}/delegates/1/letter.pdf")
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("text/html")
    assert "once its logistics are confirmed" in response.text


@pytest.mark.parametrize("number", ["4", "0", "abc", "99999999999999"])
def test_an_unknown_delegate_or_request_is_the_404_page(
    engine: Engine, emb: str, sign_in: SignIn, number: str
) -> None:
    view = workshop(engine, emb)
    browser = sign_in("coordinator", "ana")
    response = browser.get(f"/requests/{view.id}/delegates/{number}/letter.pdf")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    missing = browser.get("/requests/9999/delegates/1/agenda.pdf")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
