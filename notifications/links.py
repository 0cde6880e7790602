"""Which page a message links to, by who reads it.

CICIE's own people (coordination, programme lead, founders) get the request page, behind
sign-in. Interns and delegates, while the request awaits their final report, get their own
signed report link; everyone else outside CICIE (the EMB's contacts, associate partners,
speakers, delegates at other times) gets a signed read-only status link. Each link names one
request and one address, so a forwarded mail opens nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import Settings
from engine.clock import Clock
from engine.links import LinkSigner
from engine.views import RequestView
from notifications.recipient import Recipient
from notifications.recipients import RecipientResolver
from storage.embs import EmbRow
from workflows.definition import INTERNAL_RECIPIENTS

REPORT_ROLES = ("intern", "delegates")
REPORT_STATES = ("final_report", "report_overdue")
SHARED_ROLES = ("emb_contacts", "associate_partner", "intern", "delegates", "speakers")


@dataclass(frozen=True)
class SharedLink:
    recipient: Recipient
    purpose: str  # "report" or "status"
    url: str


class LinkMaker:
    def __init__(self, base_url: str, signer: LinkSigner) -> None:
        self.base_url = base_url.rstrip("/")
        self.signer = signer

    def for_recipient(self, request: RequestView, recipient: Recipient) -> str:
        return self._link(request, recipient)[1]

    def _link(self, request: RequestView, recipient: Recipient) -> tuple[str, str]:
        if recipient.role in INTERNAL_RECIPIENTS:
            return "request", f"{self.base_url}/requests/{request.id}"
        address = recipient.address
        if recipient.role in REPORT_ROLES and request.state in REPORT_STATES:
            return (
                "report",
                f"{self.base_url}/report/{self.signer.token(request.id, 'report', address)}",
            )
        return (
            "status",
            f"{self.base_url}/status/{self.signer.token(request.id, 'status', address)}",
        )

    def shared(
        self, request: RequestView, emb: EmbRow | None, resolver: RecipientResolver
    ) -> list[SharedLink]:
        """The links a coordinator may hand out by hand (the same ones the mails carry)."""
        out = []
        for recipient in resolver.resolve(SHARED_ROLES, request, emb):
            purpose, url = self._link(request, recipient)
            out.append(SharedLink(recipient, purpose, url))
        return out


def link_maker(settings: Settings, clock: Clock) -> LinkMaker:
    """The one way links are made: the site's public address and secret, the engine's clock."""
    return LinkMaker(settings.resolved_base_url, LinkSigner(settings.secret_key, clock))
