"""The specialization course's rules: a regional partner to co-organise it, and the founders
funding one participant per EMB."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field

from i18n import Text
from workflows.guard_api import GUARDS, GuardContext
from workflows.guards.reading import Country, Either, Params, item_name, items, quoted, text

FUNDED_BY_EMB = "emb"
FUNDING_SOURCES = ("founders", FUNDED_BY_EMB)
FUNDING_LABELS: dict[str, Text] = {
    "founders": Text("the founders"),
    FUNDED_BY_EMB: Text("the EMB"),
}


PartnerKind = Literal["founder", "associate", "national"]
# with their article: "it is listed as an associate member"
PARTNER_KINDS: dict[str, Text] = {
    "founder": Text("a founder member"),
    "associate": Text("an associate member"),
    "national": Text("a national partner"),
}


def _associate_only() -> list[PartnerKind]:
    return ["associate"]


class RegionalPartnerParams(Params):
    region_field: str = "region"
    partner_field: str = "partner_institution"
    kinds: list[PartnerKind] = Field(default_factory=_associate_only, min_length=1)


@GUARDS.register("regional_partner_set", params=RegionalPartnerParams)
def regional_partner_set(ctx: GuardContext) -> list[Text]:
    """The course has a region and a partner institution of the right kind to co-organise it."""
    p = ctx.params
    reasons: list[Text] = []
    if not text(ctx.data.get(p.region_field)):
        reasons.append(Text("“%(field)s” has not been set.", field=ctx.label(p.region_field)))
    kinds = Either([PARTNER_KINDS[k] for k in p.kinds])
    code = text(ctx.data.get(p.partner_field))
    if not code:
        reasons.append(
            Text(
                "“%(field)s” has not been set; the course is co-organised with a partner from "
                "the partner catalogue that is %(kinds)s.",
                field=ctx.label(p.partner_field),
                kinds=kinds,
            )
        )
        return reasons
    partner = ctx.catalogues.partners.get(code)
    if partner is None:
        reasons.append(
            Text(
                "%(value)s (“%(field)s”) is not in the partner catalogue.",
                value=quoted(code),
                field=ctx.label(p.partner_field),
            )
        )
    elif partner.kind not in p.kinds:
        reasons.append(
            Text(
                "%(partner)s (%(code)s) cannot co-organise the course: it is %(kind)s, and the "
                "course needs %(kinds)s.",
                partner=partner.name,
                code=partner.code,
                kind=PARTNER_KINDS.get(partner.kind, partner.kind),
                kinds=kinds,
            )
        )
    return reasons


class FundedParticipantsParams(Params):
    field: str = "participants"
    max_funded_per_emb: int = Field(default=1, ge=0)
    max_per_emb: int | None = Field(default=None, ge=1)


@GUARDS.register("one_funded_participant_per_emb", params=FundedParticipantsParams)
def one_funded_participant_per_emb(ctx: GuardContext) -> list[Text]:
    """The founders fund one participant per EMB; a second only when the EMB pays in full."""
    p = ctx.params
    label = ctx.label(p.field)
    people = items(ctx.data.get(p.field))
    if not people:
        return [Text("No participant has been registered in “%(field)s”.", field=label)]
    funding_field = ctx.label(p.field, "funded_by")
    reasons: list[Text] = []
    by_emb: dict[tuple[str, str], list[tuple[str | Text, bool]]] = {}
    for i, person in enumerate(people, start=1):
        name = item_name("participant", i, person, "name")
        if not isinstance(person, Mapping):
            reasons.append(
                Text(
                    "%(participant)s of “%(field)s” is not a participant entry.",
                    participant=name,
                    field=label,
                )
            )
            continue
        emb, country = text(person.get("emb")), text(person.get("country"))
        if not emb:
            reasons.append(
                Text(
                    "%(participant)s: “%(field)s” has not been filled in.",
                    participant=name,
                    field=ctx.label(p.field, "emb"),
                )
            )
            continue
        funded_by = person.get("funded_by")
        if funded_by not in FUNDING_SOURCES:
            reasons.append(
                Text(
                    "%(participant)s: “%(field)s” must be %(choices)s, not %(value)s.",
                    participant=name,
                    field=funding_field,
                    choices=Either([FUNDING_LABELS[s] for s in FUNDING_SOURCES]),
                    value=quoted(funded_by),
                )
            )
            continue
        shown: str | Text = text(person.get("name")) or name
        by_emb.setdefault((emb, country), []).append((shown, funded_by != FUNDED_BY_EMB))
    for (emb, country), members in by_emb.items():
        where = (
            Text("EMB “%(emb)s” (%(country)s)", emb=emb, country=Country(country))
            if country
            else Text("EMB “%(emb)s”", emb=emb)
        )
        funded = [shown for shown, by_founders in members if by_founders]
        if len(funded) > p.max_funded_per_emb:
            reasons.append(
                Text(
                    "Participants of %(emb)s funded by the founders: %(count)s (%(names)s); the "
                    "founders fund %(maximum)s per EMB, so set “%(field)s” to “%(emb_pays)s” "
                    "for any other whose EMB covers the full cost.",
                    emb=where,
                    count=len(funded),
                    names=funded,
                    maximum=p.max_funded_per_emb,
                    field=funding_field,
                    emb_pays=FUNDING_LABELS[FUNDED_BY_EMB],
                )
            )
        if p.max_per_emb is not None and len(members) > p.max_per_emb:
            reasons.append(
                Text(
                    "%(emb)s has %(count)s participants; at most %(maximum)s per EMB may take "
                    "part.",
                    emb=where,
                    count=len(members),
                    maximum=p.max_per_emb,
                )
            )
    return reasons
