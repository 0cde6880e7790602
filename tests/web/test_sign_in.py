"""Signing in through the form: the session cookie, the CSRF token, the throttle."""

from __future__ import annotations

from starlette.testclient import TestClient

from engine.accounts import Accounts
from tests.web.conftest import csrf_of


def test_sign_in_sets_an_httponly_samesite_session_and_lands_on_the_target(
    client: TestClient, accounts: Accounts
) -> None:
    accounts.add_user("ana", "coordinator", "ana-password-long")
    form = client.get("/login?next=/outbox")
    assert form.status_code == 200
    response = client.post(
        "/login",
        data={
            "username": "ana",
            "password": "ana-password-long",
            "csrf_token": csrf_of(form.text),
            "next": "/outbox",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/outbox"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    client: TestClient, accounts: Accounts
) -> None:
    accounts.add_user("ana", "coordinator", "ana-password-long")
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"username": "ana", "password": "nope-nope-nope", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "username or the password" in response.text or "usuario o la contraseña" in response.text


def test_sign_in_without_the_csrf_token_is_refused(client: TestClient, accounts: Accounts) -> None:
    accounts.add_user("ana", "coordinator", "ana-password-long")
    client.get("/login")
    response = client.post("/login", data={"username": "ana", "password": "ana-password-long"})
    assert response.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303  # still signed out


def test_repeated_failures_are_throttled_even_with_the_right_password(
    client: TestClient, accounts: Accounts
) -> None:
    accounts.add_user("ana", "coordinator", "ana-password-long")
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        client.post(
            "/login", data={"username": "ana", "password": "wrong-guess-x", "csrf_token": token}
        )
    response = client.post(
        "/login", data={"username": "ana", "password": "ana-password-long", "csrf_token": token}
    )
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0


def test_an_offsite_next_is_not_followed(client: TestClient, accounts: Accounts) -> None:
    accounts.add_user("ana", "coordinator", "ana-password-long")
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "username": "ana",
            "password": "ana-password-long",
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_pages_need_a_signed_in_user(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/")


def test_pages_carry_a_content_security_policy_without_inline_script(client: TestClient) -> None:
    csp = client.get("/login").headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
