"""The `logistics_confirmed` mail carries each delegate's invitation letter and agenda pack
(issue 15), as the workflow declares (`attach: [ics, invitation_letter, agenda_pack]` for the
EMB's contacts). The transition stores references on the outbox row; the dispatcher makes the
PDFs from the request's current data when it sends. A real SMTP server (aiosmtpd) receives
the mail; SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from email.message import EmailMessage

import sqlalchemy as sa

from engine.actor import Actor
from engine.bootstrap import Runtime
from notifications.attachments import MARKER
from notifications.dispatcher import Dispatcher, DispatchReport
from notifications.stored import message_bytes
from notifications.wiring import install_mail
from storage.models import outbox_table
from tests.documents.helpers import pdf_text, workshop
from tests.notifications.conftest import SmtpServer

CONTACT = "karla.mendez@example.org"  # the example's contact person


def _received(runtime: Runtime, smtp_server: SmtpServer) -> dict[str, EmailMessage]:
    """The `logistics_confirmed` messages the server received, by recipient."""
    with runtime.db.read() as conn:
        ours = set(
            conn.execute(
                sa.select(outbox_table.c.message_id).where(
                    outbox_table.c.template == "logistics_confirmed"
                )
            ).scalars()
        )
    out = {}
    for item in smtp_server.received:
        if item.message_id in ours:
            message = email.message_from_bytes(item.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            out[item.rcpt_tos[0]] = message
    return out


def _pdfs(message: EmailMessage) -> dict[str, bytes]:
    return {
        str(part.get_filename()): part.get_content()
        for part in message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    }


def test_the_emb_contact_receives_every_delegates_letter_and_agenda_as_pdf(
    runtime: Runtime,
    emb: str,
    smtp_server: SmtpServer,
    make_dispatcher: Callable[..., Dispatcher],
    dispatch: Callable[[Dispatcher], DispatchReport],
) -> None:
    install_mail(runtime)
    view = workshop(runtime.engine, emb)
    with runtime.db.read() as conn:
        rows = conn.execute(
            sa.select(outbox_table.c.to_addr, outbox_table.c.attachments, outbox_table.c.id).where(
                outbox_table.c.template == "logistics_confirmed"
            )
        ).all()
        bodies = {row.to_addr: message_bytes(conn, row.id) for row in rows}
    stored = {row.to_addr: row for row in rows}
    # references on the row, not PDFs: nothing is drawn inside the transition
    assert stored[CONTACT].attachments == [
        {"kind": kind, "delegate": n}
        for n in (1, 2, 3)
        for kind in ("invitation_letter", "agenda_pack")
    ]
    assert (bodies[CONTACT] or b"").startswith(MARKER)
    assert b"%PDF" not in (bodies[CONTACT] or b"")
    founders = [addr for addr in stored if addr != CONTACT]
    assert founders
    assert all(stored[addr].attachments is None for addr in founders)

    report = dispatch(make_dispatcher(runtime.db))
    assert report.dead == 0
    received = _received(runtime, smtp_server)
    assert sorted(received) == sorted(stored)
    contact = received[CONTACT]
    pdfs = _pdfs(contact)
    assert sorted(pdfs) == sorted(
        f"cicie-{view.id}-{what}-{n}-{slug}.pdf"
        for n, slug in ((1, "karla-mendez-zelaya"), (2, "aminata-traore"), (3, "joao-pereira"))
        for what in ("invitation", "agenda")
    )
    french = pdf_text(pdfs[f"cicie-{view.id}-invitation-2-aminata-traore.pdf"])
    assert "Aminata Traoré" in french
    assert "du 6 juin 2016 au 10 juin 2016" in french
    # the calendar invitation is still there, the text and HTML too; the marker is gone
    types = [part.get_content_type() for part in contact.walk()]
    assert "text/calendar" in types
    assert "text/plain" in types
    assert "X-CICIE-Documents" not in contact
    assert all(MARKER not in item.content for item in smtp_server.received)
    for address in founders:
        assert _pdfs(received[address]) == {}


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_the_message_says_which_documents_come_attached_in_the_readers_language(
    runtime: Runtime,
    emb: str,
    smtp_server: SmtpServer,
    make_dispatcher: Callable[..., Dispatcher],
    dispatch: Callable[[Dispatcher], DispatchReport],
) -> None:
    install_mail(runtime)
    workshop(runtime.engine, emb)
    assert dispatch(make_dispatcher(runtime.db)).dead == 0
    received = _received(runtime, smtp_server)
    contact = received[CONTACT]  # the organisation corresponds in Spanish
    said = (
        "Adjuntos a este mensaje, en PDF, para cada delegado: una carta de invitación para "
        "presentar con la solicitud de visa y el dossier de la agenda."
    )
    assert said in " ".join(_text(contact).split())
    html = contact.get_body(preferencelist=("html",))
    assert html is not None
    assert "Adjuntos a este mensaje, en PDF" in str(html.get_content())
    for address, message in received.items():
        if address != CONTACT:  # no PDF for them: nothing said about one
            assert "PDF" not in _text(message)


def test_the_documents_are_made_from_the_data_as_it_is_when_the_mail_leaves(
    runtime: Runtime,
    emb: str,
    smtp_server: SmtpServer,
    make_dispatcher: Callable[..., Dispatcher],
    dispatch: Callable[[Dispatcher], DispatchReport],
) -> None:
    install_mail(runtime)
    view = workshop(runtime.engine, emb)
    people = [dict(p) for p in view.data["delegates"]]
    people[0]["name"] = "Karla Méndez de Zelaya"  # corrected before the mail went out
    runtime.engine.update(view.id, Actor.parse("coordinator:ana"), data={"delegates": people})
    dispatch(make_dispatcher(runtime.db))
    pdfs = _pdfs(_received(runtime, smtp_server)[CONTACT])
    letter = next(data for name, data in pdfs.items() if "invitation-1-" in name)
    assert "Karla Méndez de Zelaya" in pdf_text(letter)
