"""Bounded input: every body is refused with 413 past its route's limit before it is read (and
before a token or a session is looked at), whether it declares its length or not; ids in a
page's address that no row can have are the 404 page. A real `cicie serve` shows that a 20 MB
body sent without a token leaves the server's memory as it was."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from engine.bootstrap import Runtime
from engine.views import RequestView
from tests.faults.conftest import Spawner
from tests.web.conftest import PDF, SignIn, TestClient, csrf_of, link
from tests.web.serving import serve
from web.body_limit import API_MAX_BODY, FORM_MAX_BODY

MIB = 1024 * 1024


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawner]:
    spawner = Spawner(tmp_path)
    try:
        yield spawner
    finally:
        spawner.stop_all()


def _json_of(size: int) -> bytes:
    """A request body that is valid JSON of about `size` bytes."""
    return json.dumps({"programme": "seminar", "title": "a" * size}).encode()


def _chunks(total: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """A body sent without Content-Length (chunked transfer encoding)."""
    sent = 0
    while sent < total:
        yield b" " * min(chunk, total - sent)
        sent += chunk


# ---------------------------------------------------------------- the JSON API
def test_an_api_body_over_the_limit_is_413_before_the_token_is_checked(
    client: TestClient,
) -> None:
    response = client.post(
        "/api/requests",
        content=_json_of(API_MAX_BODY + 1),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413  # not 401: the body was refused first
    error = response.json()["error"]
    assert "at most 1 MiB" in error["message"]


def test_a_chunked_api_body_is_cut_off_at_the_limit(client: TestClient) -> None:
    response = client.post(
        "/api/requests",
        content=_chunks(API_MAX_BODY + MIB),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "at most 1 MiB" in response.json()["error"]["message"]


def test_a_body_within_the_limit_goes_on_to_the_token_check(client: TestClient) -> None:
    response = client.post(
        "/api/requests",
        content=_json_of(API_MAX_BODY - 1000),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 401


# ---------------------------------------------------------------- pages
def test_a_form_over_the_limit_is_the_413_page(english: TestClient) -> None:
    token_page = english.get("/login")
    response = english.post(
        "/login",
        content=b"username=ana&password=" + b"x" * FORM_MAX_BODY,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "larger than this page accepts" in response.text
    assert token_page.status_code == 200


def test_the_report_form_takes_attachments_larger_than_a_plain_form(
    english: TestClient, runtime: Runtime, make_request: Callable[..., RequestView]
) -> None:
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    attachment = PDF + b"0" * (FORM_MAX_BODY + MIB)
    saved = english.post(
        url,
        data={"action": "save", "csrf_token": csrf_of(english.get(url).text)},
        files=[("attachments", ("programme.pdf", attachment, "application/pdf"))],
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "programme.pdf" in english.get(url).text


@pytest.mark.parametrize(
    "path",
    [
        f"/requests/{2**63}",
        f"/requests/{2**31}",  # PostgreSQL's INTEGER ends at 2**31 - 1
        f"/requests/{2**63}/print",
        "/requests/0",
        "/requests/12abc",
        "/requests/%C2%B2",  # "²" is a digit to str.isdigit, not to int()
        f"/outbox/{2**63}",
    ],
)
def test_an_id_no_row_can_have_is_the_404_page(sign_in: SignIn, path: str) -> None:
    browser = sign_in("coordinator", "ana")
    response = browser.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "There is no such" in response.text


def test_a_post_to_an_id_no_row_can_have_is_the_404_page(sign_in: SignIn) -> None:
    browser = sign_in("coordinator", "ana")
    token = csrf_of(browser.get("/").text)
    response = browser.post(
        f"/requests/{2**63}/advance", data={"trigger": "accept", "csrf_token": token}
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


# ---------------------------------------------------------------- a real server
def test_a_20_mb_post_without_a_token_is_refused_without_being_read(
    spawn: Spawner, sqlite_url: str
) -> None:
    server = serve(spawn, sqlite_url)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        http.post("/api/requests", json={"programme": "seminar", "title": "warm-up"})
        before = server.memory_kib()

        declared = http.post(
            "/api/requests",
            content=_json_of(20 * MIB),
            headers={"Content-Type": "application/json"},
        )
        chunked = http.post(
            "/api/requests",
            content=_chunks(20 * MIB),
            headers={"Content-Type": "application/json"},
        )
        form = http.post(
            "/login",
            content=b"username=ana&password=" + b"x" * (20 * MIB),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        grown_kib = server.memory_kib() - before

    assert (declared.status_code, chunked.status_code, form.status_code) == (413, 413, 413)
    assert declared.json()["error"]["message"] == chunked.json()["error"]["message"]
    assert grown_kib < 20 * 1024, f"the server's peak memory grew by {grown_kib} KiB"
