"""The dashboard narrows the requests by the requesting organisation's kind, the filter kept
in the address like the others; the request page names the organisation and its kind. The
brochure ("To whom are the Center's programs are addressed to?"): "the spectrum of attention
for requests from civil society and political parties organisms has widened"."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from engine.actor import Actor
from engine.service import Engine
from tests.web.conftest import SignIn, csrf_of


def listed_ids(html: str) -> list[int]:
    table = re.search(r'<table class="requests">(.*?)</table>', html, re.S)
    if table is None:
        return []
    return [int(i) for i in re.findall(r'href="/requests/(\d+)"', table.group(1))]


@pytest.fixture
def requests_by_kind(engine: Engine, make_emb: Callable[..., str]) -> dict[str, Any]:
    ana = Actor("coordinator", "ana")
    engine.add_emb(
        code="MX-PARTY",
        name="Partido Ejemplo",
        country="MX",
        language="es",
        kind="political_party",
    )
    engine.add_emb(
        code="HN-OSC",
        name="Observatorio Ciudadano",
        country="HN",
        language="es",
        kind="civil_society",
    )
    emb = make_emb("HN-CNE")
    return {
        "party": engine.create("seminar", emb_code="MX-PARTY", title="Foro de partidos", actor=ana),
        "civil": engine.create("seminar", emb_code="HN-OSC", title="Foro ciudadano", actor=ana),
        "emb": engine.create("internship", emb_code=emb, title="Estancia", actor=ana),
    }


def test_the_kind_filter_narrows_the_list_and_stays_in_the_address(
    sign_in: SignIn, requests_by_kind: dict[str, Any]
) -> None:
    browser = sign_in("viewer")
    everything = browser.get("/").text
    assert set(listed_ids(everything)) == {v.id for v in requests_by_kind.values()}
    assert 'name="kind"' in everything
    assert ">Political party</option>" in everything

    parties = browser.get("/?kind=political_party").text
    assert listed_ids(parties) == [requests_by_kind["party"].id]
    assert '<option value="political_party" selected>' in parties
    assert "kind=political_party" in parties  # the page links keep the filter

    embs = browser.get("/?kind=emb&programme=internship").text
    assert listed_ids(embs) == [requests_by_kind["emb"].id]


def test_an_unknown_kind_is_no_filter(sign_in: SignIn, requests_by_kind: dict[str, Any]) -> None:
    html = sign_in("viewer").get("/?kind=church").text
    assert set(listed_ids(html)) == {v.id for v in requests_by_kind.values()}


def test_the_request_page_and_the_new_request_form_show_the_kind(
    sign_in: SignIn, requests_by_kind: dict[str, Any]
) -> None:
    browser = sign_in("coordinator", "ana")
    page = browser.get(f"/requests/{requests_by_kind['party'].id}").text
    assert "Partido Ejemplo (Political party)" in page
    form = browser.get("/requests/new").text
    assert "Partido Ejemplo (Political party, MX)" in form
    assert "Observatorio Ciudadano (Civil society organisation, HN)" in form


def test_the_form_refuses_an_internship_for_a_political_party_with_the_reason(
    sign_in: SignIn, requests_by_kind: dict[str, Any], engine: Engine
) -> None:
    """Internships are for "the requesting Electoral Administration Body (OAE)" (§ 2.2)."""
    browser = sign_in("coordinator", "ana")
    token = csrf_of(browser.get("/requests/new").text)
    response = browser.post(
        "/requests",
        data={
            "csrf_token": token,
            "programme": "internship",
            "emb": "MX-PARTY",
            "title": "Estancia de un partido",
        },
    )
    assert response.status_code == 422
    assert "Partido Ejemplo (Political party) may not request the programme Internship" in (
        response.text
    )
    assert "This kind of organisation may not request this programme." in response.text
    assert len(engine.list_requests()) == len(requests_by_kind)
