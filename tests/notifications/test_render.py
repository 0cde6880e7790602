"""Rendering partner mail for real: every event in every mail language from the workshop
example, language fallback, strict templates, escaping, and the MIME bytes a hostile request
yields."""

from __future__ import annotations

import email
import email.policy
import sys
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from engine.errors import InvalidData
from i18n import LANGUAGES
from notifications.headers import _CONTROL
from notifications.ics import invitation
from notifications.recipient import Recipient
from notifications.render import (
    Attachment,
    MailRenderer,
    Rendered,
    TemplateError,
    build_message,
    make_message_id,
)
from workflows.loader import WORKFLOW_DIR

EVENTS = {
    "request_received",
    "agenda_approved",
    "logistics_confirmed",
    "dates_changed",
    "final_report_requested",
    "final_report_received",
    "request_closed",
    "request_declined",
    "request_withdrawn",
    "request_on_hold",
    "request_resumed",
    "reminder",
    "escalation",
}
SIGNATURE = "Centro Internacional de Capacitación e Investigación Electoral (CICIE) — INE"
LINK = "https://cicie.example.org/requests/42"
SENT_AT = datetime(2016, 4, 20, 16, 30, tzinfo=UTC)
MESSAGE_ID = "<3f2a9c1e@cicie.localhost>"
# the roles a workflow's `notify: to:` names (notifications/recipients.py)
ROLES = [
    "emb_contacts",
    "founders",
    "associate_partner",
    "coordinator",
    "programme_lead",
    "intern",
    "delegates",
    "speakers",
]


def example_data(programme: str) -> dict[str, Any]:
    """The data a request of `programme` carries once its example has run to the end."""
    steps = yaml.safe_load((WORKFLOW_DIR / "examples" / f"{programme}.yaml").read_text())
    data: dict[str, Any] = {}
    for step in steps["steps"]:
        data.update(step.get("data") or {})
    return data


WORKSHOP = example_data("international_workshop")


@pytest.fixture(scope="module")
def renderer() -> MailRenderer:
    return MailRenderer()


@pytest.fixture
def context() -> Callable[..., dict[str, Any]]:
    """A factory for the context the workflows pass, built from the workshop example."""

    def make(**overrides: Any) -> dict[str, Any]:
        title = overrides.pop("title", "Taller para el Tribunal Supremo Electoral de Honduras")
        data = {**WORKSHOP, **overrides.pop("data", {})}
        start = date.fromisoformat(data["event_start"])
        values: dict[str, Any] = {
            "request": {
                "id": 42,
                "title": title,
                "programme": "international_workshop",
                "programme_label": {
                    "es": "Taller Internacional sobre Administración y Justicia Electoral",
                    "en": "International Workshop on Electoral Administration and Justice",
                    "fr": "Atelier international sur l'administration et la justice électorales",
                },
                "state": "logistics",
                "state_label": {"es": "Logística", "en": "Logistics", "fr": "Logistique"},
                "emb": "HN-TSE",
                "data": data,
            },
            "emb": {"name": "Tribunal Supremo Electoral", "country": "HN", "language": "es"},
            "link": LINK,
            "due_date": (start - timedelta(days=30)).isoformat(),
            "comment": None,
            "reason": "El calendario electoral se adelantó.",
            "what": {"es": "el informe final", "en": "the final report", "fr": "le rapport final"},
            # dates_changed: the workshop was postponed by two weeks and moved to INE
            "changes": {
                "event_start": ["2016-05-23", data["event_start"]],
                "event_end": ["2016-05-27", data.get("event_end")],
                "venue": ["TEPJF, Carlota Armero 5000, Ciudad de México", data.get("venue")],
            },
        }
        values.update(overrides)
        return values

    return make


def person(
    language: str, role: str = "emb_contacts", name: str = "Karla Méndez Zelaya"
) -> Recipient:
    return Recipient(role=role, name=name, address="karla.mendez@example.org", language=language)


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


# ---------------------------------------------------------------- the template set
def test_every_event_has_all_required_languages(renderer: MailRenderer) -> None:
    templates = renderer.templates()
    assert set(templates) == EVENTS
    for name, languages in templates.items():
        assert languages == set(LANGUAGES), name


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", sorted(EVENTS))
@pytest.mark.parametrize("role", ROLES)
def test_every_template_renders_in_every_language_for_every_role(
    renderer: MailRenderer,
    context: Callable[..., dict[str, Any]],
    template: str,
    language: str,
    role: str,
) -> None:
    rendered = renderer.render(template, person(language, role), context())
    assert rendered.language == language
    assert rendered.subject
    assert "\n" not in rendered.subject
    assert "Taller para el Tribunal Supremo Electoral de Honduras" in rendered.subject
    for part in (rendered.text, rendered.html):
        assert LINK in part
        assert SIGNATURE in part
        assert "Karla Méndez Zelaya" in part
        assert "None" not in part
    assert rendered.html.lstrip().startswith("<!DOCTYPE html>")
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in rendered.html


@pytest.mark.parametrize(
    ("language", "what_to_do", "month"),
    [
        ("es", "¿QUÉ DEBE HACER?", "junio"),
        ("en", "WHAT YOU NEED TO DO", "June"),
        ("fr", "CE QUE VOUS DEVEZ FAIRE", "juin"),
    ],
)
def test_logistics_tell_the_emb_when_air_tickets_are_due_in_its_language(
    renderer: MailRenderer,
    context: Callable[..., dict[str, Any]],
    language: str,
    what_to_do: str,
    month: str,
) -> None:
    rendered = renderer.render("logistics_confirmed", person(language), context())
    expected = {
        "es": ("6 de junio de 2016", "10 de junio de 2016", "7 de mayo de 2016"),
        "en": ("June 6, 2016", "June 10, 2016", "May 7, 2016"),
        "fr": ("6 juin 2016", "10 juin 2016", "7 mai 2016"),
    }[language]
    start, end, due = expected
    assert month in rendered.subject
    action = rendered.text.split(what_to_do, 1)[1]
    assert due in action.split("\n\n", 1)[0]  # the due date is in the request itself
    for text in (rendered.text, rendered.html):
        assert start in text
        assert end in text
        assert due in text
        assert "Viaducto Tlalpan 100" in text
        assert "Héctor Banegas Cruz" in text


def test_logistics_list_who_pays_what_in_the_recipient_language(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]]
) -> None:
    english = renderer.render("logistics_confirmed", person("en", "founders"), context())
    assert "Delegates' air tickets to Mexico City: Visiting electoral authority" in english.text
    assert "Fees and air tickets of international experts: Associate partner" in english.text
    assert "Simultaneous interpretation: Not needed" in english.text
    spanish = renderer.render("logistics_confirmed", person("es", "founders"), context())
    assert (
        "Hospedaje y alimentación de la delegación visitante: Fundadores "
        "(INE, TEPJF, PNUD México, AMEXCID)" in spanish.text
    )
    assert "<td" in spanish.html
    assert "Socio asociado</td>" in spanish.html


def test_each_role_is_told_its_own_next_step_in_the_first_sentence(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]]
) -> None:
    def lead(role: str) -> str:
        text = renderer.render("logistics_confirmed", person("en", role), context()).text
        greeting = ("For the attention of", "Dear ")
        return next(p for p in text.split("\n\n") if not p.startswith(greeting))

    assert "your delegates' flight itineraries to Mexico City by May 7, 2016" in lead(
        "emb_contacts"
    )
    assert "international experts' names and itineraries" in lead("associate_partner")
    assert "commitments that fall to the founders" in lead("founders")
    assert len({lead("emb_contacts"), lead("associate_partner"), lead("founders")}) == 3


def test_the_approved_agenda_lists_sessions_and_speakers(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]]
) -> None:
    rendered = renderer.render("agenda_approved", person("es", "speakers"), context())
    for session in WORKSHOP["agenda_sessions"]:
        assert session["title"] in rendered.text
        assert session["title"] in rendered.html
    assert "Peter Lindqvist (International IDEA)" in rendered.text
    assert "experiencia mexicana" in rendered.text
    assert "Padrón electoral preciso y confiable" in rendered.text  # theme label, not its id


def test_the_final_report_request_names_the_three_parts_and_the_deadline(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]]
) -> None:
    ctx = context(due_date="2016-07-11", link_kind="report")
    rendered = renderer.render("final_report_requested", person("fr", "intern"), ctx)
    assert "11 juillet 2016" in rendered.text
    assert "recommandations sur le travail de l'INE" in rendered.text
    assert LINK in rendered.text


def test_templates_tolerate_programmes_without_agenda_delegates_or_emb(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]]
) -> None:
    seminar = example_data("seminar")
    ctx = context(data={}, emb=None, due_date=None)
    ctx["request"]["data"] = seminar
    for template in sorted(EVENTS):
        rendered = renderer.render(template, person("en", "founders"), ctx)
        assert LINK in rendered.text
    agenda = renderer.render("agenda_approved", person("en", "founders"), ctx)
    assert "Patricia Aguilar Núñez" in agenda.text  # the seminar's speakers, no sessions


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ("request_declined", "decline_reason"),
        ("request_withdrawn", "withdrawal_reason"),
        ("request_on_hold", "hold_reason"),
    ],
)
def test_without_a_reason_the_request_own_reason_is_shown(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]], template: str, field: str
) -> None:
    ctx = context(data={field: "Elecciones anticipadas por decreto."})
    del ctx["reason"]
    rendered = renderer.render(template, person("es"), ctx)
    assert "Motivo: Elecciones anticipadas por decreto." in rendered.text
    assert "Elecciones anticipadas por decreto." in rendered.html


def test_institutions_are_addressed_as_institutions(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]]
) -> None:
    ine = Recipient("founders", "Instituto Nacional Electoral", "cicie.ine@example.org", "es")
    text = renderer.render("request_closed", ine, context()).text
    assert text.startswith("A la atención de: Instituto Nacional Electoral\n\nEstimados colegas:\n")
    karla = renderer.render("request_closed", person("es"), context()).text
    assert karla.startswith("Apreciable Karla Méndez Zelaya:\n")


def test_a_reminder_needs_only_what_is_due_and_the_request(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]]
) -> None:
    full = context()
    ctx = {"request": full["request"], "link": LINK, "what": "the final report", "due_date": None}
    rendered = renderer.render("reminder", person("en", "intern"), ctx)
    assert rendered.subject.startswith("Reminder: the final report")
    assert "at your earliest convenience" in rendered.text


# ---------------------------------------------------------------- languages
@pytest.mark.parametrize(
    ("language", "used"),
    [
        ("es", "es"),
        ("en", "en"),
        ("fr", "fr"),
        ("pt", "pt"),
        ("ar", "ar"),
        ("ru", "en"),
        ("de", "en"),
    ],
)
def test_the_first_language_of_the_recipient_chain_is_used(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]], language: str, used: str
) -> None:
    rendered = renderer.render("request_received", person(language), context())
    assert rendered.language == used
    assert rendered.wanted == language
    assert rendered.fell_back == (used != language)


def _template(root: Path, name: str, subject: str, text: str, html: str) -> None:
    """A template folder in `root`, with a layout that only prints the body."""
    (root / "layout").mkdir(exist_ok=True)
    (root / "layout" / "body.txt").write_text("{% block body %}{% endblock %}")
    (root / "layout" / "body.html").write_text("{% block body %}{% endblock %}")
    (root / name).mkdir()
    (root / name / "subject.txt").write_text(subject)
    (root / name / "body.txt").write_text(text)
    (root / name / "body.html").write_text(html)


def test_a_template_whose_sentences_no_catalogue_has_falls_back_to_english(
    tmp_path: Path,
) -> None:
    _template(
        tmp_path,
        "untranslated",
        '{{ _("A sentence no translator has seen yet") }}\n',
        "x",
        "x",
    )
    renderer = MailRenderer(tmp_path)
    assert renderer.languages("untranslated") == frozenset({"en"})
    rendered = renderer.render("untranslated", person("pt"), {})
    assert (rendered.language, rendered.wanted, rendered.fell_back) == ("en", "pt", True)
    assert rendered.subject == "A sentence no translator has seen yet"


def test_a_template_needs_its_three_parts(tmp_path: Path) -> None:
    _template(tmp_path, "partial", "s\n", "t\n", "h\n")
    (tmp_path / "partial" / "body.html").unlink()
    renderer = MailRenderer(tmp_path)
    assert renderer.templates() == {"partial": frozenset()}
    with pytest.raises(TemplateError, match=r"subject\.txt, body\.txt, body\.html"):
        renderer.languages("partial")


@pytest.mark.parametrize("name", ["no_such_event", "../templates", "_layout", "layout", ""])
def test_an_unknown_template_is_a_template_error(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]], name: str
) -> None:
    with pytest.raises(TemplateError) as caught:
        renderer.render(name, person("es"), context())
    assert caught.value.code == "template_error"


# ---------------------------------------------------------------- strictness
def test_a_missing_variable_names_the_template_and_language(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]]
) -> None:
    ctx = context()
    del ctx["link"]
    with pytest.raises(TemplateError) as caught:
        renderer.render("request_received", person("fr"), ctx)
    error = caught.value
    assert error.template == "request_received"
    assert error.language == "fr"
    assert error.message.startswith("template request_received/body.txt")
    assert "'link' is undefined" in error.message


def test_a_missing_attribute_of_the_request_is_a_template_error(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]]
) -> None:
    ctx = context()
    del ctx["request"]["title"]
    with pytest.raises(
        TemplateError,
        match=r"logistics_confirmed/subject\.txt line \d+: .*has no attribute 'title'",
    ):
        renderer.render("logistics_confirmed", person("es"), ctx)


def test_a_template_error_points_at_the_line(tmp_path: Path) -> None:
    _template(
        tmp_path, "broken", "Asunto\n", "uno\ndos\n{{ missing.value }}\n", "<p>{% if %}</p>\n"
    )
    event = tmp_path / "broken"
    renderer = MailRenderer(tmp_path)
    with pytest.raises(TemplateError) as caught:
        renderer.render("broken", person("es"), {})
    message = caught.value.message
    assert message.startswith("template broken/body.txt line 3: 'missing' is undefined")
    (event / "body.txt").write_text("ok\n")
    with pytest.raises(TemplateError) as syntax:
        renderer.render("broken", person("es"), {})
    assert syntax.value.file == "broken/body.html"
    assert syntax.value.line == 1


def test_printing_none_is_refused_rather_than_mailed(tmp_path: Path) -> None:
    _template(
        tmp_path, "careless", "Subject\n", "Comment: {{ comment }}\n", "<p>{{ comment }}</p>\n"
    )
    with pytest.raises(TemplateError, match="None"):
        MailRenderer(tmp_path).render("careless", person("en"), {"comment": None})


def test_the_render_language_key_is_reserved(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]]
) -> None:
    with pytest.raises(TemplateError, match="language"):
        renderer.render("request_received", person("es"), context(language="fr"))


# ---------------------------------------------------------------- escaping and filters
def test_html_escapes_a_script_in_the_title_while_the_text_keeps_it(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]]
) -> None:
    title = "<script>alert('x')</script> R&D"
    rendered = renderer.render("request_received", person("en"), context(title=title))
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; R&amp;D" in rendered.html
    assert title in rendered.text
    assert title in rendered.subject  # subjects are text: no &amp; in them


def _filter_renderer(tmp_path: Path, text: str) -> MailRenderer:
    _template(tmp_path, "filters", "s\n", text, "<p>x</p>\n")
    return MailRenderer(tmp_path)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", "6 de junio de 2016|6 jun 2016, 22:00:00|1.234,50\u00a0US$|Honduras"),
        ("en", "June 6, 2016|Jun 6, 2016, 10:00:00\u202fPM|$1,234.50|Honduras"),
        ("fr", "6 juin 2016|6 juin 2016, 22:00:00|1\u202f234,50\u00a0$US|Honduras"),
    ],
)
def test_filters_format_in_the_language_and_the_business_time_zone(
    tmp_path: Path, language: str, expected: str
) -> None:
    renderer = _filter_renderer(
        tmp_path,
        "{{ d|date }}|{{ t|datetime }}|{{ 1234.5|money('USD') }}|{{ 'HN'|country }}",
    )
    # 03:00 UTC on June 7 is still June 6 in Mexico City (CDT, UTC−5, in June 2016)
    instant = datetime(2016, 6, 7, 3, 0, tzinfo=UTC)
    ctx = {"d": instant, "t": instant}
    rendered = renderer.render("filters", person(language), ctx)
    assert rendered.text == expected


def test_the_date_filter_accepts_iso_strings_and_refuses_garbage(tmp_path: Path) -> None:
    renderer = _filter_renderer(tmp_path, "{{ d|date }}")
    assert renderer.render("filters", person("es"), {"d": "2016-06-06"}).text == (
        "6 de junio de 2016"
    )
    with pytest.raises(TemplateError, match=r"filters/body\.txt"):
        renderer.render("filters", person("es"), {"d": "next tuesday"})
    with pytest.raises(TemplateError, match="naive"):
        renderer.render("filters", person("es"), {"d": datetime(2016, 6, 6, 9, 0)})


# ---------------------------------------------------------------- messages
def _build(rendered: Rendered, recipient: Recipient, **overrides: Any) -> bytes:
    values: dict[str, Any] = {
        "rendered": rendered,
        "sender": "CICIE <cicie@localhost>",
        "recipient": recipient,
        "message_id": MESSAGE_ID,
        "date": SENT_AT,
    }
    values.update(overrides)
    return build_message(**values)


def test_a_built_message_has_the_headers_the_outbox_relies_on(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]]
) -> None:
    recipient = person("ru")  # no catalogue in Russian: written in English, and said so
    rendered = renderer.render("request_received", recipient, context())
    message = parse(_build(rendered, recipient))
    assert message["Message-ID"] == MESSAGE_ID
    assert message["Content-Language"] == "en"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["From"].addresses[0].addr_spec == "cicie@localhost"
    assert message["From"].addresses[0].display_name == "CICIE"
    assert message["Subject"] == rendered.subject
    assert message["Date"].datetime == SENT_AT
    assert message.get_content_type() == "multipart/alternative"
    assert "Tribunal Supremo Electoral de Honduras" in body(message, "plain")
    assert body(message, "html").lstrip().startswith("<!DOCTYPE html>")


HOSTILE = [
    "Taller\r\nBcc: evil@x.org",
    "Taller\n Bcc: evil@x.org",
    "=?UTF-8?Q?=0A?=Bcc: evil@x.org",
    "Taller =?UTF-8?B?DQpCY2M6IGV2aWxAeC5vcmc=?= final",
    "Taller\x00\x0bCc: evil@x.org",
    "Taller\u2028Bcc: evil@x.org",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_titles_and_names_cannot_add_recipients_or_headers(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]], hostile: str
) -> None:
    recipient = person("en", name=f"Méndez, Karla {hostile}")
    rendered = renderer.render("request_received", recipient, context(title=hostile))
    raw = _build(rendered, recipient, sender=f"CICIE {hostile.replace('<', '')} <cicie@localhost>")
    message = parse(raw)
    assert message["Bcc"] is None
    assert message["Cc"] is None
    assert len(message["To"].addresses) == 1
    assert message["To"].addresses[0].addr_spec == "karla.mendez@example.org"
    assert len(message["From"].addresses) == 1
    assert "\n" not in message["Subject"]
    assert "\r" not in message["Subject"]
    header_block = raw.split(b"\r\n\r\n", 1)[0].lower()
    assert b"\nbcc:" not in header_block
    assert b"\ncc:" not in header_block


def test_a_display_name_with_a_comma_stays_one_recipient(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]]
) -> None:
    recipient = person("es", name="Méndez Zelaya, Karla")
    message = parse(_build(renderer.render("request_closed", recipient, context()), recipient))
    (address,) = message["To"].addresses
    assert address.display_name == "Méndez Zelaya, Karla"
    assert address.addr_spec == "karla.mendez@example.org"


@pytest.mark.parametrize(
    "address", ["a@x.org, evil@y.org", "a@x.org\r\nBcc: evil@y.org", "Evil <evil@y.org>"]
)
def test_a_recipient_address_that_is_not_one_address_is_refused(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]], address: str
) -> None:
    recipient = Recipient(role="emb_contacts", name="Karla", address=address, language="es")
    rendered = renderer.render("request_received", recipient, context())
    with pytest.raises(InvalidData) as caught:
        _build(rendered, recipient)
    assert caught.value.details[0]["field"] == "recipient"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"message_id": "3f2a@cicie.localhost"}, ValueError),
        ({"message_id": "<3f2a@cicie.localhost>\r\nBcc: evil@x"}, ValueError),
        ({"date": datetime(2016, 4, 20, 10, 30)}, ValueError),
        ({"sender": "CICIE <cicie@localhost>, evil@y.org"}, InvalidData),
    ],
)
def test_bad_message_parameters_are_refused(
    renderer: MailRenderer,
    context: Callable[..., dict[str, Any]],
    overrides: dict[str, Any],
    error: type,
) -> None:
    recipient = person("es")
    rendered = renderer.render("request_received", recipient, context())
    with pytest.raises(error):
        _build(rendered, recipient, **overrides)


@settings(max_examples=150, deadline=None)
@given(subject=st.text(max_size=300), name=st.text(max_size=120))
def test_any_subject_and_name_give_one_subject_line_and_one_recipient(
    subject: str, name: str
) -> None:
    rendered = Rendered(language="es", subject=subject or "x", text="hola\n", html="<p>hola</p>")
    recipient = Recipient(role="emb_contacts", name=name, address="k@example.org", language="es")
    raw = build_message(
        rendered=rendered,
        sender="CICIE <cicie@localhost>",
        recipient=recipient,
        message_id=MESSAGE_ID,
        date=SENT_AT,
    )
    message = parse(raw)
    assert [a.addr_spec for a in message["To"].addresses] == ["k@example.org"]
    assert message["Bcc"] is None
    assert message["Cc"] is None
    assert "\n" not in str(message["Subject"])
    assert set(message.keys()) <= {
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "Content-Language",
        "Auto-Submitted",
        "X-Auto-Response-Suppress",
        "Content-Type",
        "MIME-Version",
    }


def test_an_invitation_travels_as_a_calendar_request_attachment(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]]
) -> None:
    recipient = person("fr")
    rendered = renderer.render("logistics_confirmed", recipient, context())
    ics = invitation(
        uid="request-42@cicie.localhost",
        sequence=3,
        title="Taller para el TSE de Honduras",
        start=date(2016, 6, 6),
        end=date(2016, 6, 10),
        location=WORKSHOP["venue"],
        organizer="CICIE <cicie@localhost>",
        attendee=f"{recipient.name} <{recipient.address}>",
        description="Agenda: " + LINK,
        now=SENT_AT,
    )
    raw = _build(rendered, recipient, attachments=[Attachment.invitation(ics)])
    message = parse(raw)
    assert message.get_content_type() == "multipart/mixed"
    (part,) = list(message.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    assert part.get_param("charset") == "utf-8"
    assert part.get_filename() == "invitation.ics"
    calendar = Calendar.from_ical(part.get_payload(decode=True))
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == "request-42@cicie.localhost"
    assert int(event["SEQUENCE"]) == 3
    assert event.decoded("DTSTART") == date(2016, 6, 6)
    assert event.decoded("DTEND") == date(2016, 6, 11)
    assert "6 juin 2016" in body(message, "plain")


def test_message_ids_are_stable_per_outbox_key() -> None:
    first = make_message_id("42:1017:karla.mendez@example.org", "cicie.localhost")
    assert first == make_message_id("42:1017:karla.mendez@example.org", "cicie.localhost")
    assert first != make_message_id("42:1018:karla.mendez@example.org", "cicie.localhost")
    assert first.startswith("<")
    assert first.endswith("@cicie.localhost>")
    assert len(first.split("@")[0]) == 1 + 32
    with pytest.raises(ValueError, match="domain"):
        make_message_id("k", "evil.org>\r\nBcc: x")


def test_the_control_character_class_is_exactly_unicodes_cc_zl_and_zp() -> None:
    """clean_header replaces these with one regex pass; the class must match unicodedata."""
    expected = {
        chr(c)
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) in ("Cc", "Zl", "Zp")
    }
    found = set(_CONTROL.findall("".join(chr(c) for c in range(sys.maxunicode + 1) if c != 0)))
    assert found | {"\x00"} == expected
    assert _CONTROL.fullmatch("\x00")


def test_a_built_message_is_stable_crlf_wire_format_with_short_encoded_headers(
    renderer: MailRenderer, context: Callable[..., dict[str, Any]]
) -> None:
    recipient = person("es", name="Karla Méndez Zelaya, Tribunal Supremo Electoral")
    title = "Taller para el Tribunal Supremo Electoral de Honduras: administración y justicia"
    rendered = renderer.render("request_received", recipient, context(title=title))
    raw = _build(rendered, recipient)
    assert raw == _build(rendered, recipient), "the same mail is the same bytes (a resend)"
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    subject = head[head.index("Subject:") :].split("\r\n")
    assert subject[0].startswith("Subject: =?utf-8?b?")
    assert all(len(line) <= 78 for line in subject if line.startswith(("Subject", " =?")))
    message = parse(raw)
    assert message["Subject"] == rendered.subject
    assert message["To"].addresses[0].display_name == recipient.name
    assert body(message, "plain") == rendered.text
    assert body(message, "html") == rendered.html
    assert not [d for part in message.walk() for d in part.defects]
