"""Through the real server: uvicorn on loopback serving the application over the shared
SQLite and PostgreSQL databases, spoken to over HTTP by httpx, as an attacker holding a copied
cookie or a leaked token would. Logging out, "sign out everywhere", a new password and
disabling the user end the session on the server, so the copied cookie is refused (redirected
to /login); a disabled user's token and an expired token get 401 from the API."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from argon2 import PasswordHasher

from engine.accounts import Accounts
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from tests.browser.live import ServerThread
from web.app import create_app

PASSWORD = "live-server-password"
COOKIE = "cicie_session"


@pytest.fixture
def server_url(runtime: Runtime) -> Iterator[str]:
    """The application served by uvicorn on a free loopback port, for this test only."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = ServerThread(create_app(runtime), sock)
    server.start()
    try:
        server.wait_started()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.stop()
        sock.close()


@pytest.fixture
def accounts(runtime: Runtime) -> Accounts:
    return Accounts(
        runtime.db, runtime.engine.clock, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


Browser = Callable[[], httpx.Client]


@pytest.fixture
def browser(server_url: str) -> Iterator[Browser]:
    """`browser()` → a new HTTP client of the live server with a cookie jar of its own (every
    one is closed after the test)."""
    opened: list[httpx.Client] = []

    def make() -> httpx.Client:
        client = httpx.Client(base_url=server_url, follow_redirects=False, timeout=30)
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(browser: Browser, username: str) -> httpx.Client:
    client = browser()
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    assert client.get("/").status_code == 200
    return client


def replay(browser: Browser, signed_in: httpx.Client) -> httpx.Client:
    """Another client holding a copy of the signed-in browser's session cookie."""
    copy = browser()
    cookie = signed_in.cookies.get(COOKIE)
    assert cookie
    copy.cookies.set(COOKIE, cookie)
    return copy


def post_form(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    token = csrf_of(client.get("/account").text)
    return client.post(path, data={**data, "csrf_token": token})


def refused_to_sign_in(client: httpx.Client) -> bool:
    response = client.get("/")
    return response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_cookie_captured_before_logout_is_refused_after_it(
    browser: Browser, accounts: Accounts
) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    ana = sign_in(browser, "ana")
    captured = replay(browser, ana)
    assert captured.get("/").status_code == 200  # the copy works while the session lives

    assert post_form(ana, "/logout", {}).status_code == 303

    assert refused_to_sign_in(captured)
    assert refused_to_sign_in(ana)


def test_sign_out_everywhere_ends_a_copied_cookie(browser: Browser, accounts: Accounts) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    ana = sign_in(browser, "ana")
    elsewhere = sign_in(browser, "ana")
    captured = replay(browser, ana)

    assert post_form(elsewhere, "/account/sign-out-everywhere", {}).status_code == 303

    assert refused_to_sign_in(captured)
    assert refused_to_sign_in(ana)
    assert refused_to_sign_in(elsewhere)


def test_a_new_password_ends_a_copied_cookie_but_not_the_changers_session(
    browser: Browser, accounts: Accounts
) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    ana = sign_in(browser, "ana")
    captured = replay(browser, ana)

    response = post_form(
        ana,
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "another long password",
            "new_password_again": "another long password",
        },
    )

    assert response.status_code == 303
    assert refused_to_sign_in(captured)
    assert ana.get("/").status_code == 200  # re-issued with a fresh id


def test_a_disabled_users_cookie_and_token_are_refused(
    browser: Browser, accounts: Accounts
) -> None:
    accounts.add_user("root", "admin", PASSWORD)
    accounts.add_user("ana", "coordinator", PASSWORD)
    token = accounts.issue_token("ana")
    ana = sign_in(browser, "ana")
    captured = replay(browser, ana)
    api = browser()
    api.headers["Authorization"] = f"Bearer {token}"
    assert api.get("/api/embs").status_code == 200

    admin = sign_in(browser, "root")
    target = accounts.account("ana").id
    response = post_form(admin, f"/admin/users/{target}/disable", {})

    assert response.status_code == 303
    assert refused_to_sign_in(ana)
    assert refused_to_sign_in(captured)
    refused = api.get("/api/embs")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    # and they cannot sign in again: the same answer as a wrong password
    again = browser()
    form = csrf_of(again.get("/login").text)
    response = again.post(
        "/login", data={"username": "ana", "password": PASSWORD, "csrf_token": form}
    )
    assert response.status_code == 401
    assert "username or the password" in response.text or "usuario o la contraseña" in (
        response.text
    )


def test_an_expired_token_is_refused(
    browser: Browser, accounts: Accounts, clock: ManualClock
) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    token = accounts.issue_token("ana", expires_days=7)
    api = browser()
    api.headers["Authorization"] = f"Bearer {token}"
    assert api.get("/api/embs").status_code == 200
    clock.advance(timedelta(days=7))
    assert api.get("/api/embs").status_code == 401


def test_a_session_unused_for_12_hours_is_refused(
    browser: Browser, accounts: Accounts, clock: ManualClock
) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    ana = sign_in(browser, "ana")
    clock.advance(timedelta(hours=12))
    assert refused_to_sign_in(ana)
