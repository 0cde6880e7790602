"""Gentle forms (issue 15): a step that needs typed input says so only once tried, next to its
field; the agenda form's wording and rules agree; bounded text is refused, never cut; every
refused form lists its problems at the top, each a link to its field; fields mailed word for
word to partners say so; links to share have a copy button. Real databases, real sign-in."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

from starlette.testclient import TestClient

from engine.bootstrap import Runtime
from engine.service import Engine
from engine.views import RequestView
from tests.web.conftest import SignIn, csrf_of
from tests.web.test_request_page import form_of

MakeRequest = Callable[..., RequestView]


def reasons_of(html: str, trigger: str) -> str:
    found = re.search(rf'<ul class="reasons" id="reasons-{trigger}">(.*?)</ul>', html, re.S)
    return unescape(found.group(1)) if found else ""


def field_error(html: str, field_id: str) -> str | None:
    found = re.search(
        rf'<p (?:class="field-error" id="{re.escape(field_id)}-error"'
        rf'|id="{re.escape(field_id)}-error" class="field-error")>([^<]*)</p>',
        html,
    )
    return unescape(found.group(1)) if found else None


def summary_links(html: str) -> list[tuple[str, str]]:
    """(target id, text) of each link in the summary of problems at the top of the page."""
    found = re.search(r'id="error-summary".*?<ul[^>]*>(.*?)</ul>', html, re.S)
    assert found, "the page has no summary of problems"
    return [
        (t, unescape(x)) for t, x in re.findall(r'<a href="#([^"]+)">([^<]*)</a>', found.group(1))
    ]


# ---------------------------------------------------------------- reasons only when tried
def test_no_reason_is_asked_for_before_the_coordinator_tries_a_step(
    make_request: MakeRequest, sign_in: SignIn
) -> None:
    view = make_request("international_workshop", "intake")
    html = sign_in("coordinator", "ana").get(f"/requests/{view.id}").text
    assert "Fill in" not in html
    for trigger, field in (
        ("decline", "decline_reason"),
        ("withdraw", "withdrawal_reason"),
        ("put_on_hold", "hold_reason"),
    ):
        assert reasons_of(html, trigger) == ""
        assert f'<textarea id="f-{field}" name="{field}"' in html  # its input…
        button = re.search(rf'<button type="submit" name="trigger" value="{trigger}"[^>]*>', html)
        assert button
        assert "disabled" not in button.group(0)
        assert field_error(html, f"f-{field}") is None


def test_a_step_tried_without_its_reason_says_so_next_to_the_field(
    make_request: MakeRequest, sign_in: SignIn, engine: Engine
) -> None:
    view = make_request("international_workshop", "intake")
    browser = sign_in("coordinator", "ana")
    page = browser.get(f"/requests/{view.id}").text
    response = browser.post(
        f"/requests/{view.id}/advance", data=form_of(page, trigger="decline", decline_reason="")
    )
    assert response.status_code == 422
    html = response.text
    assert field_error(html, "f-decline_reason") == "Fill in “Reason for declining” first."
    assert 'aria-invalid="true"' in re.search(r'<textarea id="f-decline_reason"[^>]*>', html).group(
        0
    )
    assert ("f-decline_reason", "Fill in “Reason for declining” first.") in summary_links(html)
    # the other steps still say nothing: they were not tried
    assert field_error(html, "f-withdrawal_reason") is None
    assert field_error(html, "f-hold_reason") is None
    assert engine.get(view.id).state == "intake"


# ---------------------------------------------------------------- the agenda form
def test_a_session_with_a_blank_trailing_speaker_row_is_saved_without_it(
    make_request: MakeRequest, sign_in: SignIn, engine: Engine
) -> None:
    view = make_request("internship", "agenda_design")
    browser = sign_in("coordinator", "ana")
    page = browser.get(f"/requests/{view.id}").text
    assert "Agenda sessions" in page
    assert "Work programme" not in page
    response = browser.post(
        f"/requests/{view.id}/data",
        data=form_of(
            page,
            agenda_sessions__0__title="Voter registry",
            agenda_sessions__0__speakers__0__name="Ana Ruiz",
            agenda_sessions__0__speakers__1__name="",
            agenda_sessions__0__speakers__1__institution="",
            agenda_sessions__1__title="",
            agenda_sessions__1__speakers__0__name="",
        ),
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert engine.get(view.id).data["agenda_sessions"] == [
        {"title": "Voter registry", "speakers": [{"name": "Ana Ruiz"}]}
    ]


def test_a_session_whose_only_speaker_row_is_blank_asks_to_add_a_speaker(
    make_request: MakeRequest, sign_in: SignIn, engine: Engine
) -> None:
    view = make_request("internship", "agenda_design")
    browser = sign_in("coordinator", "ana")
    page = browser.get(f"/requests/{view.id}").text
    saved = browser.post(
        f"/requests/{view.id}/data",
        data=form_of(
            page,
            agenda_sessions__0__title="Voter registry",
            agenda_sessions__0__speakers__0__name="",
        ),
        follow_redirects=False,
    )
    # the blank row is no speaker, not a missing field: "this is required" is not said
    assert saved.status_code == 303
    page = browser.get(f"/requests/{view.id}").text
    assert "This is required" not in page
    assert "Field required" not in page
    refused = browser.post(
        f"/requests/{view.id}/advance",
        data=form_of(
            page,
            trigger="approve_agenda",
            agenda_sessions__0__title="Voter registry",
            agenda_sessions__0__speakers__0__name="",
        ),
    )
    assert refused.status_code == 422
    assert "add at least one speaker" in unescape(refused.text)
    assert engine.get(view.id).state == "agenda_design"


# ---------------------------------------------------------------- bounded text
def test_a_title_of_301_characters_is_refused_not_cut(
    sign_in: SignIn, make_emb: Callable[..., str]
) -> None:
    browser = sign_in("coordinator", "ana")
    page = browser.get("/requests/new").text
    assert re.search(r'<input id="title" name="title" maxlength="300"', page)
    assert 'id="title-count"' in page
    assert "At most 300 characters." in page
    title = "Seminario " + "x" * 291
    assert len(title) == 301
    response = browser.post(
        "/requests",
        data={
            "csrf_token": csrf_of(page),
            "programme": "seminar",
            "emb": make_emb(),
            "title": title,
        },
        follow_redirects=False,
    )
    assert response.status_code == 422
    error = field_error(response.text, "title")
    assert error is not None
    assert "301 characters" in error
    assert "at most 300" in error
    assert f'value="{title}"' in response.text  # what was typed, whole
    assert ("title", f"Title: {error}") in summary_links(response.text)


def test_a_comment_over_the_limit_is_refused_not_cut(
    make_request: MakeRequest, sign_in: SignIn, engine: Engine
) -> None:
    view = make_request("international_workshop", "intake")
    browser = sign_in("coordinator", "ana")
    page = browser.get(f"/requests/{view.id}").text
    assert 'id="comment-count"' in page
    response = browser.post(
        f"/requests/{view.id}/data", data=form_of(page, comment="é" * 2001, contact_name="Karla")
    )
    assert response.status_code == 422
    assert "2001 characters" in (field_error(response.text, "comment") or "")
    assert engine.get(view.id).version == view.version


# ---------------------------------------------------------------- summaries and notes
def test_refused_forms_summarise_their_problems_at_the_top(
    make_request: MakeRequest, sign_in: SignIn
) -> None:
    view = make_request("international_workshop", "intake")
    browser = sign_in("coordinator", "ana")
    page = browser.get(f"/requests/{view.id}").text
    response = browser.post(
        f"/requests/{view.id}/data", data=form_of(page, contact_email="not an address")
    )
    assert response.status_code == 422
    targets = [t for t, _text in summary_links(response.text)]
    assert "f-contact_email" in targets
    assert field_error(response.text, "f-contact_email")
    # the account page too
    account = browser.get("/account").text
    refused = browser.post(
        "/account/password",
        data={
            "csrf_token": csrf_of(account),
            "current_password": "wrong",
            "new_password": "a-new-password-1",
            "new_password_again": "another-one-22",
        },
    )
    assert refused.status_code == 422
    assert "new_password_again" in [t for t, _text in summary_links(refused.text)]


def test_admin_user_form_summarises_its_problems(sign_in: SignIn) -> None:
    admin = sign_in("admin", "root")
    page = admin.get("/admin/users").text
    response = admin.post(
        "/admin/users",
        data={
            "csrf_token": csrf_of(page),
            "username": "bad name!",
            "role": "viewer",
            "password": "x",
        },
    )
    assert response.status_code == 422
    targets = [t for t, _text in summary_links(response.text)]
    assert "username" in targets
    assert "password" in targets
    assert 'value="bad name!"' in response.text


def test_a_field_mailed_to_partners_says_to_whom(
    make_request: MakeRequest, sign_in: SignIn
) -> None:
    view = make_request("international_workshop", "evaluation")
    html = unescape(sign_in("coordinator", "ana").get(f"/requests/{view.id}").text)
    note = re.search(r'<p class="hint mailed" id="f-closing_note-mailed">([^<]*)</p>', html)
    assert note
    assert "Sent word for word to the EMB's contacts by e-mail." in note.group(1)
    assert 'aria-describedby="f-closing_note-mailed"' in html
    # the attendance figure is no mail's: no note
    assert 'id="f-attendance-mailed"' not in html


def test_links_to_share_have_a_copy_button_and_a_read_only_field(
    runtime: Runtime, make_request: MakeRequest, sign_in: SignIn
) -> None:
    view = make_request("internship", "final_report")
    html = sign_in("coordinator", "ana").get(f"/requests/{view.id}").text
    field = re.search(
        r'<input id="link-1" class="link-copy" type="text" readonly value="[^"]+" data-select-all>',
        html,
    )
    assert field
    assert re.search(r'<button type="button" class="copy-button" data-copy-target="link-1"', html)
    assert "<script>" not in html
    assert "onclick" not in html


def test_the_report_form_refuses_a_renamed_file_next_to_the_attachments(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    from tests.web.conftest import link

    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    page = english.get(url).text
    response = english.post(
        url,
        data={"action": "save", "csrf_token": csrf_of(page), "final_report_experience": "Typed"},
        files=[("attachments", ("minutes.pdf", b"PK\x03\x04 a word file", "application/pdf"))],
    )
    assert response.status_code == 415
    error = field_error(response.text, "attachments")
    assert error
    assert "“minutes.pdf” is not a real PDF file" in error
    assert "renamed" in error
    assert ("attachments", f"PDF files: {error}") in summary_links(response.text)
    assert "Typed" in response.text
