"""An address with a final newline (`a@b.org\\n`: Python's `$` matches before it) is never
stored: the API refuses it for an EMB and for a request's e-mail field, and the request page's
form stores what was meant or refuses it. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.service import Engine
from engine.views import RequestView
from tests.web.conftest import Auth, SignIn, TestClient
from tests.web.test_request_page import form_of

BAD = ["a@b.org\n", "a@b.org\r\n", "a@b.org ", "a@b.org\nBcc: x@y.org", "a@b.org,x@y.org"]


@pytest.mark.parametrize("email", BAD)
def test_the_api_refuses_such_an_emb_address(
    client: TestClient, auth: Auth, engine: Engine, email: str
) -> None:
    body = {"code": "JNE-PE", "name": "JNE", "country": "PE", "language": "es", "email": email}
    response = client.post("/api/embs", headers=auth("coordinator"), json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_data"
    assert {"field": "email", "message": "not a single valid e-mail address"} in error["details"]
    assert engine.list_embs() == []


@pytest.mark.parametrize("email", BAD)
def test_the_api_refuses_it_in_a_request_field(
    client: TestClient, auth: Auth, make_request: Callable[..., RequestView], email: str
) -> None:
    view = make_request("international_workshop", "intake")
    response = client.patch(
        f"/api/requests/{view.id}",
        headers=auth("coordinator"),
        json={"data": {"contact_email": email}},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "contact_email"
    assert (
        "contact_email"
        not in client.get(f"/api/requests/{view.id}", headers=auth("viewer")).json()["data"]
    )


def test_the_form_stores_the_address_without_the_line_break_or_refuses_it(
    make_request: Callable[..., RequestView], sign_in: SignIn, engine: Engine
) -> None:
    view = make_request("international_workshop", "intake")
    browser = sign_in("coordinator", "ana")
    page = browser.get(f"/requests/{view.id}").text
    saved = browser.post(
        f"/requests/{view.id}/data", data=form_of(page, contact_email="karla@example.org\r\n")
    )
    assert saved.status_code == 200
    assert engine.get(view.id).data["contact_email"] == "karla@example.org"  # trimmed, as typed

    page = browser.get(f"/requests/{view.id}").text
    refused = browser.post(
        f"/requests/{view.id}/data",
        data=form_of(page, contact_email="karla@example.org\nBcc: x@y.org"),
    )
    assert refused.status_code == 422
    assert engine.get(view.id).data["contact_email"] == "karla@example.org"
