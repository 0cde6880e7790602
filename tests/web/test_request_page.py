"""The request page: data by stage, the diagram, actions with the rules that block them,
saving and advancing through forms, refusals that keep what was typed, conflicts, history,
timers, the print view. Real databases (SQLite and PostgreSQL), real sign-in."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from html import unescape
from typing import Any

from starlette.testclient import TestClient

from engine.accounts import Accounts
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.service import Engine
from engine.sweep import TimerSweep
from engine.views import RequestView
from notifications.wiring import install_mail
from tests.web.conftest import SignIn, csrf_of


def version_of(html: str) -> str:
    found = re.search(r'name="expected_version" value="(\d+)"', html)
    assert found, "the page has no expected_version field"
    return found.group(1)


def form_of(page: str, **fields: Any) -> dict[str, str | list[str]]:
    """The request form's CSRF token and version, plus `fields` (`a__0__b` is `a-0-b`; a list
    is sent as repeated keys)."""
    out: dict[str, str | list[str]] = {
        "csrf_token": csrf_of(page),
        "expected_version": version_of(page),
    }
    for key, value in fields.items():
        out[key.replace("__", "-")] = (
            [str(v) for v in value] if isinstance(value, list) else str(value)
        )
    return out


def value_of(html: str, name: str) -> str | None:
    """The value an input named `name` carries (or a textarea's text)."""
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', html)
    if found:
        return unescape(found.group(1))
    found = re.search(rf'<textarea[^>]*name="{re.escape(name)}"[^>]*>(.*?)</textarea>', html, re.S)
    return unescape(found.group(1)) if found else None


INTAKE = {
    "contact_name": "Karla Méndez",
    "contact_email": "karla@example.org",
    "contact_language": "es",
    "timing_scenario": ["before_elections"],
    "themes": ["electoral_cycle.voter_registry", "consolidation.party_finance_audit"],
}


def test_the_page_shows_state_diagram_and_guard_messages_of_a_blocked_trigger(
    make_request: Callable[..., RequestView], sign_in: SignIn
) -> None:
    view = make_request("international_workshop", "intake")
    page = sign_in("coordinator", "ana").get(f"/requests/{view.id}")
    assert page.status_code == 200
    html = page.text
    assert "<svg" in html
    assert 'class="state current"' in html
    assert 'data-state="intake"' in html
    # accept is blocked at intake until the timing and themes are recorded: disabled, with why
    button = re.search(r'<button[^>]*name="trigger" value="accept"[^>]*>', html)
    assert button
    assert "disabled" in button.group(0)
    reasons = re.search(r'<ul class="reasons" id="reasons-accept">(.*?)</ul>', html, re.S)
    assert reasons
    assert "<li>" in reasons.group(1)
    # the intake fields are a form: a select per enum, a checkbox per moment and per theme,
    # labels for all
    assert 'name="timing_scenario" value="before_elections"' in html
    assert '<select id="f-contact_language" name="contact_language"' in html
    assert 'name="themes" value="electoral_cycle.voter_registry"' in html
    for field_id in re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', html):
        assert f'for="{field_id}"' in html, f"no label for {field_id}"


def test_a_refused_advance_is_a_422_with_the_reasons_and_keeps_what_was_typed(
    make_request: Callable[..., RequestView], sign_in: SignIn, engine: Engine
) -> None:
    view = make_request("international_workshop", "intake")
    browser = sign_in("coordinator", "ana")
    page = browser.get(f"/requests/{view.id}").text
    response = browser.post(
        f"/requests/{view.id}/advance",
        data=form_of(page, trigger="accept", contact_name="Typed Name", venue="ignored"),
    )
    assert response.status_code == 422
    assert 'class="action refused"' in response.text
    assert "Nothing was changed" in response.text
    assert value_of(response.text, "contact_name") == "Typed Name"
    after = engine.get(view.id)
    assert after.state == "intake"
    assert after.version == view.version
    assert "contact_name" not in after.data


def test_invalid_data_is_shown_next_to_the_field(
    make_request: Callable[..., RequestView], sign_in: SignIn, engine: Engine
) -> None:
    view = make_request("international_workshop", "intake")
    browser = sign_in("coordinator", "ana")
    page = browser.get(f"/requests/{view.id}").text
    response = browser.post(
        f"/requests/{view.id}/data", data=form_of(page, contact_email="not an address")
    )
    assert response.status_code == 422
    assert 'id="f-contact_email-error"' in response.text
    assert value_of(response.text, "contact_email") == "not an address"
    assert engine.get(view.id).version == view.version


def test_an_advance_with_the_fields_of_the_step_moves_the_request(
    runtime: Runtime, make_emb: Callable[..., str], sign_in: SignIn, engine: Engine
) -> None:
    install_mail(runtime)
    view = engine.create(
        "international_workshop",
        emb_code=make_emb(email="registry@example.org"),
        title="Workshop",
        actor=Actor("coordinator", "ana"),
    )
    browser = sign_in("coordinator", "ana")
    page = browser.get(f"/requests/{view.id}").text
    response = browser.post(
        f"/requests/{view.id}/advance",
        data=form_of(page, trigger="accept", comment="Accepted by phone", **INTAKE),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    after = engine.get(view.id)
    assert after.state == "needs_assessment"
    assert after.data["themes"] == INTAKE["themes"]
    assert after.data["contact_email"] == "karla@example.org"
    shown = browser.get(response.headers["location"]).text
    assert "Needs assessment" in shown
    assert "Accepted by phone" in shown  # in the history
    mails = re.search(r'<ul class="mails">(.*?)</ul>', shown, re.S)
    assert mails, "the change lists the mail it queued"
    assert "Request received" in mails.group(1)  # the event, not the template's code
    assert "request_received" not in mails.group(1)
    assert "registry@example.org" in mails.group(1)
    assert "Queued" in mails.group(1)


def test_saving_fields_then_advancing(
    make_request: Callable[..., RequestView], sign_in: SignIn, engine: Engine
) -> None:
    view = make_request("international_workshop", "agenda_design")
    browser = sign_in("coordinator", "ana")
    page = browser.get(f"/requests/{view.id}").text
    form = form_of(
        page,
        agenda_sessions__0__title="Voter registry",
        agenda_sessions__0__theme="electoral_cycle.voter_registry",
        agenda_sessions__0__stages=["emb_challenges", "mexican_experience"],
        agenda_sessions__0__speakers__0__name="Óscar Rivera",
        agenda_sessions__0__speakers__0__institution="TSE",
        agenda_sessions__1__title="",  # the blank row the page always offers
    )
    saved = browser.post(f"/requests/{view.id}/data", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    stored = engine.get(view.id).data["agenda_sessions"]
    assert stored == [
        {
            "title": "Voter registry",
            "theme": "electoral_cycle.voter_registry",
            "stages": ["emb_challenges", "mexican_experience"],
            "speakers": [{"name": "Óscar Rivera", "institution": "TSE"}],
        }
    ]
    page = browser.get(f"/requests/{view.id}").text
    # the saved row is shown again, with one more blank row after it
    assert value_of(page, "agenda_sessions-0-title") == "Voter registry"
    assert value_of(page, "agenda_sessions-1-title") == ""
    # a stage is missing: approving is refused with the methodology rule
    refused = browser.post(
        f"/requests/{view.id}/advance",
        data=form_of(
            page,
            trigger="approve_agenda",
            agenda_sessions__0__title="Voter registry",
            agenda_sessions__0__stages=["emb_challenges", "mexican_experience"],
            agenda_sessions__0__speakers__0__name="Óscar Rivera",
        ),
    )
    assert refused.status_code == 422
    assert "international_comparison" in refused.text or "international" in refused.text.lower()
    assert engine.get(view.id).state == "agenda_design"
    moved = browser.post(
        f"/requests/{view.id}/advance",
        data=form_of(
            page,
            trigger="approve_agenda",
            agenda_sessions__0__title="Voter registry",
            agenda_sessions__0__stages=[
                "emb_challenges",
                "mexican_experience",
                "international_comparison",
            ],
            agenda_sessions__0__speakers__0__name="Óscar Rivera",
        ),
        follow_redirects=False,
    )
    assert moved.status_code == 303, moved.text
    assert engine.get(view.id).state == "logistics"


def test_two_coordinators_at_once_the_second_gets_a_409_and_keeps_what_they_typed(
    make_request: Callable[..., RequestView], sign_in: SignIn, engine: Engine
) -> None:
    view = make_request("international_workshop", "intake")
    ana, luis = sign_in("coordinator", "ana"), sign_in("coordinator", "luis")
    page_ana = ana.get(f"/requests/{view.id}").text
    page_luis = luis.get(f"/requests/{view.id}").text
    first = ana.post(
        f"/requests/{view.id}/data",
        data=form_of(page_ana, contact_name="Ana's contact", venue="x"),
        follow_redirects=False,
    )
    assert first.status_code == 303
    second = luis.post(
        f"/requests/{view.id}/data",
        data=form_of(page_luis, contact_name="Luis's contact", contact_email="luis@example.org"),
    )
    assert second.status_code == 409
    html = second.text
    assert "Someone else changed this request since you opened it" in html
    assert "ana (Coordinator)" in html  # who changed it, the role in words
    # what Luis typed is still in the form; what is stored now is shown under "Data"
    assert value_of(html, "contact_name") == "Luis's contact"
    assert value_of(html, "contact_email") == "luis@example.org"
    assert "Ana&#39;s contact" in html
    # the form now carries the current version: submitting again applies Luis's values
    again = luis.post(
        f"/requests/{view.id}/data",
        data=form_of(html, contact_name="Luis's contact", contact_email="luis@example.org"),
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert engine.get(view.id).data["contact_name"] == "Luis's contact"


def test_a_conflicting_advance_changes_nothing(
    make_request: Callable[..., RequestView], sign_in: SignIn, engine: Engine
) -> None:
    view = make_request("international_workshop", "needs_assessment")
    ana, luis = sign_in("coordinator", "ana"), sign_in("coordinator", "luis")
    page_luis = luis.get(f"/requests/{view.id}").text
    engine.update(view.id, Actor("coordinator", "ana"), data={"needs_summary": "Ana's summary"})
    response = luis.post(
        f"/requests/{view.id}/advance",
        data=form_of(page_luis, trigger="complete_assessment", needs_summary="Luis's summary"),
    )
    assert response.status_code == 409
    assert value_of(response.text, "needs_summary") == "Luis's summary"
    after = engine.get(view.id)
    assert after.state == "needs_assessment"
    assert after.data["needs_summary"] == "Ana's summary"
    assert ana.get(f"/requests/{view.id}").status_code == 200


def test_html_typed_in_a_title_or_a_text_field_is_shown_as_text(
    engine: Engine, make_emb: Callable[..., str], sign_in: SignIn
) -> None:
    script = "<script>alert(1)</script>"
    view = engine.create(
        "international_workshop",
        emb_code=make_emb(),
        title=f"Workshop {script}",
        actor=Actor("coordinator", "ana"),
    )
    view = engine.advance(
        view.id, "accept", Actor("coordinator", "ana"), data=INTAKE, comment=f"note {script}"
    )
    engine.update(view.id, Actor("coordinator", "ana"), data={"needs_summary": f"<b>{script}"})
    browser = sign_in("viewer")
    for path in (f"/requests/{view.id}", f"/requests/{view.id}/print", "/"):
        html = browser.get(path).text
        assert script not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
    coordinator = sign_in("coordinator", "ana")
    html = coordinator.get(f"/requests/{view.id}").text
    assert script not in html
    assert "<b>" not in html


def test_the_page_lists_upcoming_timers_and_the_history(
    make_request: Callable[..., RequestView], sign_in: SignIn
) -> None:
    view = make_request("international_workshop", "intake")
    html = sign_in("coordinator", "ana").get(f"/requests/{view.id}").text
    assert "Request waiting at intake" in html  # the stale_intake reminder, armed at creation
    assert "ana (Coordinator)" in html  # who created it
    coming = re.search(r'id="timeline-heading">.*?</section>', html, re.S)
    assert coming is not None
    assert "the CICIE coordination" in coming.group(0)  # to whom, in words
    assert "coordinator</td>" not in coming.group(0)
    assert "(Mexico City)" in coming.group(0)  # a local time, its zone named


def test_a_reminder_in_the_history_is_named_and_dated_in_the_readers_language(
    make_request: Callable[..., RequestView],
    sign_in: SignIn,
    clock: ManualClock,
    engine: Engine,
) -> None:
    view = make_request("international_workshop", "intake")
    sweep = TimerSweep(engine, worker="test")
    for _ in range(30):  # day by day, as the worker would, until the intake reminder fires
        clock.advance(timedelta(days=1))
        sweep.run_once()
        if any(h.trigger.startswith("timer:") for h in engine.history(view.id)):
            break
    browser = sign_in("coordinator", "ana")
    page = f"/requests/{view.id}"
    token = csrf_of(browser.get(page).text)
    browser.post("/language", data={"language": "es", "csrf_token": token, "next": page})
    html = browser.get(page).text
    history = re.search(r'id="history-heading">.*?</section>', html, re.S)
    assert history is not None
    text = history.group(0)
    assert "Solicitud sin atender en recepción" in text  # the reminder's name in Spanish
    assert "CICIE (automático)" in text  # who: the system, in words
    assert "Vencimiento:" in text
    assert "(Ciudad de México)" in text
    assert "timer:" not in text
    assert "system:" not in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text)  # no ISO timestamp


def test_the_earlier_stages_can_be_corrected(
    make_request: Callable[..., RequestView], sign_in: SignIn, engine: Engine
) -> None:
    view = make_request("international_workshop", "agenda_design")
    browser = sign_in("coordinator", "ana")
    page = browser.get(f"/requests/{view.id}").text
    assert "Correct the data of earlier stages" in page
    data = engine.get(view.id).data
    fields = {
        "section": "earlier",
        "contact_name": "Someone Else",
        "contact_email": data["contact_email"],
        "contact_language": data["contact_language"],
        "timing_scenario": data["timing_scenario"],
        "themes": data["themes"],
        "needs_summary": data["needs_summary"],
    }
    response = browser.post(
        f"/requests/{view.id}/data", data=form_of(page, **fields), follow_redirects=False
    )
    assert response.status_code == 303, response.text
    after = engine.get(view.id)
    assert after.data["contact_name"] == "Someone Else"
    assert after.data["themes"] == data["themes"]
    assert after.state == "agenda_design"


def test_the_print_view_has_the_agenda_costs_dates_and_delegates(
    make_request: Callable[..., RequestView], sign_in: SignIn
) -> None:
    view = make_request("international_workshop", "ready")
    response = sign_in("viewer").get(f"/requests/{view.id}/print")
    assert response.status_code == 200
    html = response.text
    assert "Depuración y actualización del censo electoral" in html
    assert "Peter Lindqvist" in html  # a speaker
    assert "Lodging and meals of the visiting delegation" in html  # the cost matrix
    assert "Héctor Banegas Cruz" in html  # a delegate
    assert "June" in html  # the event's dates, spelled out
    assert "@media print" not in html  # the print rules live in the stylesheet


def test_a_new_request_is_created_from_the_form(
    sign_in: SignIn, make_emb: Callable[..., str], engine: Engine
) -> None:
    code = make_emb()
    browser = sign_in("coordinator", "ana")
    page = browser.get("/requests/new")
    assert page.status_code == 200
    assert f'value="{code}"' in page.text
    response = browser.post(
        "/requests",
        data={
            "csrf_token": csrf_of(page.text),
            "programme": "internship",
            "emb": code,
            "title": "Biometric registration internship",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    request_id = int(response.headers["location"].rsplit("/", 1)[1])
    view = engine.get(request_id)
    assert (view.programme, view.emb, view.state) == ("internship", code, "intake")
    shown = browser.get(response.headers["location"]).text
    assert "Biometric registration internship" in shown


def test_a_new_request_without_a_title_is_refused_keeping_the_choices(
    sign_in: SignIn, make_emb: Callable[..., str]
) -> None:
    code = make_emb()
    browser = sign_in("coordinator", "ana")
    token = csrf_of(browser.get("/requests/new").text)
    response = browser.post(
        "/requests",
        data={"csrf_token": token, "programme": "seminar", "emb": code, "title": "  "},
    )
    assert response.status_code == 422
    assert '<option value="seminar" selected>' in response.text
    assert f'<option value="{code}" selected>' in response.text


def test_a_missing_field_is_named_in_the_readers_language(
    client: TestClient, accounts: Accounts, make_request: Callable[..., RequestView]
) -> None:
    """The engine names the field; the page says it with the field's label, in Spanish here."""
    view = make_request("international_workshop", "needs_assessment")
    accounts.add_user("lucia", "coordinator", "lucia-password-long", language="es")
    token = csrf_of(client.get("/login").text)
    client.post(
        "/login",
        data={"username": "lucia", "password": "lucia-password-long", "csrf_token": token},
    )
    page = unescape(client.get(f"/requests/{view.id}").text)
    assert "Primero llene «Diagnóstico de necesidades»." in page
    assert "must be filled in first" not in page
    assert "Diagnóstico de necesidades detenido" in page  # the coming escalation, in Spanish
    assert "Needs assessment stalled" not in page
