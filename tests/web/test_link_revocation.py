"""Report and status links stop working when they should: as soon as their address is no
longer a recipient of the request (a delegate removed from the delegation), and for everyone
when a coordinator revokes all links of the request — then the request page shows new ones.
Through the application in-process and through the real server (uvicorn on loopback), on
SQLite and PostgreSQL. Also: the report form's `remove=` never turns into a 500."""

from __future__ import annotations

import functools
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from config.secret import site_secret
from engine.accounts import Accounts
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.links import LinkSigner
from engine.links_ops import REVOKE_COMMENT, REVOKE_TRIGGER, revoke_links
from engine.views import RequestView
from tests.browser.live import ServerThread
from tests.web.conftest import PDF, SignIn, csrf_of, link

MakeRequest = Callable[..., RequestView]
Browser = httpx.Client | TestClient  # in-process, or over TCP to the real server
COORDINATOR = Actor("coordinator", "ana")
KARLA = "wanjiru.kamau@example.org"  # the contact person, also the first delegate
ANA = "ana.ruiz@example.org"  # a delegate added, then removed
REPORT = {
    "final_report_experience": "Four days on the electoral justice system.",
    "final_report_adaptations": "A protocol for recounts.",
    "final_report_recommendations": "Publish the agenda earlier.",
}
_SHARED = re.compile(
    r'Link for ([^<\s]+)</label>\s*<input[^>]*class="link-copy"[^>]*value="([^"]+)"'
)


def shared_links(coordinator: Browser, request_id: int) -> dict[tuple[str, str], str]:
    """The request page's "links to share": (address, report|status) → the link's path."""
    page = coordinator.get(f"/requests/{request_id}")
    assert page.status_code == 200
    out = {}
    for address, url in _SHARED.findall(page.text):
        path = urlsplit(url.replace("&amp;", "&")).path
        out[(address, path.split("/")[1])] = path
    return out


def delegation(view: RequestView, *extra: dict[str, str]) -> list[dict[str, Any]]:
    return [*view.data["delegates"], *extra]


@pytest.fixture
def make_emb(make_emb: Callable[..., str]) -> Callable[..., str]:
    """EMBs with an address of their own: it gets a status link."""
    return functools.partial(make_emb, email="registro@emb.example")


@pytest.fixture
def internship(runtime: Runtime, make_request: MakeRequest) -> RequestView:
    """An internship awaiting its final report (the only programme that asks for one,
    brochure § 2.2), with Ana added to the delegation."""
    view = make_request("internship", "final_report")
    ana = {"name": "Ana Ruiz", "position": "Jefa de Registro", "email": ANA}
    return runtime.engine.update(view.id, COORDINATOR, data={"delegates": delegation(view, ana)})


def remove_ana(runtime: Runtime, view: RequestView) -> RequestView:
    current = runtime.engine.get(view.id)
    kept = [d for d in current.data["delegates"] if d.get("email") != ANA]
    return runtime.engine.update(view.id, COORDINATOR, data={"delegates": kept})


# ---------------------------------------------------------------- a removed delegate
def test_a_delegate_removed_from_the_request_can_no_longer_use_their_links(
    english: TestClient, sign_in: SignIn, runtime: Runtime, internship: RequestView
) -> None:
    coordinator = sign_in("coordinator", "ana")
    links = shared_links(coordinator, internship.id)
    report = links[(ANA, "report")]
    form = english.get(report)
    assert form.status_code == 200  # while Ana is a delegate, her link opens the form
    token = csrf_of(form.text)

    remove_ana(runtime, internship)

    refused = english.get(report)
    assert refused.status_code == 403
    assert "no longer takes part in this request" in refused.text
    assert runtime.settings.coordinator_email in refused.text  # whom to ask
    assert "Traceback" not in refused.text
    for action in ("save", "submit"):
        posted = english.post(
            report, data={**REPORT, "action": action, "csrf_token": token}, follow_redirects=False
        )
        assert posted.status_code == 403
    upload = english.post(
        report,
        data={**REPORT, "action": "save", "csrf_token": token},
        files=[("attachments", ("a.pdf", PDF, "application/pdf"))],
    )
    assert upload.status_code == 403
    after = runtime.engine.get(internship.id)
    assert after.state == "final_report"
    assert runtime.engine.history(internship.id)[-1].trigger == "update"  # nothing of Ana's
    # the others keep theirs, and the page no longer offers Ana one
    assert (
        english.get(shared_links(coordinator, internship.id)[(KARLA, "report")]).status_code == 200
    )
    assert (ANA, "report") not in shared_links(coordinator, internship.id)


def test_a_removed_delegate_keeps_what_another_role_gives_them(
    english: TestClient, runtime: Runtime, internship: RequestView
) -> None:
    """Wanjiru is the contact person and a delegate: out of the delegation, her report link
    stops, her status link (as the contact person) still works."""
    report, status = (
        link(runtime, internship.id, email=KARLA),
        link(runtime, internship.id, "status", KARLA),
    )
    kept = [d for d in internship.data["delegates"] if d.get("email") != KARLA]
    runtime.engine.update(internship.id, COORDINATOR, data={"delegates": kept})
    assert english.get(report).status_code == 403
    assert english.get(status).status_code == 200


def test_a_status_link_stops_when_its_address_is_no_longer_a_recipient(
    english: TestClient, runtime: Runtime, internship: RequestView
) -> None:
    status = link(runtime, internship.id, "status", ANA)
    assert english.get(status).status_code == 200
    remove_ana(runtime, internship)
    refused = english.get(status)
    assert refused.status_code == 403
    assert "no longer valid" in refused.text


def test_a_link_for_an_address_never_a_recipient_is_refused(
    english: TestClient, runtime: Runtime, internship: RequestView
) -> None:
    assert (
        english.get(link(runtime, internship.id, email="someone@else.example")).status_code == 403
    )


# ---------------------------------------------------------------- revoking all links
def test_revoking_all_links_stops_the_old_ones_and_the_page_shows_new_ones(
    english: TestClient, sign_in: SignIn, runtime: Runtime, internship: RequestView
) -> None:
    coordinator = sign_in("coordinator", "ana")
    before = shared_links(coordinator, internship.id)
    assert english.get(before[(KARLA, "report")]).status_code == 200
    page = coordinator.get(f"/requests/{internship.id}")
    assert "Revoke all links" in page.text

    # not confirmed: nothing happens
    unconfirmed = coordinator.post(
        f"/requests/{internship.id}/links/revoke", data={"csrf_token": csrf_of(page.text)}
    )
    assert "Tick the box to confirm" in unconfirmed.text
    assert english.get(before[(KARLA, "report")]).status_code == 200

    done = coordinator.post(
        f"/requests/{internship.id}/links/revoke",
        data={"csrf_token": csrf_of(page.text), "confirm": "yes"},
    )
    assert done.status_code == 200
    assert "All report and status links of this request were revoked" in done.text
    assert "Links revoked" in done.text  # the history says so
    assert REVOKE_COMMENT in done.text

    for (_address, _purpose), old in before.items():
        refused = english.get(old)
        assert refused.status_code == 410
        assert "withdrawn" in refused.text
        assert runtime.settings.coordinator_email in refused.text
    after = shared_links(coordinator, internship.id)
    assert set(after) == set(before)
    assert not set(after.values()) & set(before.values())
    for fresh in after.values():
        assert english.get(fresh).status_code == 200
    last = runtime.engine.history(internship.id)[-1]
    assert (last.trigger, last.actor, last.comment) == (
        REVOKE_TRIGGER,
        "coordinator:ana",
        REVOKE_COMMENT,
    )
    assert last.version == internship.version + 1
    assert runtime.engine.get(internship.id).state == "final_report"


def test_a_revoked_report_link_cannot_post_a_draft_or_the_report(
    english: TestClient, runtime: Runtime, internship: RequestView
) -> None:
    url = link(runtime, internship.id, email=KARLA)
    token = csrf_of(english.get(url).text)
    revoke_links(runtime.engine, internship.id, COORDINATOR)
    for action in ("save", "submit"):
        posted = english.post(url, data={**REPORT, "action": action, "csrf_token": token})
        assert posted.status_code == 410
    assert runtime.engine.get(internship.id).state == "final_report"


def test_viewers_cannot_revoke_links(sign_in: SignIn, internship: RequestView) -> None:
    viewer = sign_in("viewer", "vera")
    page = viewer.get(f"/requests/{internship.id}")
    assert "Revoke all links" not in page.text
    refused = viewer.post(
        f"/requests/{internship.id}/links/revoke",
        data={"csrf_token": csrf_of(page.text), "confirm": "yes"},
    )
    assert refused.status_code == 403


def test_a_link_made_before_epochs_counts_as_epoch_zero(
    english: TestClient, runtime: Runtime, internship: RequestView
) -> None:
    signer = LinkSigner(site_secret(runtime.settings).get_secret_value(), runtime.engine.clock)
    # the payload links had before they carried an epoch
    old = signer._serializer.dumps({"r": internship.id, "p": "report", "e": KARLA})
    assert english.get(f"/report/{old}").status_code == 200
    revoke_links(runtime.engine, internship.id, COORDINATOR)
    assert english.get(f"/report/{old}").status_code == 410


def test_revoking_the_links_of_one_request_leaves_another_s_alone(
    english: TestClient, runtime: Runtime, make_request: MakeRequest
) -> None:
    a = make_request("internship", "final_report")
    b = make_request("internship", "final_report")
    revoke_links(runtime.engine, b.id, COORDINATOR)  # b moves to epoch 1, a stays at 0
    assert english.get(link(runtime, a.id, email=KARLA)).status_code == 200
    assert english.get(link(runtime, b.id, email=KARLA)).status_code == 410
    signer = LinkSigner(site_secret(runtime.settings).get_secret_value(), runtime.engine.clock)
    assert english.get(f"/report/{signer.token(a.id, 'report', KARLA, 1)}").status_code == 410
    assert english.get(f"/report/{signer.token(b.id, 'report', KARLA, 1)}").status_code == 200


# ---------------------------------------------------------------- remove=
@pytest.mark.parametrize("value", ["²", "1" * 30, "-1", "0", " 1", "1e3", str(2**63)])
def test_a_bad_attachment_id_to_remove_is_a_422_not_a_500(
    english: TestClient, runtime: Runtime, internship: RequestView, value: str
) -> None:
    url = link(runtime, internship.id, email=KARLA)
    # the link opened in English (remembered for its pages), whatever the request's language
    token = csrf_of(english.get(f"{url}?lang=en").text)
    english.post(
        url,
        data={**REPORT, "action": "save", "csrf_token": token},
        files=[("attachments", ("kept.pdf", PDF, "application/pdf"))],
    )
    response = english.post(url, data={**REPORT, "remove": value, "csrf_token": token})
    assert response.status_code == 422
    assert "This file is not attached to the report" in response.text
    assert "Traceback" not in response.text
    assert "kept.pdf" in english.get(url).text  # nothing was removed


# ---------------------------------------------------------------- through the real server
@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    """The application served by uvicorn on 127.0.0.1 (a free port), on this test's
    database (SQLite or PostgreSQL)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = ServerThread(app, sock)
    server.start()
    try:
        server.wait_started()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.stop()
        sock.close()


def test_through_the_real_server_a_removed_delegate_and_revoked_links_are_refused(
    live_url: str, runtime: Runtime, internship: RequestView, accounts: Accounts
) -> None:
    accounts.add_user("ana", "coordinator", "ana-password-long", language="en")
    headers = {"Accept-Language": "en"}
    with (
        httpx.Client(base_url=live_url, headers=headers) as delegate,
        httpx.Client(base_url=live_url, headers=headers) as coordinator,
    ):
        login = coordinator.get("/login")
        signed_in = coordinator.post(
            "/login",
            data={
                "username": "ana",
                "password": "ana-password-long",
                "csrf_token": csrf_of(login.text),
            },
        )
        assert signed_in.status_code == 303
        links = shared_links(coordinator, internship.id)

        form = delegate.get(links[(ANA, "report")])
        assert form.status_code == 200
        remove_ana(runtime, internship)
        refused = delegate.get(links[(ANA, "report")])
        assert refused.status_code == 403
        assert "no longer takes part in this request" in refused.text
        submitted = delegate.post(
            links[(ANA, "report")],
            data={**REPORT, "action": "submit", "csrf_token": csrf_of(form.text)},
        )
        assert submitted.status_code == 403
        assert runtime.engine.get(internship.id).state == "final_report"

        page = coordinator.get(f"/requests/{internship.id}")
        revoked = coordinator.post(
            f"/requests/{internship.id}/links/revoke",
            data={"csrf_token": csrf_of(page.text), "confirm": "yes"},
            follow_redirects=True,
        )
        assert revoked.status_code == 200
        assert delegate.get(links[(KARLA, "report")]).status_code == 410
        status = next(path for (_who, purpose), path in links.items() if purpose == "status")
        assert delegate.get(status).status_code == 410
        fresh = shared_links(coordinator, internship.id)
        assert delegate.get(fresh[(KARLA, "report")]).status_code == 200
        assert (ANA, "report") not in fresh
