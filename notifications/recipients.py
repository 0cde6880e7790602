"""Recipient roles named in a workflow (`to: [founders, emb_contacts]`) → people to write to.

Founders and associate partners come from the partner catalogue; the EMB's own address and its
contact person from the EMB record and the request's data; interns, delegates and speakers from
the request's data; coordinators and the programme lead from settings (team mailboxes).
Addresses were validated when they were entered; one address appears once per message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from config.catalogues import Catalogues
from config.settings import Settings
from engine.views import RequestView
from notifications.recipient import Recipient
from storage.embs import EmbRow

OWES_REPORT = ("intern", "delegates")


class RecipientResolver:
    def __init__(self, catalogues: Catalogues, settings: Settings) -> None:
        self.catalogues = catalogues
        self.settings = settings

    def resolve(
        self, roles: Sequence[str], request: RequestView, emb: EmbRow | None
    ) -> list[Recipient]:
        seen: dict[str, int] = {}
        out: list[Recipient] = []
        for role in roles:
            for recipient in self._role(role, request, emb):
                key = recipient.address.lower()
                if key not in seen:
                    seen[key] = len(out)
                    out.append(recipient)
                elif role in OWES_REPORT:
                    # a contact person who was also a delegate owes the report: one message,
                    # addressed to them as the delegate (it carries their report link)
                    out[seen[key]] = recipient
        return out

    def _role(self, role: str, request: RequestView, emb: EmbRow | None) -> Iterator[Recipient]:
        data = request.data
        emb_language = emb.language if emb else "es"
        contact_language = str(data.get("contact_language") or emb_language)
        if role == "founders":
            for p in self.catalogues.founders():
                if p.email:
                    yield Recipient(role, p.name, p.email, p.language)
        elif role == "associate_partner":
            partner = self.catalogues.partners.get(str(data.get("partner_institution") or ""))
            if partner and partner.email:
                yield Recipient(role, partner.name, partner.email, partner.language)
        elif role == "emb_contacts":
            if data.get("contact_email"):
                name = str(data.get("contact_name") or (emb.name if emb else ""))
                yield Recipient(role, name, str(data["contact_email"]), contact_language)
            if emb and emb.email:
                yield Recipient(role, emb.name, emb.email, emb_language)
        elif role == "coordinator":
            yield Recipient(role, "CICIE", self.settings.coordinator_email, "es")
        elif role == "programme_lead":
            yield Recipient(role, "CICIE", self.settings.programme_lead_email, "es")
        elif role in ("intern", "delegates"):
            for person in _people(data.get("delegates")):
                yield Recipient(role, person["name"], person["email"], contact_language)
        elif role == "speakers":
            people = list(_people(data.get("speakers")))
            for session in data.get("agenda_sessions") or ():
                if isinstance(session, Mapping):
                    people.extend(_people(session.get("speakers")))
            for person in people:
                yield Recipient(role, person["name"], person["email"], "es")


def _people(items: Any) -> Iterator[dict[str, str]]:
    """Entries of a list field that have an e-mail address."""
    if not isinstance(items, list):
        return
    for item in items:
        if isinstance(item, Mapping) and item.get("email"):
            yield {"name": str(item.get("name") or ""), "email": str(item["email"])}
