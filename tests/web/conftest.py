"""The real application over the real databases (SQLite and PostgreSQL, see tests/conftest.py),
and a factory of `Authorization` headers for users of each role."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from starlette.testclient import TestClient

from config.secret import site_secret
from engine.accounts import Accounts
from engine.bootstrap import Runtime
from engine.links import LinkSigner
from web.app import create_app

Auth = Callable[..., dict[str, str]]
SignIn = Callable[..., TestClient]

EMAIL = "wanjiru.kamau@example.org"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def link(runtime: Runtime, request_id: int, purpose: str = "report", email: str = EMAIL) -> str:
    signer = LinkSigner(site_secret(runtime.settings).get_secret_value(), runtime.engine.clock)
    return f"/{purpose}/{signer.token(request_id, purpose, email)}"  # type: ignore[arg-type]


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def english(client: TestClient) -> TestClient:
    client.headers["Accept-Language"] = "en"
    return client


@pytest.fixture
def accounts(runtime: Runtime) -> Accounts:
    # cheap argon2 parameters: the tests are about who may do what, not about hashing cost
    return Accounts(
        runtime.db, runtime.engine.clock, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def auth(accounts: Accounts) -> Auth:
    """`auth("viewer")` → headers carrying a token of a user with that role (one user per
    role and name, created on first use)."""
    tokens: dict[tuple[str, str], str] = {}

    def make(role: str, name: str | None = None) -> dict[str, str]:
        username = name or role
        key = (role, username)
        if key not in tokens:
            accounts.add_user(username, role, f"{username}-password-long")
            tokens[key] = accounts.issue_token(username, label="tests")
        return {"Authorization": f"Bearer {tokens[key]}"}

    return make


@pytest.fixture
def sign_in(app: FastAPI, accounts: Accounts) -> SignIn:
    """`sign_in("coordinator", "ana")` → a browser (its own cookie jar) signed in as them."""
    made: set[str] = set()

    def make(role: str, name: str | None = None) -> TestClient:
        username = name or role
        if username not in made:
            accounts.add_user(username, role, f"{username}-password-long", language="en")
            made.add(username)
        browser = TestClient(app)
        token = csrf_of(browser.get("/login").text)
        response = browser.post(
            "/login",
            data={
                "username": username,
                "password": f"{username}-password-long",
                "csrf_token": token,
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        return browser

    return make
