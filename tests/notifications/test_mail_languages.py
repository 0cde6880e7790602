"""Every mail in its reader's language, from one template per event: Arabic right to left,
Portuguese for a Portuguese contact, an explicit (and recorded) fallback when a language has
no catalogue, a first sentence that says what to do, links that open the public pages in the
mail's language, and a wording fix made in one place per language."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from io import BytesIO
from typing import Any

import pytest
import sqlalchemy as sa
from babel.messages.mofile import write_mo
from babel.support import Translations

import i18n
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.service import Engine
from engine.views import RequestView
from i18n import LANGUAGES
from notifications.links import purpose
from notifications.recipient import Recipient
from notifications.render import MailRenderer
from notifications.wiring import install_mail
from storage import outbox
from storage.models import outbox_table
from tests.conftest import example_steps
from workflows.definition import NotifyDef, WorkflowDefinition
from workflows.loader import load_all

SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
ISO_MOMENT = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
TITLE = "Taller para el Tribunal Supremo Electoral de Honduras"
EXAMPLE: dict[str, Any] = {}
for _step in example_steps("international_workshop"):
    EXAMPLE.update(_step.get("data") or {})
WORKFLOWS = load_all()


@pytest.fixture(scope="module")
def renderer() -> MailRenderer:
    return MailRenderer()


def _notes(definition: WorkflowDefinition) -> list[NotifyDef]:
    notes = [n for state in definition.states.values() for n in state.notify]
    notes += [n for t in definition.transitions for n in t.notify]
    notes += [n for timer in definition.timers for n in timer.notify]
    notes += [n for rule in definition.on_change for n in rule.notify]
    return notes


def _event_roles() -> list[tuple[str, str]]:
    """(event, role) for every recipient role the shipped workflows send each event to."""
    found = {(n.template, role) for d in WORKFLOWS.values() for n in _notes(d) for role in n.to}
    return sorted(found)


def _context(
    role: str, event: str, *, link_kind: str | None = None, **extra: Any
) -> dict[str, Any]:
    definition = WORKFLOWS["international_workshop"]
    state = "final_report" if event in ("final_report_requested", "reminder") else "logistics"
    view = RequestView(
        id=42,
        programme="international_workshop",
        workflow_version=1,
        emb="HN-TSE",
        title=TITLE,
        state=state,
        state_label="",
        held_from=None,
        data=EXAMPLE,
        version=1,
        created_at=None,  # type: ignore[arg-type]
        updated_at=None,  # type: ignore[arg-type]
    )
    kind = link_kind or purpose(view, role)
    timer = next(t for t in definition.timers if t.id == "final_report_due_soon")
    return {
        "request": {
            "id": 42,
            "title": TITLE,
            "programme": "international_workshop",
            "programme_label": definition.title,
            "state": state,
            "state_label": definition.states[state].label,
            "emb": "HN-TSE",
            "data": EXAMPLE,
        },
        "emb": {"name": "Tribunal Supremo Electoral", "country": "HN", "language": "es"},
        "link": f"https://cicie.example.org/{kind}/tok",
        "link_kind": kind,
        "due_date": "2016-07-10",
        "comment": None,
        "reason": None,
        "what": timer.label,
        "changes": {"event_start": ["2016-05-23", "2016-06-06"]},
        **extra,
    }


def _person(role: str, language: str) -> Recipient:
    return Recipient(role, "Karla Méndez Zelaya", "karla.mendez@example.org", language)


# ---------------------------------------------------------------- languages
def test_arabic_mail_is_right_to_left_with_an_arabic_subject(renderer: MailRenderer) -> None:
    context = _context("emb_contacts", "logistics_confirmed")
    rendered = renderer.render("logistics_confirmed", _person("emb_contacts", "ar"), context)
    assert rendered.language == "ar"
    assert rendered.subject.startswith("تأكيد الترتيبات اللوجستية")
    assert '<html lang="ar" dir="rtl">' in rendered.html
    assert "text-align:right" in rendered.html
    assert "border-right:4px" in rendered.html  # the accent on the reading side
    assert "الترتيبات اللوجستية" in rendered.text
    english = renderer.render("logistics_confirmed", _person("emb_contacts", "en"), context)
    assert '<html lang="en" dir="ltr">' in english.html
    assert "text-align:left" in english.html


@pytest.mark.parametrize(("event", "role"), _event_roles())
def test_every_event_speaks_every_language_to_every_role_without_codes_or_iso_dates(
    renderer: MailRenderer, event: str, role: str
) -> None:
    for language in LANGUAGES:
        rendered = renderer.render(event, _person(role, language), _context(role, event))
        assert rendered.language == language
        shown = rendered.subject + "\n" + rendered.text
        assert not SNAKE_CASE.findall(shown), (language, SNAKE_CASE.findall(shown))
        assert not ISO_MOMENT.findall(shown), (language, ISO_MOMENT.findall(shown))


def test_the_first_sentence_says_why_and_what_to_do_for_each_role(
    renderer: MailRenderer,
) -> None:
    def first(event: str, role: str, link_kind: str | None = None) -> str:
        context = _context(role, event, link_kind=link_kind)
        text = renderer.render(event, _person(role, "en"), context).text
        greeting = ("For the attention of", "Dear ")
        return next(p for p in text.split("\n\n") if not p.startswith(greeting))

    assert first("agenda_approved", "speakers").startswith("You are a speaker in")
    assert "confirm your participation" in first("agenda_approved", "speakers")
    assert "send us any comments by" in first("agenda_approved", "emb_contacts")
    assert first("final_report_received", "coordinator").startswith("As coordinator")
    assert "close the request" in first("final_report_received", "coordinator")
    assert first("escalation", "programme_lead").startswith("As lead of the programme")
    assert "Final report due in 7 days" in first("escalation", "programme_lead")
    assert "commitments that fall to the founders" in first("logistics_confirmed", "founders")
    assert "submit it through your final report form" in first("reminder", "delegates")


# ---------------------------------------------------------------- the final report's request
def test_the_emb_contact_is_not_asked_to_submit_and_is_told_its_link_is_read_only(
    renderer: MailRenderer,
) -> None:
    context = _context("emb_contacts", "final_report_requested")
    assert context["link_kind"] == "status"
    rendered = renderer.render("final_report_requested", _person("emb_contacts", "en"), context)
    for part in (rendered.text, rendered.html):
        assert "nothing needs to be submitted by you" in part
        assert "read-only" in part
        assert "please write the final report and submit it" not in part
        assert "through the link below" not in part
    assert ">View the status page</a>" in rendered.html
    assert "report form</a>" not in rendered.html
    spanish = renderer.render("final_report_requested", _person("emb_contacts", "es"), context)
    assert "usted no necesita entregar nada" in spanish.text
    assert "solo de consulta" in spanish.text


def test_without_delegates_the_emb_contact_sends_the_report_to_the_coordination(
    renderer: MailRenderer,
) -> None:
    """A seminar has no delegates: the contact owes the report, yet has only a status link."""
    context = _context("emb_contacts", "final_report_requested")
    context["request"]["data"] = {k: v for k, v in EXAMPLE.items() if k != "delegates"}
    rendered = renderer.render("final_report_requested", _person("emb_contacts", "en"), context)
    assert "please send it to CICIE's coordination by e-mail by July 10, 2016" in rendered.text
    assert "read-only" in rendered.text
    assert "submit it through" not in rendered.text


@pytest.fixture
def mail_engine(runtime: Runtime) -> Engine:
    install_mail(runtime)
    return runtime.engine


def _finished_workshop(engine: Engine, contact_language: str) -> RequestView:
    """A workshop whose contact person (also a delegate) reads `contact_language`, run until
    the final report is requested."""
    engine.add_emb(
        code="HN-TSE",
        name="Tribunal Supremo Electoral",
        country="HN",
        language="es",
        email="tse@example.org",
    )
    view = engine.create(
        "international_workshop",
        emb_code="HN-TSE",
        title=TITLE,
        actor=Actor("coordinator", "ana"),
    )
    for step in example_steps("international_workshop"):
        data = dict(step.get("data") or {})
        if "contact_language" in data:
            data["contact_language"] = contact_language
        view = engine.advance(view.id, step["trigger"], Actor.parse(step["as"]), data=data)
        if step["trigger"] == "finish":
            return view
    raise AssertionError("the workshop example never finishes")


def _mails(runtime: Runtime, request_id: int, template: str) -> dict[str, EmailMessage]:
    with runtime.db.read() as conn:
        rows = conn.execute(
            sa.select(outbox_table.c.to_addr, outbox_table.c.body).where(
                outbox_table.c.request_id == request_id, outbox_table.c.template == template
            )
        ).all()
    found = {}
    for to_addr, body in rows:
        message = email.message_from_bytes(bytes(body), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found[to_addr] = message
    return found


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


def test_a_portuguese_delegate_gets_portuguese_and_a_report_form_in_portuguese(
    runtime: Runtime, mail_engine: Engine
) -> None:
    view = _finished_workshop(mail_engine, "pt")
    mails = _mails(runtime, view.id, "final_report_requested")
    karla = mails["karla.mendez@example.org"]  # the contact person, also a delegate
    assert karla["Content-Language"] == "pt"
    assert "Solicitamos o seu relatório final" in str(karla["Subject"])
    html = _part(karla, "html")
    button = re.search(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', html)
    assert button is not None
    assert re.fullmatch(r"https?://[^/]+/report/[^/?]+\?lang=pt", button.group(1))
    assert button.group(2) == "Abrir o formulário do relatório final"
    assert "formulário do relatório final" in _part(karla, "plain")
    # the EMB's own address reads Spanish, and gets a status page in Spanish
    emb = mails["tse@example.org"]
    assert emb["Content-Language"] == "es"
    assert re.search(r"/status/[^/?\s]+\?lang=es", _part(emb, "plain"))
    assert "solo de consulta" in _part(emb, "plain")


def test_a_language_without_a_catalogue_falls_back_explicitly_and_the_outbox_records_it(
    runtime: Runtime, mail_engine: Engine
) -> None:
    view = _finished_workshop(mail_engine, "ru")  # no Russian catalogue: English instead
    with runtime.db.read() as conn:
        rows = [
            r for r in outbox.listing(conn, request_id=view.id) if r.to_addr.startswith("karla")
        ]
    assert rows
    for row in rows:
        assert (row.language, row.wanted_language, row.fell_back) == ("en", "ru", True)
    message = _mails(runtime, view.id, "final_report_requested")["karla.mendez@example.org"]
    assert message["Content-Language"] == "en"
    assert re.search(r"/report/[^/?\s]+\?lang=en", _part(message, "plain"))
    history = mail_engine.history(view.id)
    sent = [m for h in history for m in h.mails if m["to"] == "karla.mendez@example.org"]
    assert sent
    assert all(m["wanted_language"] == "ru" for m in sent)
    with runtime.db.read() as conn:
        others = [
            r for r in outbox.listing(conn, request_id=view.id) if r.to_addr == "tse@example.org"
        ]
    assert others
    assert not any(r.fell_back for r in others)


# ---------------------------------------------------------------- one place per language
def test_a_sentence_changed_in_one_catalogue_changes_the_mail(renderer: MailRenderer) -> None:
    sentence = (
        "The report helps us improve CICIE's programmes and follow up on the results of our "
        "cooperation."
    )
    catalogue = i18n.read_catalogue("es")
    catalogue[sentence].string = "Su informe orienta los próximos programas del CICIE."
    buffer = BytesIO()
    write_mo(buffer, catalogue)
    buffer.seek(0)
    changed = Translations(buffer)

    def translations(language: str) -> Any:
        return changed if language == "es" else i18n.translations(language)

    edited = MailRenderer(translations=translations)
    context = _context("delegates", "final_report_requested")
    before = renderer.render("final_report_requested", _person("delegates", "es"), context)
    after = edited.render("final_report_requested", _person("delegates", "es"), context)
    for part in ("text", "html"):
        assert "Su informe orienta los próximos programas del CICIE." in getattr(after, part)
        assert "Su informe orienta" not in getattr(before, part)
    assert after.subject == before.subject
    french = edited.render("final_report_requested", _person("delegates", "fr"), context)
    assert "Le rapport nous permet d'améliorer les programmes du CICIE" in french.text


def test_no_template_is_copied_per_language() -> None:
    from notifications.render import TEMPLATE_DIR

    names = {p.name for p in TEMPLATE_DIR.rglob("*") if p.is_file()}
    assert names == {"subject.txt", "body.txt", "body.html"}
