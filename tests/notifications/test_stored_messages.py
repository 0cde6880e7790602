"""A transition stores its mails as their rendering (text and HTML once for the recipients
who read the same words, each one's subject, name and link on their row) and the dispatcher
writes the MIME when it sends (issue 16, migration 0015). What a partner receives is exactly
the message written for them alone in the transition, as before; a message queued before the
change is sent as it was stored; one that cannot be written becomes a visible dead letter.
A real SMTP server (aiosmtpd) receives the mail; SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from engine.bootstrap import Runtime
from engine.clock import ManualClock
from notifications import ics
from notifications.dispatcher import Dispatcher, DispatchReport
from notifications.outbox_writer import OutboxWriter
from notifications.recipient import Recipient
from notifications.render import Attachment, MailRenderer, Stored, build_message
from notifications.stored import message_bytes
from notifications.wiring import install_mail
from storage import outbox
from storage.models import outbox_content_table, outbox_table
from tests.documents.helpers import workshop
from tests.notifications.conftest import SmtpServer
from tests.storage.schema import queue_with_bytes

Written = tuple[str, Recipient, dict[str, Any], str]


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[Written]:
    """What the outbox writer asked the renderer for: template, recipient, context, language."""
    seen: list[Written] = []
    original = MailRenderer.render_stored

    def spy(
        self: MailRenderer,
        template: str,
        recipient: Recipient,
        context: Mapping[str, Any],
        **kw: Any,
    ) -> Stored:
        seen.append((template, recipient, dict(context), kw["language"]))
        return original(self, template, recipient, context, **kw)

    monkeypatch.setattr(MailRenderer, "render_stored", spy)
    return seen


def _own_message(
    runtime: Runtime, item: Written, row: Any, at: datetime, writer: OutboxWriter
) -> bytes:
    """The message written for this recipient alone, in the transition, as it was before
    the change: their own rendering, the MIME, the invitation built for them."""
    template, recipient, context, language = item
    rendered = MailRenderer(timezone=runtime.settings.timezone).render(
        template, recipient, context, language=language
    )
    files = []
    if template == "logistics_confirmed":
        view = runtime.engine.get(row.request_id)
        files.append(
            Attachment.invitation(
                ics.invitation(
                    uid=f"cicie-request-{view.id}@{writer.domain}",
                    sequence=view.version,
                    title=f"{writer_title(runtime, language)}: {view.title}",
                    start=datetime.fromisoformat(view.data["event_start"]).date(),
                    end=datetime.fromisoformat(view.data["event_end"]).date(),
                    location=view.data.get("venue"),
                    organizer=writer.organizer,
                    attendee=recipient.address,
                    description=context["link"],
                    now=at,
                )
            )
        )
    return build_message(
        rendered=rendered,
        sender=runtime.settings.mail_from,
        recipient=recipient,
        message_id=row.message_id,
        date=at,
        attachments=files,
    )


def writer_title(runtime: Runtime, language: str) -> str:
    return str(runtime.registry.current("international_workshop").definition.title.get(language))


def test_what_a_partner_receives_is_the_message_written_for_them_alone(
    runtime: Runtime,
    emb: str,
    clock: ManualClock,
    written: list[Written],
    smtp_server: SmtpServer,
    make_dispatcher: Callable[..., Dispatcher],
    dispatch: Callable[[Dispatcher], DispatchReport],
) -> None:
    writer = install_mail(runtime)
    workshop(runtime.engine, emb)  # up to its logistics: the invitation's SEQUENCE is now
    with runtime.db.read() as conn:
        rows = conn.execute(sa.select(outbox_table).order_by(outbox_table.c.id)).all()
    assert len(rows) == len(written) > 10
    report = dispatch(make_dispatcher(runtime.db))
    assert (report.sent, report.dead) == (len(rows), 0)
    received = {item.message_id: item.content for item in smtp_server.received}
    compared = 0
    for row, item in zip(rows, written, strict=True):
        assert (row.template, row.to_addr) == (item[0], item[1].address)
        if row.attachments:  # the delegates' PDFs are added when sending (their own tests)
            continue
        own = _own_message(runtime, item, row, row.created_at, writer)
        assert received[row.message_id] == own, (row.template, row.to_addr)
        compared += 1
    assert compared >= len(rows) - 2
    assert {r.template for r in rows} >= {"request_received", "logistics_confirmed"}


def test_recipients_who_read_the_same_words_share_one_stored_rendering(
    runtime: Runtime, emb: str
) -> None:
    install_mail(runtime)
    workshop(runtime.engine, emb, state="closed")
    with runtime.db.read() as conn:
        rows = conn.execute(sa.select(outbox_table)).all()
        contents = {c.id: c for c in conn.execute(sa.select(outbox_content_table))}
        assembled = {r.id: message_bytes(conn, r.id) for r in rows}
    assert all(r.body is None and r.content_id in contents for r in rows)
    assert len(contents) < len(rows)  # founders' institutions read one rendering
    sharing: dict[int, list[Any]] = {}
    for r in rows:
        sharing.setdefault(r.content_id, []).append(r)
    shared = [group for group in sharing.values() if len(group) > 1]
    assert shared
    for group in shared:
        content = contents[group[0].content_id]
        for r in group:  # no recipient's own link in what they share; theirs in their mail
            assert r.link not in content.text
            assert r.link not in content.html
            body = assembled[r.id]
            assert body is not None
            message = email.message_from_bytes(body, policy=email.policy.default)
            text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
            assert r.link in text
            assert content.link_mark not in text


def test_a_message_queued_before_the_change_is_sent_as_it_was_stored(
    runtime: Runtime,
    clock: ManualClock,
    smtp_server: SmtpServer,
    make_dispatcher: Callable[..., Dispatcher],
    dispatch: Callable[[Dispatcher], DispatchReport],
) -> None:
    old = build_message(
        rendered=MailRenderer().render(
            "request_received",
            Recipient("founders", "IIDH", "iidh@example.org", "es"),
            _context(),
        ),
        sender="CICIE <cicie@ine.example>",
        recipient=Recipient("founders", "IIDH", "iidh@example.org", "es"),
        message_id="<old-1@ine.example>",
        date=clock(),
    )
    with runtime.db.transaction() as conn:
        queue_with_bytes(conn, "old-1", old, clock())
    report = dispatch(make_dispatcher(runtime.db))
    assert report.sent == 1
    assert [item.content for item in smtp_server.received] == [old]


def test_a_message_that_cannot_be_written_becomes_a_dead_letter_and_the_rest_go(
    runtime: Runtime,
    emb: str,
    smtp_server: SmtpServer,
    make_dispatcher: Callable[..., Dispatcher],
    dispatch: Callable[[Dispatcher], DispatchReport],
) -> None:
    install_mail(runtime)
    workshop(runtime.engine, emb)
    with runtime.db.transaction() as conn:
        rows = conn.execute(sa.select(outbox_table.c.id, outbox_table.c.content_id)).all()
        broken = rows[0]
        conn.execute(  # a content whose From no message can carry (damaged by hand)
            outbox_content_table.update()
            .where(outbox_content_table.c.id == broken.content_id)
            .values(sender="not an address")
        )
        hit = [r.id for r in rows if r.content_id == broken.content_id]
    report = dispatch(make_dispatcher(runtime.db))
    assert report.dead == len(hit)
    assert report.sent == len(rows) - len(hit)
    with runtime.db.read() as conn:
        dead = {r.id: r for r in outbox.listing(conn, status="dead")}
    assert sorted(dead) == sorted(hit)
    assert all(
        "could not be written from what was stored" in (r.last_reply or "") for r in dead.values()
    )


def _context() -> dict[str, Any]:
    return {
        "request": {
            "id": 7,
            "title": "Taller",
            "programme": "international_workshop",
            "programme_label": "Taller internacional",
            "state": "intake",
            "state_label": "Recepción",
            "emb": None,
            "data": {},
        },
        "emb": None,
        "recipient": {"name": "IIDH", "role": "founders"},
        "link": "http://localhost:8000/requests/7",
        "link_kind": "request",
        "due_date": None,
        "comment": None,
    }
