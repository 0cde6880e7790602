"""Partner e-mail end to end: a transition queues rendered messages in its own transaction, the
dispatcher delivers them to a real SMTP server, each recipient in its language, exactly once.
On SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import shutil
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.errors import InvalidData
from engine.service import Engine
from notifications.dispatcher import Dispatcher, DispatchReport
from notifications.render import MailRenderer, TemplateError
from notifications.wiring import install_mail
from storage import outbox
from tests.conftest import example_steps
from tests.notifications.conftest import SmtpServer

FOUNDERS = {
    "cicie.ine@example.org",
    "cicie.tepjf@example.org",
    "cicie.undp-mx@example.org",
    "cicie.amexcid@example.org",
}


@pytest.fixture
def mail_engine(runtime: Runtime) -> Engine:
    install_mail(runtime)
    return runtime.engine


def _drive(engine: Engine, request_id: int, programme: str, until: str) -> None:
    for step in example_steps(programme):
        engine.advance(
            request_id, step["trigger"], Actor.parse(step["as"]), data=step.get("data") or {}
        )
        if step["trigger"] == until:
            return


def _parse(content: bytes) -> EmailMessage:
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _deliver(
    runtime: Runtime,
    make_dispatcher: Callable[..., Dispatcher],
    dispatch: Callable[[Dispatcher], DispatchReport],
) -> DispatchReport:
    return dispatch(make_dispatcher(runtime.db))


@pytest.mark.parametrize(("emb_language", "expected"), [("fr", "fr"), ("pt", "pt"), ("ru", "en")])
def test_confirmed_logistics_reach_each_founder_in_spanish_and_the_emb_in_its_language(
    runtime: Runtime,
    mail_engine: Engine,
    smtp_server: SmtpServer,
    make_dispatcher: Callable[..., Dispatcher],
    dispatch: Callable[[Dispatcher], DispatchReport],
    emb_language: str,
    expected: str,
) -> None:
    mail_engine.add_emb(
        code="CM-ELECAM",
        name="Elections Cameroon",
        country="CM",
        language=emb_language,
        email="elecam@example.org",
    )
    view = mail_engine.create(
        "international_workshop",
        emb_code="CM-ELECAM",
        title="Atelier pour ELECAM",
        actor=Actor("coordinator", "ana"),
    )
    _drive(mail_engine, view.id, "international_workshop", until="approve_agenda")
    first = _deliver(runtime, make_dispatcher, dispatch)
    assert first.dead == 0
    before = len(smtp_server.received)

    steps = {s["trigger"]: s for s in example_steps("international_workshop")}
    data = dict(steps["confirm_logistics"]["data"])
    mail_engine.advance(view.id, "confirm_logistics", Actor("coordinator", "ana"), data=data)
    report = _deliver(runtime, make_dispatcher, dispatch)
    again = _deliver(runtime, make_dispatcher, dispatch)
    assert again.sent == 0, "nothing is sent twice"

    new = smtp_server.received[before:]
    assert report.sent == len(new)
    by_rcpt: dict[str, list[EmailMessage]] = {}
    for received in new:
        assert len(received.rcpt_tos) == 1
        by_rcpt.setdefault(received.rcpt_tos[0], []).append(_parse(received.content))
    assert by_rcpt.keys() >= FOUNDERS
    assert all(len(messages) == 1 for messages in by_rcpt.values()), "each exactly once"
    for founder in FOUNDERS:
        message = by_rcpt[founder][0]
        assert message["Content-Language"] == "es"
        assert "Logística confirmada" in str(message["Subject"])
    emb_mail = by_rcpt["elecam@example.org"][0]
    assert emb_mail["Content-Language"] == expected
    for messages in by_rcpt.values():
        parts = {part.get_content_type() for part in messages[0].walk()}
        assert {"text/plain", "text/html", "text/calendar"} <= parts
    ics = next(p for p in emb_mail.walk() if p.get_content_type() == "text/calendar")
    body = ics.get_content()
    assert "UID:cicie-request-" in body
    assert "DTSTART;VALUE=DATE:20160606" in body


def test_history_shows_which_messages_a_transition_queued(
    mail_engine: Engine, make_request: Callable[..., Any]
) -> None:
    view = make_request("internship", state="report_received")
    history = mail_engine.history(view.id)
    submit = next(h for h in history if h.trigger == "submit_report")
    templates = {m["template"] for m in submit.mails}
    assert templates == {"final_report_received"}
    assert {m["to"] for m in submit.mails} >= {"cicie-coordination@localhost"}
    assert all(m["status"] == "pending" for m in submit.mails)
    assert submit.to_dict()["mails"]


def test_a_transition_that_rolls_back_queues_nothing(
    runtime: Runtime, mail_engine: Engine, make_request: Callable[..., Any]
) -> None:
    view = make_request("internship", state="final_report")
    with runtime.db.read() as conn:
        before = len(outbox.listing(conn))

    def fail_after_the_mail_was_written(conn: sa.Connection, event: object) -> None:
        raise RuntimeError("disk full")

    mail_engine.subscribe(fail_after_the_mail_was_written)
    report = {
        "final_report_experience": "x",
        "final_report_adaptations": "y",
        "final_report_recommendations": "z",
    }
    with pytest.raises(RuntimeError):
        mail_engine.advance(view.id, "submit_report", Actor("coordinator", "ana"), data=report)
    with runtime.db.read() as conn:
        assert len(outbox.listing(conn)) == before
    assert mail_engine.get(view.id).state == "final_report"


def test_hostile_names_and_titles_cannot_add_headers_or_recipients(
    runtime: Runtime,
    mail_engine: Engine,
    smtp_server: SmtpServer,
    make_dispatcher: Callable[..., Dispatcher],
    dispatch: Callable[[Dispatcher], DispatchReport],
) -> None:
    mail_engine.add_emb(
        code="X-1",
        name="Evil =?UTF-8?Q?=0A?=Bcc: spy@evil.example",
        country="HN",
        language="es",
        email="emb@example.org",
    )
    view = mail_engine.create(
        "internship",
        emb_code="X-1",
        title="Internship =?UTF-8?Q?=0D=0A?=Bcc: spy@evil.example",
        actor=Actor("coordinator", "ana"),
    )
    accept = example_steps("internship")[0]
    coordinator = Actor("coordinator", "ana")
    for hostile in (
        {"contact_name": "Ana\r\nBcc: spy@evil.example"},
        {"contact_email": "ana@example.org, spy@evil.example"},
        {"contact_email": "ana@example.org\r\nBcc: spy@evil.example"},
    ):
        with pytest.raises(InvalidData):
            mail_engine.advance(view.id, "accept", coordinator, data=accept["data"] | hostile)
    data = accept["data"] | {"contact_name": "Ana =?UTF-8?Q?=0A?=Bcc: spy@evil.example"}
    mail_engine.advance(view.id, "accept", coordinator, data=data)
    report = dispatch(make_dispatcher(runtime.db))
    assert report.sent >= 2
    for received in smtp_server.received:
        assert "spy@evil.example" not in received.rcpt_tos
        message = _parse(received.content)
        assert message["Bcc"] is None
        assert message["Cc"] is None
        assert len(message.get_all("To") or []) == 1
        assert "\n" not in str(message["Subject"])


def test_a_template_error_refuses_the_transition_with_the_templates_name(
    mail_engine: Engine, make_request: Callable[..., Any], tmp_path: Path
) -> None:
    view = make_request("internship", state="in_progress")
    writer = next(listener for listener in mail_engine.listeners if hasattr(listener, "renderer"))
    broken = tmp_path / "templates"
    shutil.copytree(writer.renderer.template_dir, broken)
    (broken / "final_report_requested" / "body.txt").write_text(
        "{{ request.no_such_thing.deeper }}", encoding="utf-8"
    )
    writer.renderer = MailRenderer(broken)
    with pytest.raises(TemplateError) as refused:
        mail_engine.advance(view.id, "finish", Actor("coordinator", "ana"), data={"attendance": 9})
    assert refused.value.code == "template_error"
    assert "final_report_requested" in str(refused.value)
    assert mail_engine.get(view.id).state == "in_progress", "nothing was written"


def test_dead_letters_are_listed_and_can_be_retried(
    runtime: Runtime,
    mail_engine: Engine,
    smtp_server: SmtpServer,
    make_dispatcher: Callable[..., Dispatcher],
    dispatch: Callable[[Dispatcher], DispatchReport],
    make_request: Callable[..., Any],
) -> None:
    make_request("seminar", state="intake")
    view = make_request("internship", state="needs_assessment")
    smtp_server.reply_rcpt("550 5.1.1 no such mailbox")
    dispatch(make_dispatcher(runtime.db))
    with runtime.db.read() as conn:
        dead = outbox.listing(conn, status="dead")
    assert len(dead) == 1
    assert (dead[0].last_reply or "").startswith("550")
    assert dead[0].request_id == view.id
    assert outbox.retry(runtime.db, dead[0].id, runtime.engine.clock())
    dispatch(make_dispatcher(runtime.db))
    with runtime.db.read() as conn:
        assert outbox.listing(conn, status="dead") == []


def test_a_postponed_event_sends_an_invitation_that_updates_the_first(
    runtime: Runtime,
    mail_engine: Engine,
    smtp_server: SmtpServer,
    make_dispatcher: Callable[..., Dispatcher],
    dispatch: Callable[[Dispatcher], DispatchReport],
) -> None:
    mail_engine.add_emb(
        code="HN-TSE", name="TSE", country="HN", language="es", email="tse@example.org"
    )
    view = mail_engine.create(
        "international_workshop", emb_code="HN-TSE", title="Taller", actor=Actor("coordinator", "a")
    )
    _drive(mail_engine, view.id, "international_workshop", until="confirm_logistics")
    dispatch(make_dispatcher(runtime.db))
    first = _invitation_to(smtp_server, "tse@example.org")
    mail_engine.update(
        view.id,
        Actor("coordinator", "ana"),
        data={"event_start": "2016-06-20", "event_end": "2016-06-24"},
    )
    dispatch(make_dispatcher(runtime.db))
    second = _invitation_to(smtp_server, "tse@example.org")
    assert _ics_field(second, "UID") == _ics_field(first, "UID")
    assert int(_ics_field(second, "SEQUENCE")) > int(_ics_field(first, "SEQUENCE"))
    assert "DTSTART;VALUE=DATE:20160620" in second


def _invitation_to(server: SmtpServer, address: str) -> str:
    """The calendar part of the latest message to `address` that carries one."""
    for received in reversed(server.received):
        if address in received.rcpt_tos:
            for part in _parse(received.content).walk():
                if part.get_content_type() == "text/calendar":
                    return str(part.get_content())
    raise AssertionError(f"no invitation to {address}")


def _ics_field(ics: str, name: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in ics.splitlines() if line.startswith(name))
