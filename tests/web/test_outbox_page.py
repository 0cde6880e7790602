"""The outbox page: counts and list by status, one message as it is sent, a dead letter sent
again with the same Message-ID."""

from __future__ import annotations

from collections.abc import Callable

from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.service import Engine
from notifications import stored
from notifications.wiring import install_mail
from storage import outbox
from storage.models import outbox_table
from tests.web.conftest import SignIn, csrf_of
from tests.web.test_request_page import INTAKE


def _queued_mail(runtime: Runtime, engine: Engine, make_emb: Callable[..., str]) -> int:
    install_mail(runtime)
    view = engine.create(
        "international_workshop",
        emb_code=make_emb(email="registry@example.org"),
        title="Workshop <script>alert(1)</script>",
        actor=Actor("coordinator", "ana"),
    )
    engine.advance(view.id, "accept", Actor("coordinator", "ana"), data=INTAKE)
    with runtime.db.read() as conn:
        rows = outbox.listing(conn, request_id=view.id)
    assert rows, "accepting queues the 'request received' mail"
    return rows[0].id


def test_the_outbox_lists_a_queued_mail(
    runtime: Runtime,
    engine: Engine,
    make_emb: Callable[..., str],
    sign_in: SignIn,
) -> None:
    message = _queued_mail(runtime, engine, make_emb)
    browser = sign_in("coordinator", "ana")
    html = browser.get("/outbox").text
    assert f'href="/outbox/{message}"' in html
    assert "karla@example.org" in html
    queued = browser.get("/outbox?status=queued").text
    assert f'href="/outbox/{message}"' in queued
    assert f'href="/outbox/{message}"' not in browser.get("/outbox?status=dead").text
    assert "<script>alert(1)</script>" not in html


def test_a_message_page_shows_headers_and_the_text_escaped(
    runtime: Runtime,
    engine: Engine,
    make_emb: Callable[..., str],
    sign_in: SignIn,
) -> None:
    message = _queued_mail(runtime, engine, make_emb)
    html = sign_in("coordinator", "ana").get(f"/outbox/{message}").text
    assert "Message-ID" in html
    assert "karla@example.org" in html  # the contact recorded at intake
    assert '<pre class="mail-body">' in html
    assert "<script>alert(1)</script>" not in html
    assert "Send again" not in html  # only a dead letter can be sent again
    # the event, its language and its status in words, its time local with the zone named
    assert "<dd>Request received</dd>" in html
    assert "request_received" not in html
    assert "Spanish" in html
    assert "Queued" in html
    assert "(Mexico City)" in html


def test_a_dead_letter_is_sent_again_with_the_same_message_id(
    runtime: Runtime,
    engine: Engine,
    make_emb: Callable[..., str],
    sign_in: SignIn,
) -> None:
    message = _queued_mail(runtime, engine, make_emb)
    with runtime.db.transaction() as conn:
        conn.exec_driver_sql(
            "UPDATE outbox SET status = 'dead', attempts = 5, "
            "last_reply = '550 5.1.1 <karla@example.org>: no such mailbox' "
            f"WHERE id = {int(message)}"
        )
    with runtime.db.read() as conn:
        before = next(r for r in outbox.listing(conn) if r.id == message)
    browser = sign_in("coordinator", "ana")
    assert f'href="/outbox/{message}"' in browser.get("/outbox?status=dead").text
    page = browser.get(f"/outbox/{message}").text
    assert "550 5.1.1 &lt;karla@example.org&gt;: no such mailbox" in page
    assert "Send again" in page
    response = browser.post(
        f"/outbox/{message}/resend", data={"csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert response.status_code == 303
    with runtime.db.read() as conn:
        after = next(r for r in outbox.listing(conn) if r.id == message)
    assert after.status == "pending"
    assert after.attempts == 0
    assert after.message_id == before.message_id
    shown = browser.get(response.headers["location"]).text
    assert "queued again" in shown
    # a second resend is refused: it is no longer a dead letter
    again = browser.post(
        f"/outbox/{message}/resend", data={"csrf_token": csrf_of(shown)}, follow_redirects=True
    )
    assert "Only a dead letter" in again.text


def test_an_unknown_message_is_not_found(sign_in: SignIn) -> None:
    assert sign_in("coordinator", "ana").get("/outbox/999999").status_code == 404


def test_a_message_that_could_not_be_written_is_explained_in_the_readers_language(
    runtime: Runtime,
    engine: Engine,
    make_emb: Callable[..., str],
    sign_in: SignIn,
) -> None:
    message = _queued_mail(runtime, engine, make_emb)
    with runtime.db.transaction() as conn:  # as the dispatcher leaves it (notifications/stored)
        conn.execute(
            outbox_table.update()
            .where(outbox_table.c.id == message)
            .values(status="dead", last_reply=stored.UNASSEMBLED)
        )
    browser = sign_in("coordinator", "ana")
    token = csrf_of(browser.get("/outbox").text)
    browser.post("/language", data={"language": "es", "next": "/outbox", "csrf_token": token})
    for html in (browser.get("/outbox?status=dead").text, browser.get(f"/outbox/{message}").text):
        assert "el mensaje no pudo escribirse a partir de lo guardado" in html
        assert stored.UNASSEMBLED not in html
