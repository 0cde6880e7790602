"""Organisations in the browser (`/organisations`): everyone signed in reads the list and each
organisation's page; coordinators and admins add one, correct one and deactivate and
reactivate it. Each change is a CSRF-checked form followed by a redirect; a refused form comes
back (422) with what was typed, each problem next to its field and a summary at the top. A
deactivated organisation keeps its requests but is not offered for new ones, in the browser,
the API and the CLI alike. On SQLite and PostgreSQL."""

from __future__ import annotations

import html
from typing import Any

import pytest
from starlette.testclient import TestClient

from engine.actor import Actor
from engine.bootstrap import Runtime
from tests.web.conftest import Auth, SignIn, csrf_of

COORDINATOR = Actor.parse("coordinator:ana")
CNE = {
    "code": "HN-CNE",
    "name": "Consejo Nacional Electoral",
    "country": "HN",
    "language": "es",
    "email": "info@cne.example.org",
    "kind": "emb",
}


def post(browser: TestClient, path: str, data: dict[str, str], page: str) -> Any:
    """Submit a form as the browser does: with the CSRF token of the page it has open."""
    token = csrf_of(browser.get(page).text)
    return browser.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def add(browser: TestClient, **changes: str) -> Any:
    return post(browser, "/organisations", {**CNE, **changes}, "/organisations/new")


def org_id(runtime: Runtime, code: str) -> int:
    row = runtime.engine.emb_row(code)
    assert row is not None
    return row.id


# ---------------------------------------------------------------- adding and listing
def test_a_coordinator_adds_an_organisation_and_sees_it_listed_in_words(
    sign_in: SignIn, runtime: Runtime
) -> None:
    browser = sign_in("coordinator")
    response = add(browser)
    assert response.status_code == 303
    assert response.headers["location"] == f"/organisations/{org_id(runtime, 'HN-CNE')}"
    page = browser.get(response.headers["location"]).text
    assert "Organisation HN-CNE added." in page
    listed = browser.get("/organisations").text
    for text in ("HN-CNE", "Consejo Nacional Electoral", "Honduras", "Spanish"):
        assert text in listed
    assert "Electoral management body" in listed
    assert "info@cne.example.org" in listed
    assert '<a href="/organisations">' in browser.get("/account").text  # in the navigation


def test_the_list_names_the_country_and_language_in_the_readers_language(
    sign_in: SignIn,
) -> None:
    browser = sign_in("coordinator")
    add(browser)
    token = csrf_of(browser.get("/organisations").text)
    browser.post(
        "/language",
        data={"language": "fr", "csrf_token": token, "next": "/organisations"},
        follow_redirects=False,
    )
    listed = browser.get("/organisations").text
    assert "Honduras" in listed
    assert "espagnol" in listed.lower()


def test_the_list_counts_each_organisations_requests(sign_in: SignIn, runtime: Runtime) -> None:
    browser = sign_in("coordinator")
    add(browser)
    for title in ("Taller", "Seminario"):
        runtime.engine.create("seminar", emb_code="HN-CNE", title=title, actor=COORDINATOR)
    listed = browser.get("/organisations").text
    assert '<a href="/?emb=HN-CNE">2</a>' in listed


def test_a_refused_form_keeps_what_was_typed_with_each_problem_by_its_field(
    sign_in: SignIn, runtime: Runtime
) -> None:
    browser = sign_in("coordinator")
    response = add(browser, code="HN CNE", email="info@cne", name="Consejo <b>Nacional</b>")
    assert response.status_code == 422
    page = response.text
    assert 'id="error-summary"' in page
    for field in ("code", "email"):
        assert f'href="#{field}"' in page  # in the summary
        assert f'id="{field}-error"' in page  # by the field
    assert 'value="HN CNE"' in page
    assert 'value="info@cne"' in page
    assert html.escape("Consejo <b>Nacional</b>") in page  # shown as text, not markup
    assert 'aria-invalid="true"' in page
    assert runtime.engine.list_embs() == []


def test_a_code_already_taken_is_refused_next_to_the_code(sign_in: SignIn) -> None:
    browser = sign_in("coordinator")
    add(browser)
    response = add(browser, name="Otro")
    assert response.status_code == 422
    assert "An organisation with this code already exists." in response.text
    assert 'value="Otro"' in response.text


def test_inputs_are_bounded_like_the_columns(sign_in: SignIn, runtime: Runtime) -> None:
    page = sign_in("coordinator").get("/organisations/new").text
    assert 'maxlength="40"' in page  # code
    assert 'maxlength="300"' in page  # name
    assert 'maxlength="254"' in page  # e-mail
    response = add(sign_in("coordinator"), name="x" * 5000)
    assert response.status_code == 422
    assert 'id="name-error"' in response.text
    assert runtime.engine.list_embs() == []


# ---------------------------------------------------------------- correcting
def test_a_coordinator_corrects_name_language_address_and_kind(
    sign_in: SignIn, runtime: Runtime
) -> None:
    browser = sign_in("coordinator")
    add(browser)
    target = org_id(runtime, "HN-CNE")
    page = f"/organisations/{target}"
    changed = {"name": "CNE Honduras", "language": "en", "email": "", "kind": "other"}
    response = post(browser, page, changed, page)
    assert response.status_code == 303
    assert response.headers["location"] == page
    assert "Organisation HN-CNE saved." in browser.get(page).text
    [org] = runtime.engine.list_embs()
    assert (org.name, org.language, org.email, org.kind) == ("CNE Honduras", "en", None, "other")
    assert (org.code, org.country) == ("HN-CNE", "HN")  # shown, not changed


def test_the_edit_form_refuses_a_bad_address_and_keeps_the_typed_values(
    sign_in: SignIn, runtime: Runtime
) -> None:
    browser = sign_in("coordinator")
    add(browser)
    page = f"/organisations/{org_id(runtime, 'HN-CNE')}"
    response = post(browser, page, {**CNE, "name": "Nuevo nombre", "email": "a@b@c"}, page)
    assert response.status_code == 422
    assert 'value="Nuevo nombre"' in response.text
    assert 'id="email-error"' in response.text
    assert runtime.engine.list_embs()[0].name == "Consejo Nacional Electoral"


def test_an_unknown_or_malformed_address_is_an_html_error_page(sign_in: SignIn) -> None:
    browser = sign_in("coordinator")
    for path, code in (("/organisations/999", 404), ("/organisations/abc", 400)):
        response = browser.get(path)
        assert response.status_code == code
        assert response.headers["content-type"].startswith("text/html")
    assert post(browser, "/organisations/999", CNE, "/organisations").status_code == 404


# ---------------------------------------------------------------- who may
def test_a_viewer_reads_but_may_not_change(sign_in: SignIn, runtime: Runtime) -> None:
    add(sign_in("coordinator"))
    target = org_id(runtime, "HN-CNE")
    viewer = sign_in("viewer")
    assert "HN-CNE" in viewer.get("/organisations").text
    page = viewer.get(f"/organisations/{target}").text
    assert "Consejo Nacional Electoral" in page
    assert '<form method="post" action="/organisations/' not in page
    assert viewer.get("/organisations/new").status_code == 403
    assert add(viewer, code="HN-TSE").status_code == 403
    path = f"/organisations/{target}/deactivate"
    assert post(viewer, path, {}, "/organisations").status_code == 403
    assert runtime.engine.list_embs()[0].active


def test_a_form_without_the_csrf_token_is_refused(sign_in: SignIn, runtime: Runtime) -> None:
    browser = sign_in("admin")
    assert browser.post("/organisations", data=CNE).status_code == 403
    assert runtime.engine.list_embs() == []


# ---------------------------------------------------------------- deactivating
def test_deactivation_keeps_requests_and_refuses_new_ones_until_reactivated(
    sign_in: SignIn, runtime: Runtime, auth: Auth
) -> None:
    browser = sign_in("coordinator")
    add(browser)
    old = runtime.engine.create("seminar", emb_code="HN-CNE", title="Foro", actor=COORDINATOR)
    page = f"/organisations/{org_id(runtime, 'HN-CNE')}"

    response = post(browser, f"{page}/deactivate", {}, page)
    assert response.status_code == 303
    assert "is deactivated" in browser.get(page).text
    assert "Deactivated" in browser.get("/organisations").text
    assert runtime.engine.get(old.id).emb == "HN-CNE"  # its request stays
    assert "HN-CNE" not in browser.get("/requests/new").text  # not offered

    refused = post(
        browser,
        "/requests",
        {"programme": "seminar", "emb": "HN-CNE", "title": "Otro foro"},
        "/requests/new",
    )
    assert refused.status_code == 422
    assert "reactivate" in refused.text.lower()
    api = TestClient(browser.app)
    answer = api.post(
        "/api/requests",
        headers=auth("coordinator", "api-coordinator"),
        json={"programme": "seminar", "emb": "HN-CNE", "title": "Otro foro"},
    )
    assert answer.status_code == 403
    assert "Consejo Nacional Electoral" in answer.json()["error"]["message"]
    assert "cicie org activate HN-CNE" in answer.json()["error"]["message"]
    assert len(runtime.engine.list_requests()) == 1

    assert post(browser, f"{page}/activate", {}, page).status_code == 303
    assert "HN-CNE" in browser.get("/requests/new").text
    created = post(
        browser,
        "/requests",
        {"programme": "seminar", "emb": "HN-CNE", "title": "Otro foro"},
        "/requests/new",
    )
    assert created.status_code == 303
    assert len(runtime.engine.list_requests()) == 2


@pytest.mark.parametrize("action", ["deactivate", "activate"])
def test_doing_it_twice_changes_nothing_more(
    sign_in: SignIn, runtime: Runtime, action: str
) -> None:
    browser = sign_in("coordinator")
    add(browser)
    page = f"/organisations/{org_id(runtime, 'HN-CNE')}"
    for _ in range(2):
        assert post(browser, f"{page}/{action}", {}, page).status_code == 303
    assert runtime.engine.list_embs()[0].active is (action == "activate")
