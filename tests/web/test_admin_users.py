"""Managing accounts in the browser: `/admin/users` for admins (add, role, disable/enable,
password, API tokens) and `/account` for everyone (own password, sign out everywhere). Each
change is a CSRF-checked form followed by a redirect; a refusal comes back as the page with
the reasons (422). On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from starlette.testclient import TestClient

from engine.accounts import Accounts
from engine.bootstrap import Runtime
from tests.web.conftest import SignIn, csrf_of

NEW_PASSWORD = "a brand new password"


def post(browser: TestClient, path: str, data: dict[str, str], page: str = "/account") -> Any:
    """Submit a form as the browser does: with the CSRF token of a page it has open."""
    token = csrf_of(browser.get(page).text)
    return browser.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def signed_in(browser: TestClient) -> bool:
    return browser.get("/", follow_redirects=False).status_code == 200


def user_id(accounts: Accounts, username: str) -> int:
    return accounts.account(username).id


def api_status(client: TestClient, token: str) -> int:
    return client.get("/api/embs", headers={"Authorization": f"Bearer {token}"}).status_code


# ---------------------------------------------------------------- who may
@pytest.mark.parametrize("role", ["viewer", "coordinator"])
def test_only_admins_reach_user_management(sign_in: SignIn, accounts: Accounts, role: str) -> None:
    browser = sign_in(role)
    target = user_id(accounts, role)
    assert browser.get("/admin/users").status_code == 403
    assert browser.get(f"/admin/users/{target}").status_code == 403
    response = post(browser, "/admin/users", {"username": "eve", "role": "admin"})
    assert response.status_code == 403
    response = post(browser, f"/admin/users/{target}/role", {"role": "admin"})
    assert response.status_code == 403
    assert accounts.account(role).role == role
    assert [a.username for a in accounts.list_accounts()] == [role]


def test_a_visitor_is_sent_to_sign_in(client: TestClient) -> None:
    for path in ("/admin/users", "/account"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


def test_admins_see_users_in_the_navigation_and_everyone_sees_account(sign_in: SignIn) -> None:
    admin_page = sign_in("admin").get("/").text
    viewer_page = sign_in("viewer").get("/").text
    assert 'href="/admin/users"' in admin_page
    assert 'href="/admin/users"' not in viewer_page
    assert 'href="/account"' in admin_page
    assert 'href="/account"' in viewer_page


def test_a_form_without_the_csrf_token_is_refused(sign_in: SignIn, accounts: Accounts) -> None:
    admin = sign_in("admin")
    sign_in("viewer")
    target = user_id(accounts, "viewer")
    assert admin.post(f"/admin/users/{target}/disable").status_code == 403
    assert admin.post("/account/sign-out-everywhere").status_code == 403
    assert accounts.account("viewer").active
    assert signed_in(admin)


# ---------------------------------------------------------------- /admin/users
def test_an_admin_adds_a_user_who_can_then_sign_in(
    sign_in: SignIn, accounts: Accounts, app: FastAPI
) -> None:
    admin = sign_in("admin")
    response = post(
        admin,
        "/admin/users",
        {"username": "maria", "role": "coordinator", "password": NEW_PASSWORD},
        page="/admin/users",
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/users/{user_id(accounts, 'maria')}"
    listing = admin.get("/admin/users")
    assert "maria" in listing.text
    assert listing.headers["cache-control"] == "no-store"
    maria = TestClient(app)
    token = csrf_of(maria.get("/login").text)
    response = maria.post(
        "/login",
        data={"username": "maria", "password": NEW_PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert signed_in(maria)


def test_a_user_that_cannot_be_added_comes_back_with_the_reasons(
    sign_in: SignIn, accounts: Accounts
) -> None:
    admin = sign_in("admin")
    response = post(
        admin,
        "/admin/users",
        {"username": "admin", "role": "superuser", "password": "short"},
        page="/admin/users",
    )
    assert response.status_code == 422
    assert "This username is already taken." not in response.text  # refused before the lookup
    assert "Choose admin, coordinator or viewer." in response.text
    assert "Use 10 to 1024 characters." in response.text
    response = post(
        admin,
        "/admin/users",
        {"username": "admin", "role": "viewer", "password": NEW_PASSWORD},
        page="/admin/users",
    )
    assert response.status_code == 422
    assert "This username is already taken." in response.text
    assert [a.username for a in accounts.list_accounts()] == ["admin"]


def test_an_admin_changes_a_role_but_never_the_last_admins(
    sign_in: SignIn, accounts: Accounts
) -> None:
    admin = sign_in("admin")
    viewer = sign_in("viewer")
    target = user_id(accounts, "viewer")
    assert viewer.get("/requests/new").status_code == 403
    response = post(admin, f"/admin/users/{target}/role", {"role": "coordinator"})
    assert response.status_code == 303
    assert viewer.get("/requests/new").status_code == 200  # at once, same session

    own = user_id(accounts, "admin")
    response = post(admin, f"/admin/users/{own}/role", {"role": "viewer"})
    assert response.status_code == 422
    assert "This is the last active admin" in response.text
    assert accounts.account("admin").role == "admin"
    response = post(admin, f"/admin/users/{own}/disable", {})
    assert response.status_code == 422
    assert "This is the last active admin" in response.text
    assert accounts.account("admin").active


def test_disabling_a_user_signs_them_out_and_refuses_their_token(
    sign_in: SignIn, accounts: Accounts, client: TestClient
) -> None:
    admin = sign_in("admin")
    coordinator = sign_in("coordinator", "ana")
    token = accounts.issue_token("ana")
    target = user_id(accounts, "ana")
    assert api_status(client, token) == 200

    response = post(admin, f"/admin/users/{target}/disable", {})

    assert response.status_code == 303
    assert not signed_in(coordinator)
    assert api_status(client, token) == 401
    assert "Disabled" in admin.get("/admin/users").text
    assert post(admin, f"/admin/users/{target}/enable", {}).status_code == 303
    assert accounts.account("ana").active
    assert api_status(client, token) == 401, "enabling does not bring tokens back"
    assert signed_in(sign_in("coordinator", "ana"))


def test_a_password_set_by_an_admin_signs_the_user_out(sign_in: SignIn, accounts: Accounts) -> None:
    admin = sign_in("admin")
    viewer = sign_in("viewer")
    target = user_id(accounts, "viewer")
    mismatch = post(
        admin,
        f"/admin/users/{target}/password",
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD + "!"},
    )
    assert mismatch.status_code == 422
    assert "The two passwords are not the same." in mismatch.text
    assert signed_in(viewer)

    response = post(
        admin,
        f"/admin/users/{target}/password",
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )

    assert response.status_code == 303
    assert not signed_in(viewer)
    assert accounts.authenticate("viewer", NEW_PASSWORD) is not None


def test_a_new_token_is_shown_once_uncached_and_can_be_revoked(
    sign_in: SignIn, accounts: Accounts, client: TestClient
) -> None:
    admin = sign_in("admin")
    sign_in("coordinator", "ana")
    target = user_id(accounts, "ana")

    issued = post(
        admin,
        f"/admin/users/{target}/tokens",
        {"label": "reporting script", "expires_days": "30"},
    )

    # post/redirect/get: the token is shown once, on the page the form redirects to
    assert issued.status_code == 303
    cookie = str(admin.cookies.get("cicie_session"))  # the token sealed in it, till shown
    shown = admin.get(issued.headers["location"])
    assert shown.headers["cache-control"] == "no-store"
    found = re.search(r'<code class="new-token">([^<]+)</code>', shown.text)
    assert found
    token = found.group(1)
    assert token not in base64.urlsafe_b64decode(cookie.split(".")[0] + "==").decode("latin-1")
    assert api_status(client, token) == 200
    page = admin.get(f"/admin/users/{target}").text
    assert token not in page
    assert "reporting script" in page
    [listed] = accounts.tokens("ana")
    assert (listed.expires_at - listed.created_at).days == 30

    response = post(admin, f"/admin/users/{target}/tokens/{listed.id}/revoke", {})

    assert response.status_code == 303
    assert api_status(client, token) == 401
    assert accounts.tokens("ana") == []
    again = post(admin, f"/admin/users/{target}/tokens/{listed.id}/revoke", {})
    assert again.status_code == 404


@pytest.mark.parametrize("days", ["0", "3651", "soon"])
def test_a_token_lifetime_outside_1_to_3650_days_is_refused(
    sign_in: SignIn, accounts: Accounts, days: str
) -> None:
    admin = sign_in("admin")
    target = user_id(accounts, "admin")
    response = post(admin, f"/admin/users/{target}/tokens", {"expires_days": days})
    assert response.status_code == 422
    assert "A whole number of days from 1 to 3650." in response.text
    assert accounts.tokens("admin") == []


def test_another_users_token_cannot_be_revoked_through_someone_else(
    sign_in: SignIn, accounts: Accounts, client: TestClient
) -> None:
    admin = sign_in("admin")
    sign_in("coordinator", "ana")
    token = accounts.issue_token("ana")
    [listed] = accounts.tokens("ana")
    response = post(
        admin, f"/admin/users/{user_id(accounts, 'admin')}/tokens/{listed.id}/revoke", {}
    )
    assert response.status_code == 404
    assert api_status(client, token) == 200


def test_an_unknown_user_is_not_found(sign_in: SignIn) -> None:
    assert sign_in("admin").get("/admin/users/999999").status_code == 404


# ---------------------------------------------------------------- /account
def test_changing_ones_password_keeps_this_session_and_ends_the_others(
    sign_in: SignIn, accounts: Accounts
) -> None:
    here, elsewhere = sign_in("viewer"), sign_in("viewer")
    response = post(
        here,
        "/account/password",
        {
            "current_password": "viewer-password-long",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    assert "Your password was changed." in here.get("/account").text
    assert signed_in(here)
    assert not signed_in(elsewhere)
    assert accounts.authenticate("viewer", NEW_PASSWORD) is not None


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (("not my password", NEW_PASSWORD, NEW_PASSWORD), "This is not your current password."),
        (("viewer-password-long", "short", "short"), "Use 10 to 1024 characters."),
        (
            ("viewer-password-long", NEW_PASSWORD, NEW_PASSWORD + "!"),
            "The two new passwords are not the same.",
        ),
    ],
)
def test_a_password_change_that_cannot_be_made_changes_nothing(
    sign_in: SignIn, accounts: Accounts, fields: tuple[str, str, str], reason: str
) -> None:
    browser = sign_in("viewer")
    current, new, again = fields
    response = post(
        browser,
        "/account/password",
        {"current_password": current, "new_password": new, "new_password_again": again},
    )
    assert response.status_code == 422
    assert reason in response.text
    assert accounts.authenticate("viewer", "viewer-password-long") is not None
    assert signed_in(browser)


def test_sign_out_everywhere_ends_every_session_of_the_user(sign_in: SignIn) -> None:
    here, elsewhere = sign_in("viewer"), sign_in("viewer")
    other = sign_in("coordinator")
    response = post(here, "/account/sign-out-everywhere", {})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert not signed_in(here)
    assert not signed_in(elsewhere)
    assert signed_in(other)


def test_the_account_page_is_translated(sign_in: SignIn, accounts: Accounts) -> None:
    browser = sign_in("viewer")
    accounts.set_language(user_id(accounts, "viewer"), "es")
    page = browser.get("/account", headers={"Accept-Language": "es"})
    assert "Cerrar sesión en todas partes" in page.text


# ---------------------------------------------------------------- cost and secrecy
@contextmanager
def statements(runtime: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    sa.event.listen(runtime.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(runtime.db.engine, "before_cursor_execute", record)


def test_knowing_who_is_signed_in_costs_one_query(sign_in: SignIn, runtime: Runtime) -> None:
    browser = sign_in("viewer")
    with statements(runtime) as seen:
        assert browser.get("/account").status_code == 200
    session_queries = [s for s in seen if "user_session" in s]
    assert len(session_queries) == 1
    assert "user_account" in session_queries[0]  # the user comes with it


def test_passwords_and_tokens_are_never_logged(
    sign_in: SignIn, accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = sign_in("admin")
    sign_in("viewer")
    target = user_id(accounts, "viewer")
    post(
        admin,
        f"/admin/users/{target}/password",
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    issued = post(admin, f"/admin/users/{target}/tokens", {"expires_days": "5"})
    shown = admin.get(issued.headers["location"])
    found = re.search(r'<code class="new-token">([^<]+)</code>', shown.text)
    assert found
    logged = "\n".join(
        f"{r.getMessage()} {r.args} {getattr(r, 'http', '')}" for r in caplog.records
    )
    assert NEW_PASSWORD not in logged
    assert "admin-password-long" not in logged
    assert found.group(1) not in logged
