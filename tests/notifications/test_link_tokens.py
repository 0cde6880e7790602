"""Links in mail are signed with one signer kept per process and a key derived once
(engine/links.py): the tokens are exactly those itsdangerous's serializer makes, so links
sent before keep opening, and a key is never reused for another secret."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from engine.clock import ManualClock
from engine.links import LinkInvalid, LinkSigner

SECRET = "a-long-site-secret-for-links-0123456789"
NOW = datetime(2026, 1, 12, 15, 0, tzinfo=UTC)


def _reference(secret: str, clock: ManualClock) -> URLSafeTimedSerializer:
    class Clocked(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock().timestamp())

    return URLSafeTimedSerializer(
        secret, salt="cicie-links-v1", signer=Clocked, signer_kwargs={"key_derivation": "hmac"}
    )


@pytest.mark.parametrize(
    ("request_id", "purpose", "email", "epoch"),
    [
        (1, "status", "Ana.Perez@Example.org", 0),
        (4242, "report", "delegado@tse.hn", 3),
        (7, "status", "x" * 60 + "@" + "long-domain." * 10 + "org", 12),  # compressed payload
    ],
)
def test_a_token_is_the_one_the_serializer_makes(
    request_id: int, purpose: str, email: str, epoch: int
) -> None:
    clock = ManualClock(NOW)
    signer = LinkSigner(SECRET, clock)
    token = signer.token(request_id, purpose, email, epoch)  # type: ignore[arg-type]
    payload = {"r": request_id, "p": purpose, "e": email.lower(), "x": epoch}
    assert token == _reference(SECRET, clock).dumps(payload)
    clock.set(NOW + timedelta(days=30))
    claim = signer.verify(token, purpose)  # type: ignore[arg-type]
    assert (claim.request_id, claim.email, claim.epoch) == (request_id, email.lower(), epoch)


def test_links_of_another_secret_do_not_open() -> None:
    clock = ManualClock(NOW)
    ours, theirs = LinkSigner(SECRET, clock), LinkSigner(SECRET + "-other", clock)
    token = theirs.token(1, "status", "ana@example.org")
    assert theirs.verify(token, "status").request_id == 1
    with pytest.raises(LinkInvalid):
        ours.verify(token, "status")
    assert ours.verify(ours.token(1, "status", "ana@example.org"), "status").request_id == 1
