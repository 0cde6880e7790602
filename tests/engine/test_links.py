"""Signed links: one request, one purpose, until they expire on the engine's clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.clock import ManualClock
from engine.links import LinkExpired, LinkInvalid, LinkSigner


@pytest.fixture
def signer(clock: ManualClock) -> LinkSigner:
    return LinkSigner("a-secret-for-tests", clock)


def test_a_link_names_its_request_purpose_and_recipient(signer: LinkSigner) -> None:
    claim = signer.verify(signer.token(7, "report", "Intern@EMB.example"), "report")
    assert (claim.request_id, claim.purpose, claim.email) == (7, "report", "intern@emb.example")


def test_a_report_link_expires_after_its_lifetime(signer: LinkSigner, clock: ManualClock) -> None:
    token = signer.token(7, "report", "intern@emb.example")
    clock.advance(timedelta(days=179))
    assert signer.verify(token, "report").request_id == 7
    clock.advance(timedelta(days=2))
    with pytest.raises(LinkExpired):
        signer.verify(token, "report")


def test_a_tampered_link_is_refused(signer: LinkSigner) -> None:
    token = signer.token(7, "report", "intern@emb.example")
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    with pytest.raises(LinkInvalid):
        signer.verify(forged, "report")


def test_a_status_link_does_not_open_the_report_form(signer: LinkSigner) -> None:
    with pytest.raises(LinkInvalid):
        signer.verify(signer.token(7, "status", "emb@emb.example"), "report")


def test_a_link_signed_with_another_secret_is_refused(clock: ManualClock) -> None:
    token = LinkSigner("another-secret", clock).token(7, "report", "x@y.example")
    with pytest.raises(LinkInvalid):
        LinkSigner("a-secret-for-tests", clock).verify(token, "report")
