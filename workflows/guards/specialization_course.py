"""The specialization course's rules: a regional partner to co-organise it, and the founders
funding one participant per EMB."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field

from workflows.guard_api import GUARDS, GuardContext
from workflows.guards.reading import Params, a, item_name, items, quoted, text

FUNDED_BY_EMB = "emb"
FUNDING_SOURCES = ("founders", FUNDED_BY_EMB)


PartnerKind = Literal["founder", "associate", "national"]


def _associate_only() -> list[PartnerKind]:
    return ["associate"]


class RegionalPartnerParams(Params):
    region_field: str = "region"
    partner_field: str = "partner_institution"
    kinds: list[PartnerKind] = Field(default_factory=_associate_only, min_length=1)


@GUARDS.register("regional_partner_set", params=RegionalPartnerParams)
def regional_partner_set(ctx: GuardContext) -> list[str]:
    """The course has a region and a partner institution of the right kind to co-organise it."""
    p = ctx.params
    reasons: list[str] = []
    if not text(ctx.data.get(p.region_field)):
        reasons.append(f"The region of the course ({p.region_field}) has not been set.")
    kinds = " or ".join(p.kinds)
    a_kinds = a(kinds)
    code = text(ctx.data.get(p.partner_field))
    if not code:
        reasons.append(
            f"No partner institution ({p.partner_field}) has been set; the course is "
            f"co-organised with {a_kinds} partner from the partner catalogue."
        )
        return reasons
    partner = ctx.catalogues.partners.get(code)
    if partner is None:
        reasons.append(
            f"Partner institution '{code}' ({p.partner_field}) is not in the partner catalogue."
        )
    elif partner.kind not in p.kinds:
        reasons.append(
            f"Partner institution '{code}' ({partner.name}) is {a(partner.kind)} member, not "
            f"{a_kinds} partner; choose {a_kinds} partner to co-organise the course."
        )
    return reasons


class FundedParticipantsParams(Params):
    field: str = "participants"
    max_funded_per_emb: int = Field(default=1, ge=0)
    max_per_emb: int | None = Field(default=None, ge=1)


@GUARDS.register("one_funded_participant_per_emb", params=FundedParticipantsParams)
def one_funded_participant_per_emb(ctx: GuardContext) -> list[str]:
    """The founders fund one participant per EMB; a second only when the EMB pays in full."""
    p = ctx.params
    people = items(ctx.data.get(p.field))
    if not people:
        return [f"No participant has been registered ({p.field})."]
    reasons: list[str] = []
    by_emb: dict[tuple[str, str], list[tuple[str, bool]]] = {}
    for i, person in enumerate(people, start=1):
        name = item_name("Participant", i, person, "name")
        if not isinstance(person, Mapping):
            reasons.append(f"{name} ({p.field}) is not a participant entry.")
            continue
        emb, country = text(person.get("emb")), text(person.get("country"))
        if not emb:
            reasons.append(f"{name} does not say which EMB they come from (emb).")
            continue
        funded_by = person.get("funded_by")
        if funded_by not in FUNDING_SOURCES:
            reasons.append(
                f"{name} has no valid funding source (funded_by {quoted(funded_by)}); "
                f"use one of: {', '.join(FUNDING_SOURCES)}."
            )
            continue
        label = text(person.get("name")) or f"participant {i}"
        by_emb.setdefault((emb, country), []).append((label, funded_by != FUNDED_BY_EMB))
    for (emb, country), members in by_emb.items():
        where = f"EMB '{emb}'" + (f" ({country})" if country else "")
        funded = [label for label, by_founders in members if by_founders]
        if len(funded) > p.max_funded_per_emb:
            reasons.append(
                f"{where} has {len(funded)} participants funded by the founders "
                f"({', '.join(funded)}); only {p.max_funded_per_emb} is funded per EMB, so "
                "mark any other as funded_by: emb if the EMB absorbs the full cost."
            )
        if p.max_per_emb is not None and len(members) > p.max_per_emb:
            reasons.append(
                f"{where} has {len(members)} participants; at most {p.max_per_emb} per EMB "
                "may take part."
            )
    return reasons
