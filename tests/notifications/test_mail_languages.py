"""Every mail in its reader's language, from one template per event: Arabic right to left,
Portuguese for a Portuguese contact, an explicit (and recorded) fallback when a language has
no catalogue, a first sentence that says what to do, links that open the public pages in the
mail's language, and a wording fix made in one place per language.

The mails are those the shipped workflows really send: each programme's events, to the roles
it names, in the stage the request is in when they go (the evaluation and closing stage of
issue 14 included), with the programme's own example data (its list of co-organisers). The
final report is asked for only after an internship (brochure § 2.2: "the requesting OAE will
generate a final report about the internship")."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from io import BytesIO
from typing import Any

import pytest
import sqlalchemy as sa
from babel.messages.mofile import write_mo
from babel.support import Translations

import i18n
from config.catalogues import Label, load_catalogues
from config.settings import Settings
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.service import Engine
from engine.views import RequestView
from i18n import LANGUAGES
from notifications.links import purpose
from notifications.recipient import Recipient
from notifications.recipients import RecipientResolver
from notifications.render import MailRenderer
from notifications.stored import message_bytes
from notifications.wiring import install_mail
from storage import outbox
from storage.models import outbox_table
from tests.conftest import example_steps
from workflows.definition import PREVIOUS, NotifyDef, WorkflowDefinition
from workflows.loader import load_all

SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
ISO_MOMENT = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
TITLE = "Pasantía del IEBC de Kenia en el Registro Federal de Electores"
WORKFLOWS = load_all()
SAMPLE_DUE = "2016-10-23"  # when a note declares no due date, the templates' "by" branch still


def example_data(programme: str) -> dict[str, Any]:
    """The data a request of `programme` carries once its bundled example has run."""
    data: dict[str, Any] = {}
    for step in example_steps(programme):
        data.update(step.get("data") or {})
    return data


@pytest.fixture(scope="module")
def renderer() -> MailRenderer:
    return MailRenderer()


@dataclass(frozen=True)
class Send:
    """One mail a shipped workflow sends: its event, to whom, in which stage the request is
    when it goes, and (reminders, escalations) the timer it is about."""

    programme: str
    event: str
    role: str
    state: str
    timer: str | None = None
    due_field: str | None = None
    due_days: int = 0

    @property
    def id(self) -> str:
        return "-".join(
            p for p in (self.programme, self.event, self.role, self.state, self.timer) if p
        )


def _held_from(definition: WorkflowDefinition) -> list[str]:
    """The stages a request can be put on hold in: it resumes into one of them."""
    holds = [t for t in definition.transitions if definition.states.get(t.dest, None)]
    return sorted({s for t in holds if definition.states[t.dest].hold for s in t.sources})


def _sends_of(programme: str, definition: WorkflowDefinition) -> list[Send]:
    found: list[tuple[NotifyDef, str, str | None]] = []
    for name, state in definition.states.items():
        found += [(n, name, None) for n in state.notify]
    for transition in definition.transitions:
        lands = [transition.dest] if transition.dest != PREVIOUS else _held_from(definition)
        found += [(n, state, None) for n in transition.notify for state in lands]
    for timer in definition.timers:
        found += [(n, state, timer.id) for n in timer.notify for state in timer.states]
    for rule in definition.on_change:
        found += [(n, state, None) for n in rule.notify for state in rule.states]
    return [
        Send(programme, note.template, role, state, timer, note.due_field, note.due_days)
        for note, state, timer in found
        for role in note.to
    ]


def _sends() -> list[Send]:
    """Every mail every shipped workflow sends (one per event, role, stage and timer)."""
    found = {s for name, d in WORKFLOWS.items() for s in _sends_of(name, d)}
    return sorted(found, key=lambda s: s.id)


SENDS = _sends()


def _context(
    programme: str,
    state: str,
    role: str,
    *,
    link_kind: str | None = None,
    timer: str | None = None,
    due_date: str | None = SAMPLE_DUE,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the outbox writer gives a template for a request of `programme` in `state`."""
    definition = WORKFLOWS[programme]
    data = example_data(programme) if data is None else data
    view = RequestView(
        id=42,
        programme=programme,
        workflow_version=1,
        emb="KE-IEBC",
        title=TITLE,
        state=state,
        state_label="",
        held_from=None,
        data=data,
        version=1,
        created_at=None,  # type: ignore[arg-type]
        updated_at=None,  # type: ignore[arg-type]
    )
    kind = link_kind or purpose(view, role)
    what: Label | None = None
    if timer is not None:
        what = next(t.label for t in definition.timers if t.id == timer)
    return {
        "request": {
            "id": 42,
            "title": TITLE,
            "programme": programme,
            "programme_label": definition.title,
            "state": state,
            "state_label": definition.states[state].label,
            "emb": "KE-IEBC",
            "data": data,
        },
        "emb": {
            "name": "Independent Electoral and Boundaries Commission",
            "country": "KE",
            "language": "en",
        },
        "link": f"https://cicie.example.org/{kind}/tok",
        "link_kind": kind,
        "due_date": due_date,
        "comment": None,
        "reason": None,
        "what": what,
        "changes": {"event_start": ["2016-09-05", data.get("event_start")]},
    }


def _without_free_text(shown: str, context: dict[str, Any]) -> str:
    """The mail without what people typed (a closing note may well say "on 2016-11-18"):
    what is checked is what the templates write."""
    for value in context["request"]["data"].values():
        if isinstance(value, str) and " " in value:
            shown = shown.replace(value, "")
    return shown


def _person(role: str, language: str) -> Recipient:
    return Recipient(role, "Wanjiru Kamau", "wanjiru.kamau@example.org", language)


# ---------------------------------------------------------------- languages
def test_arabic_mail_is_right_to_left_with_an_arabic_subject(renderer: MailRenderer) -> None:
    context = _context("international_workshop", "ready", "emb_contacts")
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


@pytest.mark.parametrize("send", SENDS, ids=lambda s: s.id)
def test_every_event_speaks_every_language_to_every_role_without_codes_or_iso_dates(
    renderer: MailRenderer, send: Send
) -> None:
    """Each mail a shipped workflow sends, to each role it names, in the stage it goes in —
    with and without a date it is due by — in every mail language."""
    for due_date in (SAMPLE_DUE, None):
        context = _context(
            send.programme, send.state, send.role, timer=send.timer, due_date=due_date
        )
        for language in LANGUAGES:
            rendered = renderer.render(send.event, _person(send.role, language), context)
            assert rendered.language == language
            shown = _without_free_text(rendered.subject + "\n" + rendered.text, context)
            assert not SNAKE_CASE.findall(shown), (language, SNAKE_CASE.findall(shown))
            assert not ISO_MOMENT.findall(shown), (language, ISO_MOMENT.findall(shown))


def test_the_mails_cover_the_roles_and_stages_the_shipped_workflows_use() -> None:
    """The loop above is built from the workflows themselves: it reaches the co-organisers of
    seminars and courses (issue 14: a list), the internship's intern and its report stages, and
    the closing stage every other programme now has (issue 14: "Evaluation and closing")."""
    covered = {(s.programme, s.event, s.role) for s in SENDS}
    assert ("seminar", "agenda_approved", "associate_partner") in covered
    assert ("specialization_course", "logistics_confirmed", "associate_partner") in covered
    assert ("internship", "final_report_requested", "intern") in covered
    assert ("internship", "reminder", "intern") in covered
    assert ("internship", "escalation", "programme_lead") in covered
    stages = {(s.programme, s.event, s.state) for s in SENDS}
    for programme in (
        "international_workshop",
        "seminar",
        "specialization_course",
        "technical_assistance",
    ):
        assert (programme, "request_resumed", "evaluation") in stages
        assert not {s for s in SENDS if s.programme == programme and "final_report" in s.event}
    assert ("internship", "request_resumed", "final_report") in stages


@pytest.mark.parametrize("programme", ["seminar", "specialization_course"])
def test_every_co_organiser_of_the_example_is_written_to_in_its_language(
    renderer: MailRenderer, programme: str
) -> None:
    """The associate partners are the request's co-organisers (issue 14: "co_organisers as a
    list of partner codes"): each non-founder one with an address gets the mail, addressed to
    it, in its own language."""
    catalogues = load_catalogues()
    resolver = RecipientResolver(catalogues, Settings(environment="test"))
    data = example_data(programme)
    view = RequestView(
        id=42,
        programme=programme,
        workflow_version=1,
        emb="KE-IEBC",
        title=TITLE,
        state="ready",
        state_label="",
        held_from=None,
        data=data,
        version=1,
        created_at=None,  # type: ignore[arg-type]
        updated_at=None,  # type: ignore[arg-type]
    )
    partners = resolver.resolve(["associate_partner"], view, None)
    expected = {
        catalogues.partners[code].email
        for code in data["co_organisers"]
        if catalogues.partners[code].email
    }
    assert partners
    assert {p.address for p in partners} == expected
    for partner in partners:
        context = _context(programme, "ready", "associate_partner")
        rendered = renderer.render("logistics_confirmed", partner, context)
        assert rendered.language == partner.language
        assert partner.name in rendered.text


def test_the_first_sentence_says_why_and_what_to_do_for_each_role(
    renderer: MailRenderer,
) -> None:
    def first(programme: str, state: str, event: str, role: str, timer: str | None = None) -> str:
        context = _context(programme, state, role, timer=timer)
        text = renderer.render(event, _person(role, "en"), context).text
        greeting = ("For the attention of", "Dear ")
        return next(p for p in text.split("\n\n") if not p.startswith(greeting))

    workshop = "international_workshop"
    assert first(workshop, "logistics", "agenda_approved", "speakers").startswith(
        "You are a speaker in"
    )
    assert "confirm your participation" in first(
        workshop, "logistics", "agenda_approved", "speakers"
    )
    assert "send us any comments by" in first(
        workshop, "logistics", "agenda_approved", "emb_contacts"
    )
    received = first("internship", "report_received", "final_report_received", "coordinator")
    assert received.startswith("As coordinator")
    assert "close the request" in received
    stalled = first(
        workshop, "needs_assessment", "escalation", "programme_lead", "assessment_stalled"
    )
    assert stalled.startswith("As lead of the programme")
    assert "Needs assessment stalled" in stalled
    overdue = first(
        "internship", "report_overdue", "escalation", "programme_lead", "overdue_to_programme_lead"
    )
    assert "Overdue final report" in overdue
    assert "commitments that fall to the founders" in first(
        "seminar", "ready", "logistics_confirmed", "founders"
    )
    assert "submit it through your final report form" in first(
        "internship", "final_report", "reminder", "intern", "final_report_due_soon"
    )


# ---------------------------------------------------------------- the final report's request
def test_the_emb_contact_is_not_asked_to_submit_and_is_told_its_link_is_read_only(
    renderer: MailRenderer,
) -> None:
    context = _context("internship", "final_report", "emb_contacts")
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
    """A programme that takes on the final report (base/final_report.yaml) without a list of
    delegates: the contact owes the report, yet has only a status link."""
    data = {k: v for k, v in example_data("internship").items() if k != "delegates"}
    context = _context("internship", "final_report", "emb_contacts", data=data)
    rendered = renderer.render("final_report_requested", _person("emb_contacts", "en"), context)
    assert "please send it to CICIE's coordination by e-mail by October 23, 2016" in rendered.text
    assert "read-only" in rendered.text
    assert "submit it through" not in rendered.text


@pytest.fixture
def mail_engine(runtime: Runtime) -> Engine:
    install_mail(runtime)
    return runtime.engine


EVENT_START = date(2026, 3, 2)  # still to come on the tests' today (12 January 2026)


def _finished_internship(engine: Engine, contact_language: str) -> RequestView:
    """An internship whose contact person (also the first intern) reads `contact_language`,
    held in March 2026 and run until the final report is requested."""
    engine.add_emb(
        code="KE-IEBC",
        name="Independent Electoral and Boundaries Commission",
        country="KE",
        language="en",
        email="iebc@example.org",
    )
    view = engine.create(
        "internship", emb_code="KE-IEBC", title=TITLE, actor=Actor("coordinator", "ana")
    )
    for step in example_steps("internship"):
        data = dict(step.get("data") or {})
        if "contact_language" in data:
            data["contact_language"] = contact_language
        if step["trigger"] == "confirm_logistics":  # an event to come, not the 2016 one
            data.pop("past_event", None)
            data.update(
                event_start=EVENT_START.isoformat(),
                event_end=(EVENT_START + timedelta(days=11)).isoformat(),
            )
        view = engine.advance(view.id, step["trigger"], Actor.parse(step["as"]), data=data)
        if step["trigger"] == "finish":
            return view
    raise AssertionError("the internship example never finishes")


def _mails(runtime: Runtime, request_id: int, template: str) -> dict[str, EmailMessage]:
    with runtime.db.read() as conn:
        rows = conn.execute(
            sa.select(outbox_table.c.to_addr, outbox_table.c.id).where(
                outbox_table.c.request_id == request_id, outbox_table.c.template == template
            )
        ).all()
        bodies = [(to_addr, message_bytes(conn, id) or b"") for to_addr, id in rows]
    found = {}
    for to_addr, body in bodies:
        message = email.message_from_bytes(body, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found[to_addr] = message
    return found


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


def test_a_portuguese_intern_gets_portuguese_and_a_report_form_in_portuguese(
    runtime: Runtime, mail_engine: Engine
) -> None:
    view = _finished_internship(mail_engine, "pt")
    mails = _mails(runtime, view.id, "final_report_requested")
    wanjiru = mails["wanjiru.kamau@example.org"]  # the contact person, also an intern
    assert wanjiru["Content-Language"] == "pt"
    assert "Solicitamos o seu relatório final" in str(wanjiru["Subject"])
    html = _part(wanjiru, "html")
    button = re.search(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', html)
    assert button is not None
    assert re.fullmatch(r"https?://[^/]+/report/[^/?]+\?lang=pt", button.group(1))
    assert button.group(2) == "Abrir o formulário do relatório final"
    text = _part(wanjiru, "plain")
    assert "formulário do relatório final" in text
    assert "12 de abril de 2026" in text  # due 30 days after the internship ends (13 March)
    # the EMB's own address reads English, and gets a status page in English
    emb = mails["iebc@example.org"]
    assert emb["Content-Language"] == "en"
    assert re.search(r"/status/[^/?\s]+\?lang=en", _part(emb, "plain"))
    assert "read-only" in _part(emb, "plain")


def test_a_language_without_a_catalogue_falls_back_explicitly_and_the_outbox_records_it(
    runtime: Runtime, mail_engine: Engine
) -> None:
    view = _finished_internship(mail_engine, "ru")  # no Russian catalogue: English instead
    with runtime.db.read() as conn:
        rows = [
            r for r in outbox.listing(conn, request_id=view.id) if r.to_addr.startswith("wanjiru")
        ]
    assert rows
    for row in rows:
        assert (row.language, row.wanted_language, row.fell_back) == ("en", "ru", True)
    message = _mails(runtime, view.id, "final_report_requested")["wanjiru.kamau@example.org"]
    assert message["Content-Language"] == "en"
    assert re.search(r"/report/[^/?\s]+\?lang=en", _part(message, "plain"))
    history = mail_engine.history(view.id)
    sent = [m for h in history for m in h.mails if m["to"] == "wanjiru.kamau@example.org"]
    assert sent
    assert all(m["wanted_language"] == "ru" for m in sent)
    with runtime.db.read() as conn:
        others = [
            r for r in outbox.listing(conn, request_id=view.id) if r.to_addr == "iebc@example.org"
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
    context = _context("internship", "final_report", "intern")
    before = renderer.render("final_report_requested", _person("intern", "es"), context)
    after = edited.render("final_report_requested", _person("intern", "es"), context)
    for part in ("text", "html"):
        assert "Su informe orienta los próximos programas del CICIE." in getattr(after, part)
        assert "Su informe orienta" not in getattr(before, part)
    assert after.subject == before.subject
    french = edited.render("final_report_requested", _person("intern", "fr"), context)
    assert "Le rapport nous permet d'améliorer les programmes du CICIE" in french.text


def test_no_template_is_copied_per_language() -> None:
    from notifications.render import TEMPLATE_DIR

    names = {p.name for p in TEMPLATE_DIR.rglob("*") if p.is_file()}
    assert names == {"subject.txt", "body.txt", "body.html"}
