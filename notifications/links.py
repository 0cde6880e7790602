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
from typing import Literal

from config.secret import site_secret
from config.settings import Settings
from engine.clock import Clock
from engine.links import LinkClaim, LinkRevoked, LinkSigner
from engine.views import RequestView
from i18n import LANGUAGES
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


def purpose(request: RequestView, role: str) -> str:
    """What a mail's link opens for a recipient of `role`: "request" (CICIE's own people: the
    request page, behind sign-in), "report" (whoever owes the final report, while it is
    awaited: their report form) or "status" (everyone else: a read-only status page)."""
    if role in INTERNAL_RECIPIENTS:
        return "request"
    if role in REPORT_ROLES and request.state in REPORT_STATES:
        return "report"
    return "status"


def with_language(url: str, purpose: str, language: str | None) -> str:
    """A public page's link opens in `language` (`?lang=`; the token stays in the path)."""
    if purpose == "request" or language not in LANGUAGES:
        return url
    return f"{url}?lang={language}"  # a code of LANGUAGES: letters only, nothing to encode


def preview_link(base_url: str, request: RequestView, role: str, language: str) -> SharedLink:
    """The link a preview shows for `role`: the right kind of page, a placeholder token."""
    kind = purpose(request, role)
    base = base_url.rstrip("/")
    path = f"/requests/{request.id}" if kind == "request" else f"/{kind}/preview-token"
    recipient = Recipient(role, "Preview", "preview@example.org", language)
    return SharedLink(recipient, kind, with_language(base + path, kind, language))


class LinkMaker:
    def __init__(self, base_url: str, signer: LinkSigner) -> None:
        self.base_url = base_url.rstrip("/")
        self.signer = signer

    def for_recipient(
        self,
        request: RequestView,
        recipient: Recipient,
        epoch: int = 0,
        language: str | None = None,
    ) -> str:
        return self.link(request, recipient, epoch, language)[1]

    def link(
        self,
        request: RequestView,
        recipient: Recipient,
        epoch: int = 0,
        language: str | None = None,
    ) -> tuple[str, str]:
        """(purpose, url) of the link a mail to `recipient` carries; a public page's link
        opens in `language` (the language the mail is written in)."""
        kind, url = self._link(request, recipient, epoch)
        return kind, with_language(url, kind, language)

    def _link(self, request: RequestView, recipient: Recipient, epoch: int) -> tuple[str, str]:
        kind = purpose(request, recipient.role)
        if kind == "request":
            return kind, f"{self.base_url}/requests/{request.id}"
        signed: Literal["report", "status"] = "report" if kind == "report" else "status"
        token = self.signer.token(request.id, signed, recipient.address, epoch)
        return signed, f"{self.base_url}/{signed}/{token}"

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
            kind, url = self._link(request, recipient, epoch)
            out.append(SharedLink(recipient, kind, url))
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
