"""Which page each mail links to: the intern owing the final report gets their own signed
report link, partners a signed status link, CICIE's people the request page."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from config.secret import site_secret
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.links import LinkSigner
from engine.views import RequestView
from notifications.stored import message_bytes
from notifications.wiring import install_mail
from storage.models import outbox_table
from tests.conftest import example_steps

# the token is the path's last segment; `?lang=` (the page's language) is not part of it
LINK = re.compile(r"https?://[^\s\"'<>]+/(report|status|requests)/([^\s\"'<>?]+)")


def links_by_recipient(runtime: Runtime, request_id: int, template: str) -> dict[str, set[str]]:
    with runtime.db.read() as conn:
        rows = conn.execute(
            sa.select(outbox_table.c.to_addr, outbox_table.c.id).where(
                outbox_table.c.request_id == request_id, outbox_table.c.template == template
            )
        ).all()
        bodies = [(to_addr, message_bytes(conn, id) or b"") for to_addr, id in rows]
    found: dict[str, set[str]] = {}
    for to_addr, body in bodies:
        message = email.message_from_bytes(body, policy=email.policy.default)
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        found[to_addr] = {f"{m.group(1)}/{m.group(2)}" for m in LINK.finditer(text)}
    return found


@pytest.fixture
def finished_internship(runtime: Runtime, make_request: Callable[..., RequestView]) -> RequestView:
    """An internship whose final report is requested (since issue 14 only internships are
    asked for one: brochure § 2.2)."""
    install_mail(runtime)
    view = make_request("internship", "in_progress")
    step = next(s for s in example_steps("internship") if s["trigger"] == "finish")
    return runtime.engine.advance(view.id, "finish", Actor.parse(step["as"]), data=step["data"])


def test_the_intern_gets_a_report_link_for_this_request_only(
    runtime: Runtime, finished_internship: RequestView
) -> None:
    links = links_by_recipient(runtime, finished_internship.id, "final_report_requested")
    intern = links["wanjiru.kamau@example.org"]  # the contact person, also the first intern
    report = [link for link in intern if link.startswith("report/")]
    assert len(report) == 1
    claim = LinkSigner(
        site_secret(runtime.settings).get_secret_value(), runtime.engine.clock
    ).verify(report[0].removeprefix("report/"), "report")
    assert (claim.request_id, claim.email) == (finished_internship.id, "wanjiru.kamau@example.org")


def test_partners_get_a_status_link_and_cicie_the_request_page(
    runtime: Runtime, make_request: Callable[..., RequestView]
) -> None:
    install_mail(runtime)
    view = make_request("international_workshop", "ready")  # logistics confirmed on the way
    links = links_by_recipient(runtime, view.id, "logistics_confirmed")
    founders = links["cicie.ine@example.org"]
    assert founders == {f"requests/{view.id}"}
    partners = [addr for addr in links if not addr.startswith("cicie.")]
    assert partners, "no partner received the logistics mail"
    for addr in partners:
        assert all(link.startswith("status/") for link in links[addr]), addr
