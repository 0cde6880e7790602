"""Which page a message links to, by who reads it — and who may still use a link.

CICIE's own people (coordination, programme lead, founders) get the request page, behind
sign-in. Interns and delegates, while the request awaits their final report, get their own
signed report link; everyone else outside CICIE (the EMB's contacts, associate partners,
speakers, delegates at other times) gets a signed read-only status link. Each link names one
request and one address, so a forwarded mail opens nothing else.

A link is honoured only while the rule that issued it still holds: it carries the request's
current links epoch (a coordinator revokes all links by moving it on, engine/links_ops.py),
and its address is still among the request's recipients for its purpose (`admit`). So a
delegate removed from a request loses their report link at once, not 180 days later."""

from __future__ import annotations

from dataclasses import dataclass

from config.secret import site_secret
from config.settings import Settings
from engine.clock import Clock
from engine.links import LinkClaim, LinkRevoked, LinkSigner
from engine.views import RequestView
from notifications.recipient import Recipient
from notifications.recipients import RecipientResolver
from storage.embs import EmbRow
from workflows.definition import INTERNAL_RECIPIENTS

REPORT_ROLES = ("intern", "delegates")
REPORT_STATES = ("final_report", "report_overdue")
SHARED_ROLES = ("emb_contacts", "associate_partner", "intern", "delegates", "speakers")
# who may use a link of each purpose: a report link, whoever owes the report (in any state:
# the page itself says when the report is not awaited); a status link, anyone links go to
USERS_OF: dict[str, tuple[str, ...]] = {"report": REPORT_ROLES, "status": SHARED_ROLES}


@dataclass(frozen=True)
class SharedLink:
    recipient: Recipient
    purpose: str  # "report" or "status"
    url: str


class LinkMaker:
    def __init__(self, base_url: str, signer: LinkSigner) -> None:
        self.base_url = base_url.rstrip("/")
        self.signer = signer

    def for_recipient(self, request: RequestView, recipient: Recipient, epoch: int = 0) -> str:
        return self._link(request, recipient, epoch)[1]

    def _link(self, request: RequestView, recipient: Recipient, epoch: int) -> tuple[str, str]:
        if recipient.role in INTERNAL_RECIPIENTS:
            return "request", f"{self.base_url}/requests/{request.id}"
        address = recipient.address
        if recipient.role in REPORT_ROLES and request.state in REPORT_STATES:
            token = self.signer.token(request.id, "report", address, epoch)
            return "report", f"{self.base_url}/report/{token}"
        token = self.signer.token(request.id, "status", address, epoch)
        return "status", f"{self.base_url}/status/{token}"

    def shared(
        self,
        request: RequestView,
        emb: EmbRow | None,
        resolver: RecipientResolver,
        epoch: int = 0,
    ) -> list[SharedLink]:
        """The links a coordinator may hand out by hand (the same ones the mails carry)."""
        out = []
        for recipient in resolver.resolve(SHARED_ROLES, request, emb):
            purpose, url = self._link(request, recipient, epoch)
            out.append(SharedLink(recipient, purpose, url))
        return out


def admit(
    claim: LinkClaim,
    request: RequestView,
    emb: EmbRow | None,
    resolver: RecipientResolver,
    epoch: int,
) -> None:
    """Refuse (`LinkRevoked`) a genuine link the request no longer honours: one made before
    its links were revoked, or one whose address is no longer a recipient of the request for
    the link's purpose (e.g. a delegate removed from the delegation)."""
    if claim.request_id != request.id:
        raise ValueError("the claim is for another request")  # a caller's mistake, not a user's
    if claim.epoch != epoch:
        raise LinkRevoked(
            "this link was revoked by CICIE's coordination; ask them for a new one", "revoked"
        )
    addresses = {r.address.lower() for r in resolver.resolve(USERS_OF[claim.purpose], request, emb)}
    if claim.email.lower() not in addresses:
        raise LinkRevoked(
            "this link was sent to an address that no longer takes part in this request; "
            "ask CICIE's coordination for help",
            "not_recipient",
        )


def link_maker(settings: Settings, clock: Clock) -> LinkMaker:
    """The one way links are made: the site's public address and secret, the engine's clock."""
    return LinkMaker(
        settings.resolved_base_url, LinkSigner(site_secret(settings).get_secret_value(), clock)
    )
