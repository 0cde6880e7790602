"""Every 4xx a browser can meet is an HTML page (issue 15): in the reader's language, on the
public layout for pages reached through a signed link (`/report/…`, `/status/…`), on the
signed-in layout elsewhere; the JSON API under /api keeps its JSON shape."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.views import RequestView
from tests.web.conftest import Auth, SignIn, csrf_of, link
from web.body_limit import FORM_MAX_BODY

MakeRequest = Callable[..., RequestView]
PUBLIC_LAYOUT = 'class="public-page"'
SIGNED_IN_NAV = 'action="/logout"'


def is_html_page(response: object, status_code: int) -> str:
    assert getattr(response, "status_code", None) == status_code
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["content-type"].startswith("text/html"), headers["content-type"]
    text = str(response.text)  # type: ignore[attr-defined]
    assert text.lstrip().startswith("<!doctype html>")
    assert '"error":' not in text  # no JSON body shown as a page
    assert "<h1>" in text
    return text


# ---------------------------------------------------------------- signed-in pages
def test_each_4xx_of_a_signed_in_page_is_an_html_page(
    sign_in: SignIn, make_request: MakeRequest, runtime: Runtime
) -> None:
    coordinator = sign_in("coordinator", "ana")
    viewer = sign_in("viewer", "vera")
    view = make_request("international_workshop", "intake")
    token = csrf_of(coordinator.get("/").text)
    cases: list[tuple[int, object]] = [
        (400, coordinator.get("/outbox?page=abc")),
        (403, viewer.get("/requests/new")),
        (403, coordinator.post(f"/requests/{view.id}/data", data={"csrf_token": "stale"})),
        (404, coordinator.get("/requests/abc")),
        (404, coordinator.get("/nowhere")),
        (405, coordinator.get("/logout")),
        (
            413,
            coordinator.post(
                f"/requests/{view.id}/data",
                content=b"comment=" + b"x" * FORM_MAX_BODY,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
        ),
        (
            422,
            coordinator.post(
                "/requests", data={"csrf_token": token, "programme": "nope", "title": ""}
            ),
        ),
    ]
    for status_code, response in cases:
        text = is_html_page(response, status_code)
        assert PUBLIC_LAYOUT not in text, status_code
        assert SIGNED_IN_NAV in text, status_code  # the user's own layout, signed in
        assert 'lang="en"' in text  # the user's language (en), not the browser's


def test_the_error_pages_speak_the_readers_language(client: TestClient) -> None:
    client.headers["Accept-Language"] = "fr"
    text = is_html_page(client.get("/nowhere"), 404)
    assert '<html lang="fr"' in text
    assert "Page introuvable" in text
    assert "Not Found" not in text  # Starlette's English words are not shown
    client.headers["Accept-Language"] = "es"
    text = is_html_page(client.get("/logout"), 405)
    assert "Esta página no se puede usar así" in text


def test_sign_in_refusals_are_pages(client: TestClient) -> None:
    client.headers["Accept-Language"] = "en"
    token = csrf_of(client.get("/login").text)
    wrong = client.post("/login", data={"csrf_token": token, "username": "x", "password": "y"})
    assert "not right" in is_html_page(wrong, 401)
    throttled = None
    for _ in range(30):
        throttled = client.post(
            "/login", data={"csrf_token": token, "username": "x", "password": "y"}
        )
        if throttled.status_code == 429:
            break
    assert throttled is not None
    assert "Too many failed attempts" in is_html_page(throttled, 429)


def test_a_conflict_is_a_page(sign_in: SignIn, make_request: MakeRequest, runtime: Runtime) -> None:
    view = make_request("international_workshop", "intake")
    browser = sign_in("coordinator", "ana")
    page = browser.get(f"/requests/{view.id}").text
    version = re.search(r'name="expected_version" value="(\d+)"', page)
    assert version
    runtime.engine.update(view.id, Actor("coordinator", "ben"), data={"contact_name": "Ben"})
    response = browser.post(
        f"/requests/{view.id}/data",
        data={
            "csrf_token": csrf_of(page),
            "expected_version": version.group(1),
            "contact_name": "Ana",
        },
    )
    assert "Someone else changed this request" in is_html_page(response, 409)


# ---------------------------------------------------------------- public pages
@pytest.mark.parametrize("purpose", ["report", "status"])
def test_refusals_on_a_links_page_use_the_public_layout(
    client: TestClient, runtime: Runtime, make_request: MakeRequest, purpose: str
) -> None:
    view = make_request("internship", "final_report")
    url = link(runtime, view.id, purpose)
    client.headers["Accept-Language"] = "pt"
    cases: list[tuple[int, object]] = [
        (404, client.get(url + "x")),  # an altered link
        (405, client.put(url)),
    ]
    if purpose == "report":
        stale = client.post(url, data={"csrf_token": "stale", "action": "save"})
        assert "O formulário tinha expirado" in is_html_page(stale, 403)
        cases.append((403, stale))
        limit = runtime.settings.upload_max_bytes * (runtime.settings.upload_max_files + 1)
        cases.append(
            (
                413,
                client.post(
                    url,
                    content=b"x" * limit,
                    headers={"Content-Type": "multipart/form-data; boundary=b"},
                ),
            )
        )
    for status_code, response in cases:
        text = is_html_page(response, status_code)
        assert PUBLIC_LAYOUT in text, status_code
        assert SIGNED_IN_NAV not in text, status_code
        assert '<html lang="pt"' in text, status_code  # a public page's language, here pt
        assert response.headers["cache-control"] == "no-store"  # type: ignore[attr-defined]


def test_the_arabic_public_error_page_is_right_to_left(
    client: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    text = is_html_page(client.put(link(runtime, view.id) + "?lang=ar"), 405)
    assert '<html lang="ar" dir="rtl"' in text


# ---------------------------------------------------------------- the API keeps JSON
def test_the_api_keeps_json(client: TestClient, auth: Auth) -> None:
    for response, status_code in (
        (client.get("/api/requests/abc", headers=auth("viewer")), 422),
        (client.get("/api/requests/99999", headers=auth("viewer")), 404),
        (client.get("/api/requests"), 401),
        (client.delete("/api/requests", headers=auth("viewer")), 405),
    ):
        assert response.status_code == status_code
        assert response.headers["content-type"].startswith("application/json")
        assert "code" in response.json()["error"]
