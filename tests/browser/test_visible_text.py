"""What a person reads, page by page, in every language: no internal code and no raw
timestamp in the visible text (issue 13).

The demo installation is walked in a real Chromium as its people would: a coordinator and a
reader (viewer) in each interface language (es, en, fr) — the dashboard and each of its
filters, every demo request in its state (intake, logistics with a refused step, evaluation,
final report, an internship's report overdue after the clock has moved on, closed…), their
history and what is coming up, the print view, the outbox and one message, the results
page, the account page — and the pages reached by a link (an intern's report form, a
contact's status page) in every language of the mail (es, en, fr, pt, ar).

On each page `document.body.innerText` (and the text of its drawings) is read, e-mail
addresses, web addresses and attached file names (typed by people) are set aside, and every
snake_case token (`emb_contacts`, `request_received`) and ISO timestamp
(`2026-12-01T21:40`) left is reported with the page, the language and the text around it.
A screenshot of the Spanish dashboard is kept in docs/images/dashboard-es.png."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from engine.actor import Actor
from engine.demo import load_demo
from engine.service import Engine
from i18n import LANGUAGES, UI_LANGUAGES
from tests.browser.live import LiveServer
from tests.conftest import example_steps

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "images" / "dashboard-es.png"

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# what people type and may legitimately read back as they typed it
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"\b(?:https?://|mailto:)\S+")
MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
FILE_NAME = re.compile(r"[\w.-]+\.(?:pdf|docx?|xlsx?|odt|ods|csv|png|jpe?g|txt|ics|zip)\b", re.I)

VISIBLE_TEXT = """() => {
  const drawn = Array.from(document.querySelectorAll('svg text'))
    .filter(t => t.getClientRects().length > 0)
    .map(t => t.textContent);
  return [document.body.innerText, ...drawn].join('\\n');
}"""


@dataclass(frozen=True)
class Offence:
    who: str
    language: str
    page: str
    token: str
    context: str

    def __str__(self) -> str:
        return f"[{self.language}] {self.who} {self.page}: {self.token!r} in “{self.context}”"


def offences_in(text: str, *, who: str, language: str, page: str) -> list[Offence]:
    """The codes and raw timestamps in a page's visible text, with the line they are on."""
    found: list[Offence] = []
    for line in text.splitlines():
        cleaned = MESSAGE_ID.sub(" ", line)
        cleaned = URL.sub(" ", cleaned)
        cleaned = EMAIL.sub(" ", cleaned)
        cleaned = FILE_NAME.sub(" ", cleaned)
        for pattern in (SNAKE, ISO):
            for match in pattern.finditer(cleaned):
                found.append(Offence(who, language, page, match.group(), line.strip()[:160]))
    return found


class Walker:
    """Visits pages in one browser context and keeps every offence (the test reports all of
    them at the end, not only the first)."""

    def __init__(self, page: Page, who: str, language: str) -> None:
        self.page = page
        self.who = who
        self.language = language
        self.offences: list[Offence] = []
        self.visited: list[str] = []

    def read(self, label: str | None = None) -> str:
        text = str(self.page.evaluate(VISIBLE_TEXT))
        shown = label or self.page.url.split("://", 1)[-1].split("/", 1)[-1]
        self.visited.append(shown)
        dump = os.environ.get("CICIE_VISIBLE_TEXT_DUMP")  # a folder: each page's text, to read
        if dump:
            name = re.sub(r"[^A-Za-z0-9]+", "-", f"{self.language}-{self.who}-{shown}")
            Path(dump).mkdir(parents=True, exist_ok=True)
            (Path(dump) / f"{name.strip('-')}.txt").write_text(text, encoding="utf-8")
        self.offences += offences_in(text, who=self.who, language=self.language, page=shown)
        return text

    def check_language(self, label: str) -> None:
        """The page must be in the walker's language (`<html lang>`); kept as an offence."""
        shown = self.page.locator("html").get_attribute("lang") or "?"
        if shown != self.language:
            self.offences.append(
                Offence(self.who, self.language, label, f"lang={shown}", "page in another language")
            )

    def visit(self, path: str) -> str:
        response = self.page.goto(path)
        assert response is not None, path
        assert response.status < 500, f"{path}: {response.status}"
        return self.read("/" + path.lstrip("/"))


def report(offences: list[Offence]) -> str:
    lines = sorted({str(o) for o in offences})
    return f"{len(lines)} code(s) or raw timestamp(s) in visible text:\n" + "\n".join(lines)


# ---------------------------------------------------------------- the installation
def _internship_after_an_event_to_come(engine: Engine, make_emb: Callable[..., str]) -> int:
    """An internship driven along its example to the final report, its event moved to dates
    still to come (the tests' today: 12 Jan 2026): a deadline already past when it is armed
    is skipped, never fired (issue 14 item 6), so only such a request can fall overdue."""
    coordinator = Actor("coordinator", "ana")
    view = engine.create(
        "internship", emb_code=make_emb(), title="Internship request", actor=coordinator
    )
    for step in example_steps("internship"):
        if view.state == "final_report":
            break
        data = dict(step.get("data") or {})
        if step["trigger"] == "confirm_logistics":
            data.pop("past_event", None)
            data.update(event_start="2026-03-02", event_end="2026-03-06")
        view = engine.advance(view.id, step["trigger"], Actor.parse(step["as"]), data=data)
    assert view.state == "final_report"
    return view.id


@pytest.fixture
def demo(
    live_server: LiveServer, make_request: Callable[..., object], make_emb: Callable[..., str]
) -> dict[str, int]:
    """The demo requests and an internship whose event is to come, with time moved on until
    its final report is overdue (every reminder and deadline on the way fired, the mail
    delivered); {state: request id} of one request in each state."""
    engine = live_server.engine
    load_demo(engine)
    overdue = _internship_after_an_event_to_come(engine, make_emb)
    live_server.deliver_mail()
    for _ in range(40):  # at most 40 weeks
        if engine.get(overdue).state == "report_overdue":
            break
        live_server.clock.advance(timedelta(days=7))
        live_server.worker_once()
    assert engine.get(overdue).state == "report_overdue", "the final report never fell overdue"
    live_server.clock.advance(timedelta(days=8))  # the programme lead is alerted too
    live_server.worker_once()
    make_request("internship", "final_report")  # one waiting for its report, as the overdue was
    live_server.deliver_mail()
    by_state: dict[str, int] = {}
    for view in engine.list_requests():
        by_state.setdefault(view.state, view.id)
    assert "evaluation" in by_state  # the Democracy Forum, closing with its evaluation
    return by_state


@pytest.fixture
def new_context(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., Page]]:
    contexts: list[BrowserContext] = []

    def make(locale: str = "en-US") -> Page:
        ctx = browser.new_context(
            base_url=live_server.url,
            locale=locale,
            timezone_id="America/Mexico_City",
            viewport={"width": 1280, "height": 800},
        )
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def _first_theme(page: Page) -> str:
    value = page.locator("#filter-theme option:not([value=''])").first.get_attribute("value")
    return value or ""


def _refuse_a_blocked_step(page: Page) -> bool:
    """Press a blocked action as if it were not blocked (the page shows why it is refused)."""
    blocked = page.locator('button[name="trigger"][data-blocked]')
    if blocked.count() == 0:
        return False
    button = blocked.first
    button.evaluate("b => { b.disabled = false; }")
    with page.expect_navigation():
        button.click()
    return True


# ---------------------------------------------------------------- signed in
@pytest.mark.parametrize("language", UI_LANGUAGES)
def test_signed_in_pages_show_no_code_and_no_raw_timestamp(
    language: str,
    live_server: LiveServer,
    demo: dict[str, int],
    sign_in: Callable[..., object],
    new_context: Callable[..., Page],
) -> None:
    engine = live_server.engine
    offences: list[Offence] = []

    # the coordinator, in `language` (the language stored on the user)
    page = new_context()
    sign_in(page, "coordinator", f"coordinator-{language}", language=language)
    walk = Walker(page, "coordinator", language)
    walk.visit("/")
    walk.check_language("/")
    if language == "es":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        # from the top to the end of the attention lists (reminders by their names)
        box = page.locator(".attention").bounding_box()
        bottom = box["y"] + box["height"] + 24 if box else 800
        page.screenshot(
            path=SCREENSHOT, full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": bottom}
        )
    year = live_server.clock().year
    filters = {
        "programme": "internship",
        "state": "intake",
        "emb": "OAS",
        "region": "America",
        "year": str(year),
        "theme": _first_theme(page),
    }
    for name, value in filters.items():
        walk.visit(f"/?{name}={value}")
    walk.visit("/?" + "&".join(f"{k}={v}" for k, v in filters.items()))  # nothing matches
    walk.visit("/requests/new")
    for view in engine.list_requests():
        walk.visit(f"/requests/{view.id}")
    for state in ("logistics", "intake", "needs_assessment", "agenda_design"):
        if state in demo:
            walk.visit(f"/requests/{demo[state]}")
            if _refuse_a_blocked_step(page):
                walk.read(f"/requests/{demo[state]} (a blocked step pressed)")
                break
    walk.visit(f"/requests/{demo['report_overdue']}/print")
    if "report_received" in demo:
        walk.visit(f"/requests/{demo['report_received']}/final-report")
    walk.visit("/outbox")
    message = page.locator("table a[href^='/outbox/']").first.get_attribute("href")
    assert message, "the outbox lists no message"
    walk.visit(message)
    for status in ("queued", "retrying", "sending", "sent", "dead"):
        walk.visit(f"/outbox?status={status}")
    walk.visit("/results")
    walk.visit("/account")
    offences += walk.offences

    # a reader (viewer) in the same language
    page = new_context()
    sign_in(page, "viewer", f"viewer-{language}", language=language)
    walk = Walker(page, "viewer", language)
    walk.visit("/")
    walk.check_language("/")
    for state in ("report_overdue", "closed", "logistics"):
        if state in demo:
            walk.visit(f"/requests/{demo[state]}")
    walk.visit("/results")
    walk.visit("/account")
    offences += walk.offences

    # the administrator's pages
    page = new_context()
    sign_in(page, "admin", f"admin-{language}", language=language)
    walk = Walker(page, "admin", language)
    walk.visit("/admin/users")
    users = page.locator("a[href^='/admin/users/']")
    if users.count():
        walk.visit(str(users.first.get_attribute("href")))
    offences += walk.offences

    assert not offences, report(offences)


# ---------------------------------------------------------------- reached by a link
@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_reached_by_a_link_show_no_code_and_no_raw_timestamp(
    language: str,
    live_server: LiveServer,
    demo: dict[str, int],
    new_context: Callable[..., Page],
) -> None:
    links = live_server.links_in_mail()
    report_links = [u for u in links if "/report/" in u]
    status_links = [u for u in links if "/status/" in u]
    assert report_links, "no mail carried a report form link"
    assert status_links, "no mail carried a status link"
    page = new_context()
    offences: list[Offence] = []
    for who, url in (("intern or delegate", report_links[0]), ("contact", status_links[0])):
        walk = Walker(page, who, language)
        joiner = "&" if "?" in url else "?"
        response = page.goto(f"{url}{joiner}lang={language}")
        assert response is not None
        assert response.status < 500
        kind = "report form" if "/report/" in url else "status page"
        walk.read(f"{kind} (?lang={language})")
        walk.check_language(kind)
        offences += walk.offences
    assert not offences, report(offences)


def test_the_checker_finds_codes_and_timestamps_and_spares_what_people_type() -> None:
    text = (
        "To: the EMB's contacts (ana_maria@example.org) — see https://x.test/a_b\n"
        "Escalation · overdue_to_programme_lead\n"
        "due 2026-12-01T21:40:30.998879+00:00\n"
        "Attachments: final_report.pdf · <cicie.1_2@mail.example>"
    )
    found = offences_in(text, who="coordinator", language="en", page="/")
    assert [o.token for o in found] == ["overdue_to_programme_lead", "2026-12-01T21:40"]
