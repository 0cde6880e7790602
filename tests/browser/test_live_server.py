"""The live server's own plumbing, which the browser tests build on: it answers on loopback,
and mail queued by a transition reaches the test's SMTP server with links to the site."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from engine.actor import Actor
from engine.demo import example_steps
from tests.browser.live import LiveServer

pytestmark = pytest.mark.browser


def test_the_live_server_answers_on_loopback(live_server: LiveServer) -> None:
    assert live_server.url.startswith("http://127.0.0.1:")
    assert httpx.get(live_server.url + "/readyz").json() == {"status": "ready", "database": "ok"}
    response = httpx.get(live_server.url + "/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_mail_queued_by_a_transition_is_delivered_and_its_links_are_read(
    live_server: LiveServer, make_emb: Callable[..., str]
) -> None:
    engine = live_server.engine
    view = engine.create(
        "international_workshop",
        emb_code=make_emb("TSE-HN", email="tse@example.org"),
        title="Workshop, Tegucigalpa",
        actor=Actor("coordinator", "ana"),
    )
    accept = example_steps("international_workshop")[0]
    engine.advance(view.id, accept["trigger"], Actor.parse(accept["as"]), data=accept["data"])
    assert live_server.received_mail() == []  # nothing leaves before the dispatcher runs

    report = live_server.deliver_mail()

    assert report["sent"] >= 1
    assert report["dead"] == report["retrying"] == 0
    contact = accept["data"]["contact_email"]
    mails = live_server.received_mail(to=contact)
    assert mails, f"nothing reached {contact}: {[m.rcpt_tos for m in live_server.received_mail()]}"
    assert mails[0].subject
    # a partner's mail links to the request's signed status page, which opens without an account
    status_links = [u for u in live_server.links_in_mail(to=contact) if "/status/" in u]
    assert status_links
    with httpx.Client() as http:
        page = http.get(status_links[0])
    assert page.status_code == 200
    assert view.title in page.text
    assert live_server.deliver_mail()["sent"] == 0  # delivered once
