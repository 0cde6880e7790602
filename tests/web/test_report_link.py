"""The final report through a report link: no account, a draft, PDF attachments, the
submission as the intern or delegate, and every way a link or a file is refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from config.settings import Settings
from engine.accounts import Accounts
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.views import RequestView
from storage.models import report_attachment_table, report_draft_table
from tests.web.conftest import EMAIL, PDF, csrf_of, link

REPORT = {
    "final_report_experience": "We followed a voter record from registration to the ID card.",
    "final_report_adaptations": "A written protocol for adjudicating biometric duplicates.",
    "final_report_recommendations": "Publish the deduplication thresholds in English.",
}
MakeRequest = Callable[..., RequestView]


def stored(runtime: Runtime, request_id: int) -> tuple[list[sa.Row[tuple[object, ...]]], object]:
    with runtime.db.read() as conn:
        files = conn.execute(
            sa.select(report_attachment_table).where(
                report_attachment_table.c.request_id == request_id
            )
        ).all()
        draft = conn.execute(
            sa.select(report_draft_table).where(report_draft_table.c.request_id == request_id)
        ).first()
    return list(files), draft


def sign_in(client: TestClient, accounts: Accounts, role: str = "coordinator") -> None:
    accounts.add_user(role, role, f"{role}-password-long")
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": role, "password": f"{role}-password-long", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_an_intern_saves_a_draft_attaches_a_pdf_and_submits(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)

    page = english.get(url)
    assert page.status_code == 200
    assert "internship request" in page.text
    assert "Account of the experience" in page.text  # the workflow's own labels
    assert "Observations and recommendations on INE&#39;s work" in page.text
    assert "Sep 12, 2016" in page.text
    assert "Insurgentes Sur 1561" in page.text
    assert page.headers["cache-control"] == "no-store"

    saved = english.post(
        url,
        data={
            **REPORT,
            "final_report_adaptations": "",
            "action": "save",
            "csrf_token": csrf_of(page.text),
        },
        files=[("attachments", ("programme.pdf", PDF, "application/pdf"))],
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == url

    again = english.get(url)
    assert "Draft saved at" in again.text
    assert REPORT["final_report_experience"] in again.text
    assert "programme.pdf" in again.text
    files, draft = stored(runtime, view.id)
    assert [(f.filename, f.size, f.submitted) for f in files] == [
        ("programme.pdf", len(PDF), False)
    ]
    assert draft is not None
    assert runtime.engine.get(view.id).state == "final_report"

    submitted = english.post(
        url,
        data={**REPORT, "action": "submit", "csrf_token": csrf_of(again.text)},
        follow_redirects=False,
    )
    assert submitted.status_code == 303

    done = english.get(url)
    assert done.status_code == 200
    assert "Thank you" in done.text
    after = runtime.engine.get(view.id)
    assert after.state == "report_received"
    assert {k: after.data[k] for k in REPORT} == REPORT
    last = runtime.engine.history(view.id)[-1]
    assert (last.trigger, last.actor) == ("submit_report", f"intern:{EMAIL}")
    files, draft = stored(runtime, view.id)
    assert [f.submitted for f in files] == [True]
    assert draft is None


def test_an_internship_report_is_submitted_by_a_delegate_in_their_correspondence_language(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    """Another member of the intern delegation, written to in Spanish, sends the report the
    brochure asks for: "the requesting OAE will generate a final report about the
    internship" (§ 2.2)."""
    view = make_request("internship", "final_report")
    brian = {"name": "Brian Otieno", "position": "ICT Officer", "email": "brian@example.org"}
    delegates = [view.data["delegates"][0], brian]
    runtime.engine.update(
        view.id,
        Actor("coordinator", "ana"),
        data={"contact_language": "es", "delegates": delegates},
    )
    url = link(runtime, view.id, email="brian@example.org")  # a delegate, not the contact
    page = english.get(url)  # an English browser: the request's language comes first
    assert '<html lang="es" dir="ltr">' in page.text
    token = csrf_of(page.text)
    response = english.post(url, data={**REPORT, "action": "submit", "csrf_token": token})
    assert response.status_code == 200
    assert "Gracias: se recibió el informe final" in response.text
    last = runtime.engine.history(view.id)[-1]
    assert (last.trigger, last.actor) == ("submit_report", "intern:brian@example.org")
    assert runtime.engine.get(view.id).state == "report_received"


def test_a_workshop_asks_no_final_report_and_offers_no_report_form(
    english: TestClient, runtime: Runtime, make_request: MakeRequest, accounts: Accounts
) -> None:
    """The brochure asks for the final report only for internships (§ 2.2: "the requesting
    OAE will generate a final report about the internship"); a workshop closes with the
    coordinator's evaluation (issue 14 item 1): no report link, no report form."""
    view = make_request("international_workshop", "evaluation")
    assert not any(k.startswith("final_report") for k in runtime.engine.get(view.id).data)
    sign_in(english, accounts)
    page = english.get(f"/requests/{view.id}")
    assert page.status_code == 200
    assert "Evaluation and closing" in page.text
    assert "Link for karla.mendez@example.org" in page.text  # the delegate gets a status link
    assert "Final report form" not in page.text
    assert "/report/" not in page.text
    assert "Read the final report" not in page.text
    assert 'name="final_report_experience"' not in page.text
    # a report link made by hand for the delegate opens no form and submits nothing
    url = link(runtime, view.id, email="karla.mendez@example.org")
    form = english.get(f"{url}?lang=en")
    assert form.status_code == 200
    assert "not awaiting a final report" in form.text
    assert "<textarea" not in form.text
    posted = english.post(
        url, data={**REPORT, "action": "submit", "csrf_token": csrf_of(english.get("/login").text)}
    )
    assert posted.status_code == 409
    assert runtime.engine.get(view.id).state == "evaluation"


def test_an_overdue_report_can_still_be_sent(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    runtime.engine.advance(view.id, "mark_overdue", Actor("system", "timer"))
    url = link(runtime, view.id)
    page = english.get(url)
    assert "overdue" in page.text
    english.post(url, data={**REPORT, "action": "submit", "csrf_token": csrf_of(page.text)})
    assert runtime.engine.get(view.id).state == "report_received"


def test_an_expired_link_is_a_410_page_asking_for_a_new_one(
    english: TestClient, runtime: Runtime, make_request: MakeRequest, clock: ManualClock
) -> None:
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    clock.advance(timedelta(days=181))
    response = english.get(url)
    assert response.status_code == 410
    assert "ask CICIE" in response.text.replace("Ask CICIE", "ask CICIE")
    assert "Traceback" not in response.text


def test_a_tampered_link_is_a_404_page(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    forged = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert english.get(forged).status_code == 404
    assert english.get("/report/not-a-token").status_code == 404
    # a status link does not open the report form
    assert english.get(link(runtime, view.id, "status")).status_code == 200
    status_token = link(runtime, view.id, "status").split("/")[-1]
    assert english.get(f"/report/{status_token}").status_code == 404


def test_a_link_for_one_request_never_touches_another(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    a = make_request("internship", "final_report")
    b = make_request("internship", "final_report")
    url_a = link(runtime, a.id)
    token = csrf_of(english.get(url_a).text)
    # whatever else the form says, only the token names the request
    english.post(
        url_a,
        data={**REPORT, "action": "submit", "csrf_token": token, "request_id": str(b.id)},
    )
    assert runtime.engine.get(a.id).state == "report_received"
    after_b = runtime.engine.get(b.id)
    assert (after_b.state, after_b.version) == ("final_report", b.version)
    assert stored(runtime, b.id) == ([], None)


def test_a_file_over_the_limit_is_refused_with_413_and_nothing_is_stored(
    settings: Settings, english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    settings.upload_max_bytes = 2048
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    token = csrf_of(english.get(url).text)
    big = PDF + b"0" * 4096
    response = english.post(
        url,
        data={**REPORT, "action": "submit", "csrf_token": token},
        files=[("attachments", ("big.pdf", big, "application/pdf"))],
    )
    assert response.status_code == 413
    assert "larger than" in response.text
    assert REPORT["final_report_experience"] in response.text  # the typed text is kept
    assert stored(runtime, view.id) == ([], None)
    assert runtime.engine.get(view.id).state == "final_report"


def test_a_body_larger_than_every_file_together_is_refused_before_it_is_read(
    settings: Settings, english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    settings.upload_max_bytes = 1024
    settings.upload_max_files = 1
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    token = csrf_of(english.get(url).text)
    response = english.post(
        url,
        data={**REPORT, "action": "save", "csrf_token": token},
        files=[("attachments", ("huge.pdf", PDF + b"0" * (3 * 1024 * 1024), "application/pdf"))],
    )
    assert response.status_code == 413
    assert "<textarea" not in response.text  # the error page: the form was never parsed
    assert stored(runtime, view.id) == ([], None)


def test_too_many_files_are_refused(
    settings: Settings, english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    settings.upload_max_files = 2
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    token = csrf_of(english.get(url).text)
    files = [("attachments", (f"f{i}.pdf", PDF, "application/pdf")) for i in range(3)]
    response = english.post(
        url, data={**REPORT, "action": "save", "csrf_token": token}, files=files
    )
    assert response.status_code == 413
    assert "At most 2 files" in response.text
    assert stored(runtime, view.id) == ([], None)
    # two now, then one more: the count includes the files already attached
    english.post(url, data={**REPORT, "action": "save", "csrf_token": token}, files=files[:2])
    response = english.post(
        url, data={**REPORT, "action": "save", "csrf_token": token}, files=files[:1]
    )
    assert response.status_code == 413
    assert len(stored(runtime, view.id)[0]) == 2


@pytest.mark.parametrize(
    ("name", "content"),
    [("report.pdf", b"<html>not a pdf</html>"), ("report.exe", PDF), ("report.pdf.html", PDF)],
)
def test_a_file_that_is_not_a_pdf_is_refused_with_415(
    english: TestClient,
    runtime: Runtime,
    make_request: MakeRequest,
    name: str,
    content: bytes,
) -> None:
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    token = csrf_of(english.get(url).text)
    response = english.post(
        url,
        data={**REPORT, "action": "save", "csrf_token": token},
        files=[("attachments", (name, content, "application/pdf"))],
    )
    assert response.status_code == 415
    # which file, and what is wrong with it, next to the attachments field
    error = re.search(r'<p id="attachments-error" class="field-error">([^<]*)</p>', response.text)
    assert error
    assert f"“{name}”" in error.group(1)
    assert "PDF file" in error.group(1)
    assert REPORT["final_report_recommendations"] in response.text
    assert stored(runtime, view.id) == ([], None)


def test_a_post_without_the_csrf_token_is_refused(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    english.get(url)
    response = english.post(url, data={**REPORT, "action": "submit"})
    assert response.status_code == 403
    assert runtime.engine.get(view.id).state == "final_report"
    assert stored(runtime, view.id) == ([], None)


def test_a_report_missing_a_section_is_not_submitted(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    token = csrf_of(english.get(url).text)
    response = english.post(
        url,
        data={**REPORT, "final_report_adaptations": "   ", "action": "submit", "csrf_token": token},
        files=[("attachments", ("a.pdf", PDF, "application/pdf"))],
    )
    assert response.status_code == 422
    assert "Write this section" in response.text
    assert REPORT["final_report_experience"] in response.text
    assert runtime.engine.get(view.id).state == "final_report"
    assert stored(runtime, view.id) == ([], None)


def test_a_request_not_awaiting_a_report_says_so(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "logistics")
    delegates = [{"name": "Wanjiru Kamau", "position": "Manager", "email": EMAIL}]
    runtime.engine.update(view.id, Actor("coordinator", "ana"), data={"delegates": delegates})
    url = link(runtime, view.id)
    page = english.get(url)
    assert page.status_code == 200
    assert "not awaiting a final report" in page.text
    assert "<textarea" not in page.text
    # a form kept open from earlier (the session's CSRF token, as any page of it carries)
    token = csrf_of(english.get("/login").text)
    response = english.post(url, data={**REPORT, "action": "submit", "csrf_token": token})
    assert response.status_code == 409
    assert runtime.engine.get(view.id).state == "logistics"


def test_a_draft_attachment_can_be_removed(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    view = make_request("internship", "final_report")
    url = link(runtime, view.id)
    token = csrf_of(english.get(url).text)
    english.post(
        url,
        data={**REPORT, "action": "save", "csrf_token": token},
        files=[("attachments", ("a.pdf", PDF, "application/pdf"))],
    )
    (attachment,), _ = stored(runtime, view.id)
    response = english.post(url, data={**REPORT, "remove": str(attachment.id), "csrf_token": token})
    assert response.status_code == 200
    assert "The file was removed" in response.text
    assert stored(runtime, view.id)[0] == []


def test_coordinators_read_the_report_escaped_and_download_its_attachments(
    english: TestClient, runtime: Runtime, make_request: MakeRequest, accounts: Accounts
) -> None:
    view = make_request("internship", "final_report")
    other = make_request("internship", "final_report")
    url = link(runtime, view.id)
    token = csrf_of(english.get(url).text)
    hostile = {**REPORT, "final_report_experience": '<script>alert("x")</script><b>bold</b>'}
    english.post(
        url,
        data={**hostile, "action": "submit", "csrf_token": token},
        files=[("attachments", ('na"me<é>.pdf', PDF, "application/pdf"))],
    )
    assert runtime.engine.get(view.id).state == "report_received"
    (attachment,), _ = stored(runtime, view.id)

    # signed out: to the sign-in page
    download = f"/requests/{view.id}/attachments/{attachment.id}"
    assert english.get(download, follow_redirects=False).status_code == 303

    sign_in(english, accounts)
    page = english.get(f"/requests/{view.id}/final-report")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in page.text
    assert "<script>alert" not in page.text
    assert "<b>bold" not in page.text
    assert f"intern:{EMAIL}" not in page.text
    assert EMAIL in page.text
    assert download in page.text

    response = english.get(download)
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    fallback = re.search(r'filename="([^"]*)"', disposition)
    assert fallback
    assert re.fullmatch(r"[A-Za-z0-9._ -]+\.pdf", fallback.group(1))
    assert "filename*=UTF-8''" in disposition
    assert "%C3%A9" in disposition
    # another request's id finds nothing
    assert english.get(f"/requests/{other.id}/attachments/{attachment.id}").status_code == 404
