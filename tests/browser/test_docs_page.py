"""`/docs` in Chromium: Swagger UI, served by the application itself, lists the API's
operations under the unchanged Content-Security-Policy, and nothing the pages load or name
comes from another host (the site works offline)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, Request, expect

from engine.account_views import UserView
from tests.browser.live import LiveServer
from web.security_headers import SECURITY_HEADERS

pytestmark = pytest.mark.browser

URL = re.compile(r"https?://([^/\s\"'<>)]+)", re.IGNORECASE)
# namespace names in inline SVG and XHTML: identifiers, never fetched
NAMESPACES = ("www.w3.org",)


@pytest.fixture
def outside(page: Page, live_server: LiveServer) -> list[str]:
    """Every request the page makes to another origin than the site's, as it happens."""
    own = urlsplit(live_server.url).netloc
    seen: list[str] = []

    def record(request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https") and parts.netloc != own:
            seen.append(request.url)

    page.on("request", record)
    return seen


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Console errors, among them the browser's "Refused to … Content Security Policy"."""
    errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", record)
    return errors


def test_docs_lists_the_operations_under_the_unchanged_csp(
    page: Page,
    live_server: LiveServer,
    outside: list[str],
    console_errors: list[str],
    artefacts: Path,
) -> None:
    response = page.goto("/docs")
    assert response is not None
    assert response.status == 200
    assert (
        response.headers["content-security-policy"] == (SECURITY_HEADERS["Content-Security-Policy"])
    )
    assert "'unsafe-inline'" not in SECURITY_HEADERS["Content-Security-Policy"]

    expect(page.get_by_text("/api/requests/{request_id}/advance").first).to_be_visible()
    expect(page.get_by_text("/api/requests", exact=True).first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Authorize"))).to_be_visible()
    page.screenshot(path=artefacts / "docs.png", full_page=False)

    assert outside == []
    assert [e for e in console_errors if "Content Security Policy" in e] == []


def test_an_operation_opens_with_its_parameters(page: Page, live_server: LiveServer) -> None:
    page.goto("/docs")
    page.get_by_text("/api/requests/{request_id}/history").first.click()
    expect(page.get_by_role("heading", name="Parameters")).to_be_visible()
    expect(page.get_by_role("button", name="Try it out")).to_be_visible()


def test_no_page_names_another_host(
    live_server: LiveServer, sign_in: Callable[..., UserView], page: Page
) -> None:
    """The HTML of the sign-in page, /docs and a signed-in dashboard: every http(s) address
    in it is the site's own (SVG namespace names aside)."""
    own = urlsplit(live_server.url).netloc
    html = {path: httpx.get(live_server.url + path).text for path in ("/login", "/docs")}
    sign_in(page, "coordinator", "ana")
    html["/ (signed in)"] = page.content()
    hosts = {
        path: sorted({h for h in URL.findall(text) if h != own and h not in NAMESPACES})
        for path, text in html.items()
    }
    assert hosts == {path: [] for path in html}
