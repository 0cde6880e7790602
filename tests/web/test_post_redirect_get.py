"""Post/redirect/get (issue 15): every form that succeeds answers 303 to a page got with GET,
so reload and Back never send it again; a refused form answers 4xx with what was typed.
Real databases, real sign-in, real CSRF tokens."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.testclient import TestClient

from engine.bootstrap import Runtime
from engine.service import Engine
from engine.views import RequestView
from tests.web.conftest import SignIn, csrf_of, link
from tests.web.test_outbox_page import _queued_mail
from tests.web.test_request_page import form_of

MakeRequest = Callable[..., RequestView]
REPORT = {
    "final_report_experience": "Four days on the electoral justice system.",
    "final_report_adaptations": "A mobile registry unit.",
    "final_report_recommendations": "Publish the audit every year.",
}


def post(browser: TestClient, path: str, page_path: str, **data: str) -> object:
    token = csrf_of(browser.get(page_path).text)
    return browser.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def see_other(response: object, to: str | None = None) -> str:
    assert getattr(response, "status_code", None) == 303, getattr(response, "text", "")[:500]
    location = response.headers["location"]  # type: ignore[attr-defined]
    if to is not None:
        assert location == to
    return str(location)


# ---------------------------------------------------------------- the public report form
def test_the_submitted_report_lands_on_a_get_page_of_its_own(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    # a draft, a language switch: each 303 back to the form
    see_other(post(english, url, url, action="save", **REPORT), url)
    see_other(post(english, url, url, lang="fr", **REPORT), url)
    # the submission: 303 to "report received", which a GET shows (again on reload)
    landed = see_other(post(english, url, url, action="submit", **REPORT), f"{url}/received")
    for _ in range(2):
        received = english.get(landed)
        assert received.status_code == 200
        assert (
            "the final report was received" in received.text.lower() or "rapport" in received.text
        )
    # Back to the form's address: a GET, the report as sent
    assert english.get(url).status_code == 200


def test_a_refused_report_is_a_4xx_with_what_was_typed(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    token = csrf_of(english.get(url).text)
    response = english.post(
        url,
        data={**REPORT, "final_report_adaptations": " ", "action": "submit", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert REPORT["final_report_experience"] in response.text
    # the summary tells app.js the form's own address, to put in the history instead
    assert re.search(rf'id="error-summary" data-page="{re.escape(url)}"', response.text)
    too_many = english.post(
        url,
        data={**REPORT, "action": "save", "csrf_token": token},
        files=[("attachments", ("a.pdf", b"not a pdf", "application/pdf"))],
        follow_redirects=False,
    )
    assert too_many.status_code == 415
    assert REPORT["final_report_recommendations"] in too_many.text
    received = english.get(f"{url}/received", follow_redirects=False)
    see_other(received, url)  # nothing received yet: the form


# ---------------------------------------------------------------- signed-in forms
def test_sign_in_and_language_switches_answer_303(
    client: TestClient, sign_in: SignIn, accounts: object
) -> None:
    browser = sign_in("coordinator", "ana")  # the fixture asserts the sign-in's 303
    see_other(post(browser, "/language", "/", language="fr", next="/account"), "/account")
    see_other(post(browser, "/account/language", "/account", language="es"), "/account")
    refused = post(client, "/login", "/login", username="ana", password="wrong", next="/")
    assert refused.status_code == 401  # type: ignore[attr-defined]
    assert 'value="ana"' in refused.text  # type: ignore[attr-defined]


def test_account_forms_answer_303_and_refusals_keep_the_page(sign_in: SignIn) -> None:
    browser = sign_in("coordinator", "ana")
    see_other(
        post(
            browser,
            "/account/password",
            "/account",
            current_password="ana-password-long",
            new_password="a-brand-new-secret",
            new_password_again="a-brand-new-secret",
        ),
        "/account",
    )
    refused = post(
        browser,
        "/account/password",
        "/account",
        current_password="wrong",
        new_password="x",
        new_password_again="y",
    )
    assert refused.status_code == 422  # type: ignore[attr-defined]


def test_request_forms_and_link_revocation_answer_303(
    make_request: MakeRequest, sign_in: SignIn, make_emb: Callable[..., str]
) -> None:
    browser = sign_in("coordinator", "ana")
    created = post(
        browser, "/requests", "/requests/new", programme="seminar", emb=make_emb(), title="Foro"
    )
    assert re.fullmatch(r"/requests/\d+", see_other(created))
    refused = post(browser, "/requests", "/requests/new", programme="seminar", title="")
    assert refused.status_code == 422  # type: ignore[attr-defined]

    view = make_request("international_workshop", "intake")
    page = browser.get(f"/requests/{view.id}").text
    saved = browser.post(
        f"/requests/{view.id}/data",
        data=form_of(page, contact_name="Karla Méndez"),
        follow_redirects=False,
    )
    see_other(saved, f"/requests/{view.id}")
    page = browser.get(f"/requests/{view.id}").text
    moved = browser.post(
        f"/requests/{view.id}/advance",
        data=form_of(page, trigger="put_on_hold", hold_reason="Waiting for the EMB's budget."),
        follow_redirects=False,
    )
    see_other(moved, f"/requests/{view.id}")
    revoked = post(
        browser,
        f"/requests/{view.id}/links/revoke",
        f"/requests/{view.id}",
        confirm="yes",
    )
    see_other(revoked, f"/requests/{view.id}#links-heading")


def test_admin_forms_answer_303(sign_in: SignIn) -> None:
    admin = sign_in("admin", "root")
    added = post(
        admin,
        "/admin/users",
        "/admin/users",
        username="lucia",
        role="viewer",
        password="lucia-password-long",
    )
    user_page = see_other(added)
    see_other(post(admin, f"{user_page}/role", user_page, role="coordinator"), user_page)
    see_other(
        post(
            admin,
            f"{user_page}/password",
            user_page,
            password="another-long-secret",
            password_again="another-long-secret",
        ),
        user_page,
    )
    issued = post(admin, f"{user_page}/tokens", user_page, label="script", expires_days="5")
    see_other(issued, user_page)  # the token is shown once, on the page got with GET
    assert 'class="new-token"' in admin.get(user_page).text
    assert 'class="new-token"' not in admin.get(user_page).text
    see_other(post(admin, f"{user_page}/disable", user_page), user_page)
    see_other(post(admin, f"{user_page}/enable", user_page), user_page)
    refused = post(
        admin, "/admin/users", "/admin/users", username="lucia", role="viewer", password="x"
    )
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert 'value="lucia"' in refused.text  # type: ignore[attr-defined]


def test_outbox_resend_answers_303(
    runtime: Runtime, engine: Engine, make_emb: Callable[..., str], sign_in: SignIn
) -> None:
    message = _queued_mail(runtime, engine, make_emb)
    with runtime.db.transaction() as conn:
        conn.exec_driver_sql(
            f"UPDATE outbox SET status = 'dead', attempts = 5 WHERE id = {int(message)}"
        )
    browser = sign_in("coordinator", "ana")
    page = f"/outbox/{message}"
    see_other(post(browser, f"{page}/resend", page), page)
