"""Security review: each finding's regression test, and pins of behaviour that was already
secure but had no test of its own (open redirects, session rotation, download names, error
pages, SVG labels)."""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from config.catalogues import Label
from config.settings import Settings
from engine.account_views import UserView
from engine.accounts import Accounts
from engine.bootstrap import Runtime
from engine.reports import clean_filename
from engine.service import Engine
from engine.views import RequestView
from tests.web.conftest import PDF, SignIn, csrf_of
from tests.web.conftest import link as report_url
from tests.web.test_outbox_page import _queued_mail
from web import diagram_svg
from web.pages.links import _disposition

MakeRequest = Callable[..., RequestView]
BOUNDARY = "cicie-test-boundary"


def multipart(fields: dict[str, str], file_name: str, file_data: bytes) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; '
        f'filename="{file_name}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
        + file_data
        + b"\r\n"
    )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def chunked(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body as a generator: httpx sends it without Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


# ---------------------------------------------------------------- finding 1: chunked bodies
def test_a_chunked_report_body_past_the_limit_is_refused_before_the_form_is_used(
    settings: Settings, client: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    settings.upload_max_bytes = 1024
    settings.upload_max_files = 1
    view = make_request("internship", "final_report")
    url = report_url(runtime, view.id)
    client.headers["Accept-Language"] = "en"
    token = csrf_of(client.get(url).text)
    body = multipart(
        {"csrf_token": token, "action": "save"}, "huge.pdf", PDF + b"0" * (3 * 1024 * 1024)
    )
    response = client.post(
        url,
        content=chunked(body),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 413
    assert "<textarea" not in response.text  # the error page: the form was never handled


def test_a_chunked_body_to_any_form_route_is_bounded(
    settings: Settings, client: TestClient
) -> None:
    """Every page form is parsed by Starlette, which spools file parts to disk: without a
    bound a stranger could fill the disk through /login, CSRF token or not."""
    settings.upload_max_bytes = 1024
    settings.upload_max_files = 1
    token = csrf_of(client.get("/login").text)
    body = multipart(
        {"csrf_token": token, "username": "x", "password": "y"},
        "filler.bin",
        b"0" * (3 * 1024 * 1024),
    )
    response = client.post(
        "/login",
        content=chunked(body),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 413
    # with Content-Length, too
    response = client.post(
        "/login",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 413


def test_a_small_chunked_report_is_still_accepted(
    client: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    url = report_url(runtime, view.id)
    token = csrf_of(client.get(url).text)
    body = multipart({"csrf_token": token, "action": "save"}, "small.pdf", PDF)
    response = client.post(
        url,
        content=chunked(body, 16),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        follow_redirects=False,
    )
    assert response.status_code == 303


# ---------------------------------------------------------------- finding 2: throttle race
def test_parallel_sign_in_guesses_share_the_throttle(
    app: FastAPI, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The throttle was checked before the password and counted after it: guesses sent
    together all passed the check. Now each attempt is counted as it is let through."""
    accounts.add_user("ana", "coordinator", "ana-password-long")
    reached = 0
    lock = threading.Lock()

    def slow_authenticate(username: str, password: str) -> UserView | None:
        nonlocal reached
        with lock:
            reached += 1
        time.sleep(0.3)  # a password hash takes time: the window the guesses used
        return None

    monkeypatch.setattr(app.state.accounts, "authenticate", slow_authenticate)
    browsers = [TestClient(app) for _ in range(10)]
    tokens = [csrf_of(b.get("/login").text) for b in browsers]
    statuses: list[int] = []

    def guess(browser: TestClient, token: str) -> None:
        response = browser.post(
            "/login", data={"username": "ana", "password": "a-guess-xyz", "csrf_token": token}
        )
        with lock:
            statuses.append(response.status_code)

    threads = [
        threading.Thread(target=guess, args=pair) for pair in zip(browsers, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert reached <= 5
    assert statuses.count(429) >= 5


def test_a_successful_sign_in_does_not_count_against_the_address(
    client: TestClient, accounts: Accounts
) -> None:
    """Colleagues behind one address sign in all day: successes never throttle them."""
    accounts.add_user("ana", "coordinator", "ana-password-long")
    for _ in range(8):
        token = csrf_of(client.get("/login").text)
        response = client.post(
            "/login",
            data={"username": "ana", "password": "ana-password-long", "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
        client.post("/logout", data={"csrf_token": csrf_of(client.get("/").text)})


@pytest.mark.parametrize("variant", ["ANA", " ana ", "Ana\t"])
def test_varying_the_username_case_or_spaces_does_not_escape_the_throttle(
    client: TestClient, accounts: Accounts, variant: str
) -> None:
    accounts.add_user("ana", "coordinator", "ana-password-long")
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        client.post(
            "/login", data={"username": variant, "password": "wrong-guess-x", "csrf_token": token}
        )
    response = client.post(
        "/login", data={"username": "ana", "password": "ana-password-long", "csrf_token": token}
    )
    assert response.status_code == 429


# ---------------------------------------------------------------- finding 3: no-store
def test_the_request_page_with_links_to_share_is_never_cached(
    sign_in: SignIn, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    response = sign_in("coordinator").get(f"/requests/{view.id}")
    assert response.status_code == 200
    assert "/report/" in response.text  # a signed link, good for months
    assert response.headers["cache-control"] == "no-store"


def test_an_outbox_message_with_its_links_is_never_cached(
    runtime: Runtime, engine: Engine, make_emb: Callable[..., str], sign_in: SignIn
) -> None:
    message = _queued_mail(runtime, engine, make_emb)
    response = sign_in("coordinator").get(f"/outbox/{message}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


# ---------------------------------------------------------------- finding 4: tokens in logs
def test_the_access_log_leaves_out_the_token_of_a_link(
    client: TestClient,
    runtime: Runtime,
    make_request: MakeRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    view = make_request("internship", "final_report")
    url = report_url(runtime, view.id)
    status = report_url(runtime, view.id, "status")
    with caplog.at_level(logging.INFO, logger="cicie.access"):
        assert client.get(url).status_code == 200
        assert client.get(status).status_code == 200
    lines = [r for r in caplog.records if r.name == "cicie.access"]
    assert lines
    logged = " ".join(r.getMessage() + str(getattr(r, "http", "")) for r in lines)
    assert url.split("/")[-1] not in logged
    assert status.split("/")[-1] not in logged
    assert "/report/<token>" in logged


# ---------------------------------------------------------------- pins: redirects, sessions
OFFSITE = [
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "https://evil.example/",
    "/\t/evil.example/",
    "/\r\n/evil.example/",
    "javascript:alert(1)",
]


def assert_onsite(location: str) -> None:
    """A path on this site: no scheme, no `//host`, nothing a browser strips or turns into one."""
    assert location.startswith("/"), location
    assert not location.startswith(("//", "/\\")), location
    assert not re.search(r"[\s\\]", location), location
    assert urlsplit(location).netloc == "", location


@pytest.mark.parametrize("target", OFFSITE)
def test_no_offsite_redirect_after_sign_in_or_a_language_change(
    client: TestClient, accounts: Accounts, target: str
) -> None:
    accounts.add_user("ana", "coordinator", "ana-password-long")
    token = csrf_of(client.get("/login").text)
    for path, data in (
        ("/language", {"language": "en", "next": target}),
        ("/login", {"username": "ana", "password": "ana-password-long", "next": target}),
    ):
        response = client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)
        assert response.status_code == 303, path
        assert_onsite(response.headers["location"])
    # signed in, /login sends on to `next` at once
    response = client.get("/login", params={"next": target}, follow_redirects=False)
    assert response.status_code == 303
    assert_onsite(response.headers["location"])


def test_signing_in_rotates_the_session_and_its_csrf_token(
    client: TestClient, accounts: Accounts
) -> None:
    accounts.add_user("ana", "coordinator", "ana-password-long")
    before = csrf_of(client.get("/login").text)
    cookie_before = client.cookies.get("cicie_session")
    response = client.post(
        "/login",
        data={"username": "ana", "password": "ana-password-long", "csrf_token": before},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.cookies.get("cicie_session") != cookie_before
    after = csrf_of(client.get("/").text)
    assert after != before
    # the token a fixed, pre-sign-in page carried no longer works
    response = client.post("/language", data={"language": "en", "csrf_token": before})
    assert response.status_code == 403


# ---------------------------------------------------------------- pins: downloads, uploads
@pytest.mark.parametrize(
    "name",
    [
        'a"b.pdf',
        "a\r\nSet-Cookie: x=1.pdf",
        "a;filename=evil.exe;.pdf",
        "../../etc/passwd.pdf",
        "informe é\u202e.pdf",
    ],
)
def test_a_download_name_cannot_break_out_of_its_header(name: str) -> None:
    stored = clean_filename(name)
    assert "/" not in stored
    assert "\\" not in stored
    assert not re.search(r"[\x00-\x1f\x7f]", stored)
    disposition = _disposition(stored)
    fallback = re.fullmatch(
        r"attachment; filename=\"([A-Za-z0-9._ -]+)\"; filename\*=UTF-8''([A-Za-z0-9%._~-]+)",
        disposition,
    )
    assert fallback, disposition
    # even a raw name (not cleaned first) stays inside the header
    raw = _disposition(name)
    assert not re.search(r"[\r\n]", raw)
    assert raw.count('"') == 2


def test_another_requests_attachment_is_not_served_and_a_viewer_cannot_remove_files(
    client: TestClient, runtime: Runtime, make_request: MakeRequest, sign_in: SignIn
) -> None:
    mine = make_request("internship", "final_report")
    other = make_request("internship", "final_report")
    url = report_url(runtime, mine.id)
    token = csrf_of(client.get(url).text)
    client.post(
        url,
        data={"csrf_token": token, "action": "save"},
        files=[("attachments", ("mine.pdf", PDF, "application/pdf"))],
    )
    with runtime.db.read() as conn:
        (attachment_id,) = conn.exec_driver_sql(
            f"SELECT id FROM report_attachment WHERE request_id = {int(mine.id)}"
        ).one()
    # a link for the other request cannot remove it
    other_url = report_url(runtime, other.id)
    token = csrf_of(client.get(other_url).text)
    client.post(other_url, data={"csrf_token": token, "remove": str(attachment_id)})
    viewer = sign_in("viewer")
    assert viewer.get(f"/requests/{mine.id}/attachments/{attachment_id}").status_code == 200
    assert viewer.get(f"/requests/{other.id}/attachments/{attachment_id}").status_code == 404


# ---------------------------------------------------------------- pins: errors, SVG
def test_an_unexpected_error_shows_no_stack_trace(
    app: FastAPI, runtime: Runtime, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = sign_in("viewer")

    def broken(*_args: Any, **_kw: Any) -> Any:
        raise RuntimeError("internal detail: /srv/cicie/secret.py line 42")

    monkeypatch.setattr(runtime.engine, "show", broken)
    with TestClient(app, raise_server_exceptions=False, cookies=browser.cookies) as anon:
        response = anon.get("/requests/1")
    assert response.status_code == 500
    assert "Traceback" not in response.text
    assert "internal detail" not in response.text


def test_workflow_labels_cannot_become_markup_in_the_diagram(runtime: Runtime) -> None:
    definition = runtime.registry.current("internship").definition
    hostile = Label(es="<script>x</script>", en='<img src=x onerror="x">', fr="&")
    states = {
        name: dataclasses.replace(state, label=hostile) for name, state in definition.states.items()
    }
    transitions = tuple(dataclasses.replace(t, label=hostile) for t in definition.transitions)
    evil = dataclasses.replace(definition, title=hostile, states=states, transitions=transitions)
    svg = diagram_svg.render(evil, definition.initial, "en")
    assert "<img" not in svg
    assert "<script" not in svg
    assert "&lt;img src=x onerror=" in svg
