"""The pages reached by a signed link — the final report form, the status page, the "report
received" page and the link's error pages — in every language of `i18n.LANGUAGES`: the one the
link asks for (`?lang=`), then the one chosen with the page's switcher, then the recipient's
correspondence language, then the browser's (q-values), then Spanish. Arabic is right to left."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from engine.accounts import Accounts
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.links_ops import revoke_links
from engine.service import Engine
from engine.views import RequestView
from i18n import gettext_in
from i18n.formatting import day
from tests.conftest import example_steps
from tests.web.conftest import EMAIL, PDF, csrf_of, link
from tests.web.test_report_link import sign_in

MakeRequest = Callable[..., RequestView]
DELEGATE = "karla.mendez@example.org"  # the workshop's contact person and delegate
REPORT = {
    "final_report_experience": "Nous avons suivi un dossier d'électeur jusqu'à la carte.",
    "final_report_adaptations": "Un protocole écrit pour les doublons biométriques.",
    "final_report_recommendations": "Publier les seuils de déduplication.",
}
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2})?")
SNAKE_CASE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def visible_text(page: str) -> str:
    """What a reader sees: the text between the tags (no attributes, no markup)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", body))


def html_tag(page: str) -> str:
    found = re.search(r"<html[^>]*>", page)
    assert found, "no <html> element"
    return found.group(0)


def drive(engine: Engine, make_emb: Callable[..., str], state: str, **dates: Any) -> RequestView:
    """A workshop along its bundled example up to `state`, with the event dates replaced."""
    view = engine.create(
        "international_workshop",
        emb_code=make_emb(),
        title="Taller para el organismo electoral",
        actor=Actor("coordinator", "ana"),
    )
    for step in example_steps("international_workshop"):
        if view.state == state:
            break
        data = {k: dates.get(k, v) for k, v in (step.get("data") or {}).items()}
        view = engine.advance(view.id, step["trigger"], Actor.parse(step["as"]), data=data)
    assert view.state == state
    return view


def set_language(runtime: Runtime, view: RequestView, language: str) -> None:
    """The contact person's (and delegation's) correspondence language."""
    runtime.engine.update(view.id, Actor("coordinator", "ana"), data={"contact_language": language})


# ---------------------------------------------------------------- the report form
def test_the_report_form_opened_with_lang_fr_is_in_french(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    definition = runtime.engine.definition_of(view).definition
    page = english.get(f"{link(runtime, view.id)}?lang=fr")
    assert page.status_code == 200
    assert html_tag(page.text) == '<html lang="fr" dir="ltr">'
    assert "<h1>Rapport final</h1>" in page.text
    text = visible_text(page.text)
    assert definition.title.get("fr") in text
    for name in REPORT:
        label = definition.fields[name].label
        assert label is not None
        assert label.get("fr") != label.en
        assert label.get("fr") in text  # the workflow's own labels
    assert "Enregistrer le brouillon" in text
    assert "Envoyer le rapport" in text
    assert "12 sept. 2016" in text  # the event's dates, the French way
    assert "Final report" not in text
    assert "Save draft" not in text


def test_the_report_form_in_arabic_is_right_to_left_with_everything_in_arabic(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    page = english.get(f"{link(runtime, view.id)}?lang=ar")
    assert page.status_code == 200
    assert html_tag(page.text) == '<html lang="ar" dir="rtl">'
    text = visible_text(page.text)
    assert "التقرير النهائي" in text  # "Final report"
    assert gettext_in("ar", "Save draft") in text
    limits = gettext_in(
        "ar", "PDF only, up to %(mb)s MB each, at most %(n)s files in all.", mb=10, n=5
    )
    assert limits != "PDF only, up to 10 MB each, at most 5 files in all."
    assert limits in text
    # the switcher names every language in itself, the page's own marked as current
    for name in ("Español", "English", "Français", "Português"):
        assert name in text
    assert re.search(r'<span class="current" lang="ar" dir="rtl" aria-current="true">', page.text)


def test_the_form_errors_are_in_the_language_of_the_page(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    page = english.get(f"{url}?lang=pt")
    response = english.post(
        url,
        data={
            **REPORT,
            "final_report_adaptations": " ",
            "action": "submit",
            "csrf_token": csrf_of(page.text),
        },
        files=[("attachments", ("relatorio.exe", PDF, "application/pdf"))],
    )
    assert response.status_code == 415
    assert html_tag(response.text) == '<html lang="pt" dir="ltr">'
    refusal = gettext_in(
        "pt",
        "“%(name)s” is not a PDF file: only PDF files can be attached. Save it as PDF and "
        "attach it again. Nothing was saved.",
    ) % {"name": "relatorio.exe"}
    assert refusal.startswith("“relatorio.exe” não é um arquivo PDF")
    assert refusal in visible_text(response.text)
    response = english.post(
        url,
        data={
            **REPORT,
            "final_report_adaptations": " ",
            "action": "submit",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert response.status_code == 422
    missing = gettext_in("pt", "Write this section before submitting the report.")
    assert missing in visible_text(response.text)


def test_the_switcher_on_the_form_keeps_the_token_and_what_was_typed(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    page = english.get(url)  # the intern's correspondence language: English
    assert html_tag(page.text) == '<html lang="en" dir="ltr">'
    # the switcher's buttons send the form (name "lang"), to the link's own address
    assert re.search(r'<button type="submit" form="report-form" name="lang" value="fr"', page.text)
    assert f'<form id="report-form" method="post" action="{url}"' in page.text
    switched = english.post(
        url,
        data={**REPORT, "lang": "fr", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == url
    again = english.get(url)
    assert html_tag(again.text) == '<html lang="fr" dir="ltr">'
    assert "Votre brouillon a été enregistré." in again.text
    assert REPORT["final_report_experience"] in visible_text(again.text)
    assert runtime.engine.get(view.id).state == "final_report"  # saved, not submitted
    # the report is then submitted in French; the "report received" page stays French
    done = english.post(url, data={**REPORT, "action": "submit", "csrf_token": csrf_of(again.text)})
    assert done.status_code == 200
    assert html_tag(done.text) == '<html lang="fr" dir="ltr">'
    assert gettext_in("fr", "Thank you: the final report was received") in done.text
    assert runtime.engine.get(view.id).state == "report_received"


def test_the_report_received_page_has_a_switcher_of_links_that_keep_the_token(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    token = csrf_of(english.get(url).text)
    english.post(url, data={**REPORT, "action": "submit", "csrf_token": token})
    page = english.get(url)
    assert f'href="{url}?lang=ar"' in page.text
    arabic = english.get(f"{url}?lang=ar")
    assert html_tag(arabic.text) == '<html lang="ar" dir="rtl">'
    assert gettext_in("ar", "Thank you: the final report was received") in arabic.text
    # remembered for this link: its address without ?lang= stays in Arabic
    assert html_tag(english.get(url).text) == '<html lang="ar" dir="rtl">'


# ---------------------------------------------------------------- how the language is chosen
def test_the_correspondence_language_comes_before_the_browsers(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    set_language(runtime, view, "fr")
    page = english.get(link(runtime, view.id))
    assert html_tag(page.text) == '<html lang="fr" dir="ltr">'
    # …and the link's ?lang= before both
    page = english.get(f"{link(runtime, view.id)}?lang=es")
    assert html_tag(page.text) == '<html lang="es" dir="ltr">'


def test_accept_language_q_values_pick_portuguese_when_it_weighs_most(
    client: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    set_language(runtime, view, "ru")  # a correspondence language these pages do not speak
    client.headers["Accept-Language"] = "en;q=0.5, fr;q=0.7, pt-BR;q=0.9, ar;q=0.1"
    page = client.get(link(runtime, view.id))
    assert page.status_code == 200
    assert html_tag(page.text) == '<html lang="pt" dir="ltr">'
    assert gettext_in("pt", "Final report") in visible_text(page.text)
    # nothing the browser asks for is spoken: Spanish
    client.headers["Accept-Language"] = "de, it;q=0.8"
    assert html_tag(client.get(link(runtime, view.id)).text) == '<html lang="es" dir="ltr">'


@pytest.mark.parametrize("value", ["xx", "", "FR ", "<script>", "ar-EG", "a" * 300, "ru"])
def test_an_unknown_lang_value_is_ignored(
    client: TestClient, runtime: Runtime, make_request: MakeRequest, value: str
) -> None:
    view = make_request("internship", "final_report")
    set_language(runtime, view, "ru")
    client.headers["Accept-Language"] = "es"
    page = client.get(link(runtime, view.id), params={"lang": value})
    assert page.status_code == 200
    expected = "fr" if value == "FR " else "es"  # a code's case and spaces do not matter
    assert html_tag(page.text) == f'<html lang="{expected}" dir="ltr">'
    assert "<script>" not in page.text.split("<body", 1)[1]


def test_signed_in_pages_keep_to_the_interface_languages(
    english: TestClient, runtime: Runtime, make_request: MakeRequest, accounts: Accounts
) -> None:
    """A coordinator's page of the report does not take the link pages' Arabic."""
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    assert html_tag(english.get(f"{url}?lang=ar").text) == '<html lang="ar" dir="rtl">'
    sign_in(english, accounts)  # a coordinator in the same browser
    page = english.get(f"/requests/{view.id}/final-report?lang=ar")
    assert page.status_code == 200
    assert 'dir="rtl"' not in html_tag(page.text)
    assert re.search(r'<html lang="(es|en|fr)" dir="ltr">', page.text)


# ---------------------------------------------------------------- the status page
def test_the_status_page_in_portuguese_shows_state_and_reminders_in_portuguese(
    english: TestClient, runtime: Runtime, make_emb: Callable[..., str]
) -> None:
    view = drive(
        runtime.engine, make_emb, "ready", event_start="2026-05-04", event_end="2026-05-08"
    )
    definition = runtime.engine.definition_of(view).definition
    url = link(runtime, view.id, "status", DELEGATE)
    page = english.get(f"{url}?lang=pt")
    assert page.status_code == 200
    assert html_tag(page.text) == '<html lang="pt" dir="ltr">'
    text = visible_text(page.text)
    state = definition.states["ready"].label
    assert state.get("pt") != state.en, "the state has no Portuguese label"
    assert state.get("pt") in text
    assert definition.title.get("pt") in text
    # the reminder to the EMB about the delegates' tickets, named and dated in Portuguese
    tickets = next(t for t in definition.timers if t.id == "air_tickets")
    assert tickets.label.get("pt") != tickets.label.en
    assert tickets.label.get("pt") in text
    assert day("2026-05-04", "pt", "medium") in text  # "4 de mai. de 2026"
    assert gettext_in("pt", "Coming reminders") in text
    assert "Coming reminders" not in text
    assert not ISO_MOMENT.search(text), ISO_MOMENT.search(text)
    assert not SNAKE_CASE.search(text), SNAKE_CASE.search(text)


def test_the_status_switcher_is_links_that_keep_the_token(
    english: TestClient, runtime: Runtime, make_emb: Callable[..., str]
) -> None:
    view = drive(runtime.engine, make_emb, "logistics")
    url = link(runtime, view.id, "status", DELEGATE)
    page = english.get(url)
    assert html_tag(page.text) == '<html lang="es" dir="ltr">'  # the contact's language
    for code in ("es", "en", "fr", "pt", "ar"):
        if code != "es":
            assert f'href="{url}?lang={code}"' in page.text
    arabic = english.get(f"{url}?lang=ar")
    assert html_tag(arabic.text) == '<html lang="ar" dir="rtl">'
    assert gettext_in("ar", "Where the request stands") in arabic.text
    assert html_tag(english.get(url).text) == '<html lang="ar" dir="rtl">'  # remembered


# ---------------------------------------------------------------- the link's error pages
def test_an_expired_link_says_so_in_the_language_asked_for(
    english: TestClient, runtime: Runtime, make_request: MakeRequest, clock: ManualClock
) -> None:
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    clock.advance(timedelta(days=181))
    response = english.get(f"{url}?lang=ar")
    assert response.status_code == 410
    assert html_tag(response.text) == '<html lang="ar" dir="rtl">'
    assert gettext_in("ar", "This link has expired") in response.text
    assert f'href="{url}?lang=fr"' in response.text  # the switcher is there too
    french = english.get(f"{url}?lang=fr")
    assert "Ce lien a expiré" in french.text


def test_an_invalid_link_follows_the_browsers_language(
    client: TestClient, runtime: Runtime
) -> None:
    client.headers["Accept-Language"] = "de;q=1, pt;q=0.8, en;q=0.2"
    response = client.get("/report/not-a-token")
    assert response.status_code == 404
    assert html_tag(response.text) == '<html lang="pt" dir="ltr">'
    message = gettext_in("pt", "This link is not valid. Check that it was copied whole.")
    assert message != "This link is not valid. Check that it was copied whole."
    assert message in visible_text(response.text)
    assert client.get("/status/not-a-token?lang=fr").status_code == 404


def test_a_withdrawn_link_says_whom_to_ask_in_french(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    revoke_links(runtime.engine, view.id, Actor("coordinator", "ana"))
    response = english.get(f"{url}?lang=fr")
    assert response.status_code == 410
    assert html_tag(response.text) == '<html lang="fr" dir="ltr">'
    text = visible_text(response.text)
    assert "retiré" in text
    assert runtime.settings.coordinator_email in text


def test_the_email_address_itself_is_used_not_a_guess(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    """A link for an address that is no recipient of the request is refused (403) in the
    language asked for, with no correspondence language guessed for it."""
    view = make_request("internship", "final_report")
    response = english.get(f"{link(runtime, view.id, email='someone@else.example')}?lang=pt")
    assert response.status_code == 403
    assert html_tag(response.text) == '<html lang="pt" dir="ltr">'
    assert EMAIL not in response.text
