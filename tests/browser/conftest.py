"""Browser tests: the real application served by uvicorn on loopback, driven by Chromium.

`live_server` is the whole installation on a SQLite file of the test's own: migrated and wired
as `cicie serve` does (`build_runtime` from `CICIE_*` settings, then `install_mail`), served by
uvicorn in a background thread on 127.0.0.1 (a free port), with partner mail going to a real
aiosmtpd server on loopback that the fixture starts. Nothing runs in the background: a test
delivers the outbox when it wants to (`live_server.deliver_mail()`, as `cicie worker --once`),
then reads what arrived (`live_server.received_mail()`, each with its `links`).

The engine's clock is the shared `clock` fixture (a `ManualClock`): a test moves time, then
runs `live_server.worker_once()` for reminders and deadlines.

`page` is a fresh Chromium context (locale `browser_locale`, English by default) per test, on
Debian's /usr/bin/chromium (no `playwright install`). Where it is missing the tests skip, but
under CI=true they fail. Screenshots go to `artefacts` (`artefacts/screenshots` under the repo,
or `$CICIE_ARTEFACTS/screenshots`); a failing test leaves `failed-<test>.png` there too.

The `runtime` and `engine` fixtures are the live server's here, so the shared factories
(`make_emb`, `make_request`) create data the browser then sees.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from config.settings import Settings
from engine.account_views import UserView
from engine.accounts import Accounts
from engine.bootstrap import Runtime, build_runtime
from engine.clock import ManualClock
from engine.service import Engine
from notifications.wiring import install_mail
from tests.browser.live import (
    BUTTON_SIGN_IN,
    LABEL_PASSWORD,
    LABEL_USERNAME,
    PASSWORD,
    LiveServer,
    MailSink,
    ServerThread,
)
from web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CICIE_CHROMIUM", "/usr/bin/chromium")
TIMEOUT_MS = 10_000  # for every action and `expect` (the machine may be busy)
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
def mail_sink() -> Iterator[MailSink]:
    sink = MailSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def live_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: ManualClock, mail_sink: MailSink
) -> Iterator[LiveServer]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    # configured as an operator would: the environment, read by Settings
    for name, value in {
        "CICIE_HOME": str(tmp_path / "home"),
        "CICIE_DATABASE_URL": f"sqlite:///{tmp_path / 'cicie.db'}",
        "CICIE_ENVIRONMENT": "test",
        "CICIE_HOST": "127.0.0.1",
        "CICIE_PORT": str(port),
        "CICIE_BASE_URL": url,
        "CICIE_SECRET_KEY": secrets.token_urlsafe(32),
        "CICIE_SMTP_HOST": mail_sink.host,
        "CICIE_SMTP_PORT": str(mail_sink.port),
        "CICIE_SMTP_TIMEOUT": "10",
    }.items():
        monkeypatch.setenv(name, value)
    rt = build_runtime(Settings(), clock=clock)  # migrates, as `cicie serve` does
    install_mail(rt)  # as cli.context.runtime does
    # cheap argon2 parameters for the users the tests create (the app's own Accounts, used to
    # sign in, verifies any argon2 hash whatever its parameters)
    accounts = Accounts(rt.db, clock, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    server = ServerThread(create_app(rt), sock)
    server.start()
    try:
        server.wait_started()
        yield LiveServer(url, rt, mail_sink, clock, accounts)
    finally:
        server.stop()
        sock.close()
        rt.close()


@pytest.fixture
def runtime(live_server: LiveServer) -> Runtime:
    """The live server's runtime (overrides the shared, database-parametrised one)."""
    return live_server.runtime


@pytest.fixture
def engine(live_server: LiveServer) -> Engine:
    return live_server.engine


# ---------------------------------------------------------------- the browser
@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        reason = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: browser tests must run)")
        pytest.skip(reason)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
    )
    yield browser
    browser.close()


@pytest.fixture
def browser_locale() -> str:
    """The browser's locale (sent as Accept-Language); override in a test module."""
    return "en-US"


@pytest.fixture
def context(
    browser: Browser, browser_locale: str, live_server: LiveServer
) -> Iterator[BrowserContext]:
    ctx = browser.new_context(
        base_url=live_server.url,
        locale=browser_locale,
        timezone_id="America/Mexico_City",
        viewport={"width": 1280, "height": 800},
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(
    context: BrowserContext, request: pytest.FixtureRequest, artefacts: Path
) -> Iterator[Page]:
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and not page.is_closed():
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
        page.screenshot(path=artefacts / f"failed-{name}.png", full_page=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def artefacts() -> Path:
    """Where screenshots go: `$CICIE_ARTEFACTS/screenshots`, else `artefacts/screenshots`."""
    base = Path(os.environ.get("CICIE_ARTEFACTS") or ROOT / "artefacts")
    path = base / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------- signing in
@pytest.fixture
def sign_in(live_server: LiveServer) -> Callable[..., UserView]:
    """`sign_in(page, role="coordinator", username=None)`: create the user (language `en`)
    unless it exists, sign in through the form, wait until the form is left; returns the
    user."""
    users: dict[str, UserView] = {}

    def do(
        page: Page,
        role: str = "coordinator",
        username: str | None = None,
        *,
        next_path: str = "/",
        language: str = "en",
    ) -> UserView:
        name = username or role
        if name not in users:
            users[name] = live_server.add_user(name, role, language=language)
        page.goto(f"/login?next={quote(next_path, safe='/')}")
        page.get_by_label(LABEL_USERNAME).fill(name)
        page.get_by_label(LABEL_PASSWORD).fill(PASSWORD)
        page.get_by_role("button", name=BUTTON_SIGN_IN).click()
        page.wait_for_url(lambda url: "/login" not in url)
        return users[name]

    return do
