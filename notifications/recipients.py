"""Recipient roles named in a workflow (`to: [founders, emb_contacts]`) → people to write to.

Founders and associate partners come from the partner catalogue; the EMB's own address and its
contact person from the EMB record and the request's data; interns, delegates and speakers from
the request's data; coordinators and the programme lead from settings (team mailboxes).
One address appears once per message.

Each recipient comes with its `Source`: where its address was read. Addresses are validated
when they are entered, but one stored before a rule was tightened (or set in a catalogue or a
setting) can still be unusable; then the message must name what the coordinator can fix —
the EMB and the command that repairs it, or the request's field — not the internals of mail.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from config.catalogues import Catalogues
from config.settings import Settings
from engine.errors import InvalidData
from engine.views import RequestView
from notifications.headers import address_problem, clean_header
from notifications.recipient import Recipient
from storage.embs import EmbRow
from workflows.guards.reading import partner_codes

OWES_REPORT = ("intern", "delegates")


@dataclass(frozen=True)
class Source:
    """Where an address was read, said so that a coordinator knows what to fix."""

    what: str  # "the e-mail address of EMB 'INE-PE' (Jurado Nacional de Elecciones)"
    fix: str  # "fix it with `cicie emb update INE-PE --email …`"
    field: str  # for the error's details: "emb", "contact_email", "delegates.1.email", …


class RecipientAddressInvalid(InvalidData):
    """A recipient's address cannot be written to; the message says whose it is and how to
    repair it (the transition that wanted to write is refused, nothing is saved)."""


def check_address(recipient: Recipient, source: Source) -> None:
    """Refuse, with a message a coordinator can act on, an address no message can go to."""
    reason = address_problem(recipient.address)
    if reason is None:
        return
    shown = clean_header(recipient.address, 80)
    message = f"{source.what} is not valid ('{shown}': {reason}): {source.fix}"
    raise RecipientAddressInvalid(message, [{"field": source.field, "message": message}])


def _emb_source(emb: EmbRow) -> Source:
    return Source(
        f"the e-mail address of EMB '{emb.code}' ({clean_header(emb.name, 80)})",
        f"fix it with `cicie emb update {emb.code} --email …`",
        "emb",
    )


def _field_source(request: RequestView, field: str, what: str, path: str | None = None) -> Source:
    return Source(
        what,
        f"correct the field '{field}' on the request's page (/requests/{request.id}) "
        f"or with `cicie request update {request.id}`",
        path or field,
    )


class RecipientResolver:
    def __init__(self, catalogues: Catalogues, settings: Settings) -> None:
        self.catalogues = catalogues
        self.settings = settings

    def resolve(
        self, roles: Sequence[str], request: RequestView, emb: EmbRow | None
    ) -> list[Recipient]:
        return [recipient for recipient, _source in self.resolve_sourced(roles, request, emb)]

    def resolve_sourced(
        self, roles: Sequence[str], request: RequestView, emb: EmbRow | None
    ) -> list[tuple[Recipient, Source]]:
        """The recipients of `roles`, each with where its address was read."""
        seen: dict[str, int] = {}
        out: list[tuple[Recipient, Source]] = []
        for role in roles:
            for found in self._role(role, request, emb):
                key = found[0].address.lower()
                if key not in seen:
                    seen[key] = len(out)
                    out.append(found)
                elif role in OWES_REPORT:
                    # a contact person who was also a delegate owes the report: one message,
                    # addressed to them as the delegate (it carries their report link)
                    out[seen[key]] = found
        return out

    def _role(
        self, role: str, request: RequestView, emb: EmbRow | None
    ) -> Iterator[tuple[Recipient, Source]]:
        data = request.data
        emb_language = emb.language if emb else "es"
        contact_language = str(data.get("contact_language") or emb_language)
        if role == "founders":
            for p in self.catalogues.founders():
                if p.email:
                    yield Recipient(role, p.name, p.email, p.language), _partner_source(p.name)
        elif role == "associate_partner":
            # every co-organiser (`co_organisers`; a request stored before the list has one
            # `partner_institution`); a founder among them already has the founders' message
            for code in partner_codes(data, "co_organisers", "partner_institution"):
                partner = self.catalogues.partners.get(code) if isinstance(code, str) else None
                if partner and partner.email:
                    yield (
                        Recipient(role, partner.name, partner.email, partner.language),
                        _partner_source(partner.name),
                    )
        elif role == "emb_contacts":
            if data.get("contact_email"):
                name = str(data.get("contact_name") or (emb.name if emb else ""))
                source = _field_source(
                    request, "contact_email", "the contact person's e-mail (field 'contact_email')"
                )
                yield Recipient(role, name, str(data["contact_email"]), contact_language), source
            if emb and emb.email:
                yield Recipient(role, emb.name, emb.email, emb_language), _emb_source(emb)
        elif role == "coordinator":
            address = self.settings.coordinator_email
            yield Recipient(role, "CICIE", address, "es"), _setting_source("COORDINATOR_EMAIL")
        elif role == "programme_lead":
            address = self.settings.programme_lead_email
            yield Recipient(role, "CICIE", address, "es"), _setting_source("PROGRAMME_LEAD_EMAIL")
        elif role in ("intern", "delegates"):
            for n, person in _people(data.get("delegates")):
                source = _field_source(
                    request,
                    "delegates",
                    f"the e-mail of delegate {n + 1} (field 'delegates')",
                    f"delegates.{n}.email",
                )
                yield Recipient(role, person["name"], person["email"], contact_language), source
        elif role == "speakers":
            yield from self._speakers(request)

    def _speakers(self, request: RequestView) -> Iterator[tuple[Recipient, Source]]:
        data = request.data
        for n, person in _people(data.get("speakers")):
            source = _field_source(
                request,
                "speakers",
                f"the e-mail of speaker {n + 1} (field 'speakers')",
                f"speakers.{n}.email",
            )
            yield Recipient("speakers", person["name"], person["email"], "es"), source
        for s, session in enumerate(data.get("agenda_sessions") or ()):
            if not isinstance(session, Mapping):
                continue
            for n, person in _people(session.get("speakers")):
                source = _field_source(
                    request,
                    "agenda_sessions",
                    f"the e-mail of speaker {n + 1} of session {s + 1} (field 'agenda_sessions')",
                    f"agenda_sessions.{s}.speakers.{n}.email",
                )
                yield Recipient("speakers", person["name"], person["email"], "es"), source


def _partner_source(name: str) -> Source:
    return Source(
        f"the e-mail address of partner '{clean_header(name, 80)}' in the partner catalogue",
        "ask an administrator to correct it in config/catalogues/partners.yaml",
        "partner",
    )


def _setting_source(name: str) -> Source:
    return Source(
        f"the address in the setting CICIE_{name}",
        f"ask an administrator to correct CICIE_{name} and restart CICIE",
        f"CICIE_{name}",
    )


def _people(items: Any) -> Iterator[tuple[int, dict[str, str]]]:
    """(position, entry) of the entries of a list field that have an e-mail address."""
    if not isinstance(items, list):
        return
    for n, item in enumerate(items):
        if isinstance(item, Mapping) and item.get("email"):
            yield n, {"name": str(item.get("name") or ""), "email": str(item["email"])}
