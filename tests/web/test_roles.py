"""Who may change what, checked on the server: a viewer reads everything and changes nothing,
whatever it posts; and no page shows a viewer a form or a button that would change anything."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from engine.bootstrap import Runtime
from engine.service import Engine
from engine.views import RequestView
from storage import outbox
from tests.web.conftest import SignIn, csrf_of
from tests.web.test_outbox_page import _queued_mail
from tests.web.test_request_page import INTAKE


def test_a_viewer_gets_403_on_every_post_route_and_nothing_changes(
    runtime: Runtime,
    engine: Engine,
    make_emb: Callable[..., str],
    sign_in: SignIn,
) -> None:
    message = _queued_mail(runtime, engine, make_emb)
    with runtime.db.transaction() as conn:
        conn.exec_driver_sql(f"UPDATE outbox SET status = 'dead' WHERE id = {int(message)}")
    view = engine.list_requests()[0]
    browser = sign_in("viewer")
    token = csrf_of(browser.get(f"/requests/{view.id}").text)
    posts = {
        "/requests": {"programme": "seminar", "emb": "", "title": "A seminar"},
        f"/requests/{view.id}/data": {"expected_version": str(view.version), "needs_summary": "x"},
        f"/requests/{view.id}/advance": {
            "expected_version": str(view.version),
            "trigger": "complete_assessment",
            "needs_summary": "x",
        },
        f"/outbox/{message}/resend": {},
    }
    for path, data in posts.items():
        response = browser.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
        assert response.status_code == 403, path
        assert "Not allowed" in response.text, path
    after = engine.get(view.id)
    assert (after.state, after.version, after.data) == (view.state, view.version, view.data)
    assert len(engine.list_requests()) == 1
    with runtime.db.read() as conn:
        assert next(r for r in outbox.listing(conn) if r.id == message).status == "dead"


@pytest.mark.parametrize("path", ["/requests/new", "/outbox"])
def test_a_viewer_cannot_open_the_writers_pages(sign_in: SignIn, path: str) -> None:
    assert sign_in("viewer").get(path).status_code == 403


def test_a_viewer_sees_no_forms_or_buttons_that_change_anything(
    make_request: Callable[..., RequestView],
    sign_in: SignIn,
) -> None:
    view = make_request("international_workshop", "logistics")
    viewer = sign_in("viewer")
    for path in (f"/requests/{view.id}", "/", f"/requests/{view.id}/print"):
        html = viewer.get(path).text
        assert 'name="trigger"' not in html, path
        posting = re.findall(r'<form method="post" action="([^"]+)"', html)
        # only the session's own forms (language, sign out) post
        assert set(posting) <= {"/language", "/logout"}, (path, posting)
        assert 'href="/requests/new"' not in html
        assert 'href="/outbox"' not in html
    coordinator = sign_in("coordinator", "ana")
    html = coordinator.get(f"/requests/{view.id}").text
    assert 'name="trigger" value="confirm_logistics"' in html
    assert f'action="/requests/{view.id}/advance"' in html


def test_posts_without_the_csrf_token_are_refused(
    make_request: Callable[..., RequestView],
    sign_in: SignIn,
    engine: Engine,
) -> None:
    view = make_request("international_workshop", "intake")
    browser = sign_in("coordinator", "ana")
    response = browser.post(
        f"/requests/{view.id}/data",
        data={"expected_version": str(view.version), **{"contact_name": INTAKE["contact_name"]}},
    )
    assert response.status_code == 403
    assert engine.get(view.id).version == view.version
