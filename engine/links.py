"""Signed, expiring, single-purpose links for people without an account.

An intern or delegate gets a link to submit the final report of *one* request; a partner gets
a read-only status link for *one* request. The link carries the request id, the purpose and
the recipient's address, signed with the site's secret (HMAC, itsdangerous) and timestamped;
the request id is never taken from anywhere else, so a link for request A cannot reach B.
Expiry is measured on the engine's clock, so tests move time instead of waiting.

A link also carries the request's *links epoch* (`request.links_epoch`): revoking all links of
a request moves the epoch on (engine/links_ops.py), and a link of an older epoch is refused.
Links made before epochs existed carry none and count as epoch 0. Whether the address a link
names is still a recipient of the request is checked where links are made
(notifications/links.py), so "who gets a link" and "who may use it" are one rule."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, TypeGuard

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import want_bytes

from engine.clock import Clock, system_clock
from engine.errors import CicieError

Purpose = Literal["report", "status"]
LIFETIMES: dict[str, timedelta] = {
    "report": timedelta(days=180),  # the report is due weeks after the event; reminders follow
    "status": timedelta(days=365),
}


class LinkInvalid(CicieError):
    """The link was altered, is for something else, or was never issued here."""

    code = "link_invalid"


class LinkExpired(CicieError):
    code = "link_expired"


class LinkRevoked(CicieError):
    """A genuine link that no longer opens anything: all links of the request were revoked
    (`reason` "revoked"), or its address is no longer a recipient of it ("not_recipient")."""

    code = "link_revoked"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, [{"reason": reason}])
        self.reason = reason


@dataclass(frozen=True)
class LinkClaim:
    request_id: int
    purpose: str
    email: str
    epoch: int = 0  # the request's links epoch when the link was made


def _clocked_signer(clock: Clock) -> type[TimestampSigner]:
    # derived keys by (secret, salt, derivation, digest): itsdangerous derives the key again
    # (an HMAC) for every link signed or checked, and makes a signer per call
    derived: dict[tuple[bytes, bytes, str, Any], bytes] = {}

    class ClockedSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock().timestamp())

        def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
            secret = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
            key = (secret, self.salt, self.key_derivation, self.digest_method)
            found = derived.get(key)
            if found is None:
                found = derived[key] = super().derive_key(secret)
            return found

    return ClockedSigner


class LinkSigner:
    def __init__(self, secret: str, clock: Clock = system_clock) -> None:
        self._serializer = URLSafeTimedSerializer(
            secret,
            salt="cicie-links-v1",
            signer=_clocked_signer(clock),
            # SHA-1 as itsdangerous's default is, but hashlib's own constructor: HMAC then runs
            # in OpenSSL, not in Python around its lazy wrapper (the same signatures)
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
        )
        self._signer = self._serializer.make_signer()  # what `dumps` makes for each link
        self.clock = clock

    def token(self, request_id: int, purpose: Purpose, email: str, epoch: int = 0) -> str:
        """`URLSafeTimedSerializer.dumps(payload)`, with one signer kept for every link."""
        payload = {"r": request_id, "p": purpose, "e": email.lower(), "x": epoch}
        return self._signer.sign(self._serializer.dump_payload(payload)).decode("utf-8")

    def verify(self, token: str, purpose: Purpose) -> LinkClaim:
        lifetime = LIFETIMES[purpose]
        try:
            payload = self._serializer.loads(token, max_age=int(lifetime.total_seconds()))
        except SignatureExpired as exc:
            raise LinkExpired(
                "this link has expired; ask CICIE's coordination for a new one"
            ) from exc
        except BadSignature as exc:
            raise LinkInvalid("this link is not valid; check that it was copied whole") from exc
        if not isinstance(payload, dict) or payload.get("p") != purpose:
            raise LinkInvalid("this link is not valid for this page")
        request_id, email, epoch = payload.get("r"), payload.get("e"), payload.get("x", 0)
        if not _count(request_id) or not isinstance(email, str) or not _count(epoch):
            raise LinkInvalid("this link is not valid; check that it was copied whole")
        return LinkClaim(request_id, purpose, email, epoch)


def _count(value: object) -> TypeGuard[int]:
    """A non-negative int as JSON gives it (not a bool, which is an int in Python)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
