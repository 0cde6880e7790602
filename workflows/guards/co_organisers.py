"""Co-organisers and invited organisations (courses, seminars, workshops).

The brochure's own events are co-organised by several institutions — the 2016 course with the
OAS and CAPEL, the Latin American Democracy Forum with INE, TEPJF, the OAS and International
IDEA, the 2015 course with AMEXCID — so `co_organisers` is a list of partner codes, founders
included. Bodies the brochure only invites ("Invitation to international specialized bodies:
OSCE, IDEA International, NDI") are recorded in `invited_organisations`, never as partners.

A course is also checked against its region: its regional partner (an associate member) must
work in the course's region (`regions` in config/catalogues/partners.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from config.catalogues import Partner
from i18n import Text, vocabulary
from workflows.guard_api import GUARDS, GuardContext
from workflows.guards.reading import Either, Params, partner_codes, quoted

PartnerKind = Literal["founder", "associate", "national", "invited"]
# with their article: "it is listed as an associate member"
PARTNER_KINDS: dict[str, Text] = {
    "founder": Text("a founder member"),
    "associate": Text("an associate member"),
    "national": Text("a national partner"),
    "invited": Text("an invited organisation"),
}
INTER_REGIONAL = "inter_regional"  # a course for several regions: any regional partner fits
LEGACY_FIELD = "partner_institution"  # the single co-organiser of requests stored before


def _founders_and_associates() -> list[PartnerKind]:
    return ["founder", "associate"]


def _associate_only() -> list[PartnerKind]:
    return ["associate"]


class CoOrganisersParams(Params):
    field: str = "co_organisers"
    invited_field: str = "invited_organisations"
    legacy_field: str | None = LEGACY_FIELD
    kinds: list[PartnerKind] = Field(default_factory=_founders_and_associates, min_length=1)
    min_items: int = Field(default=1, ge=0)


def co_organiser_problems(
    ctx: GuardContext, field: str, invited_field: str, legacy: str | None, kinds: list[str]
) -> tuple[list[Partner], list[Text]]:
    """(the co-organisers found in the catalogue with a kind allowed, why the others are not)."""
    found: list[Partner] = []
    reasons: list[Text] = []
    invited = set(partner_codes(ctx.data, invited_field))
    allowed = Either([PARTNER_KINDS[k] for k in kinds])
    for code in partner_codes(ctx.data, field, legacy):
        partner = ctx.catalogues.partners.get(code) if isinstance(code, str) else None
        if partner is None:
            reasons.append(
                Text(
                    "%(value)s (“%(field)s”) is not in the partner catalogue.",
                    value=quoted(code),
                    field=ctx.label(field),
                )
            )
        elif partner.kind == "invited":
            reasons.append(
                Text(
                    "%(partner)s (%(code)s) is invited to take part, not a co-organiser; record "
                    "it in “%(invited)s”.",
                    partner=partner.name,
                    code=partner.code,
                    invited=ctx.label(invited_field),
                )
            )
        elif partner.kind not in kinds:
            reasons.append(
                Text(
                    "%(partner)s (%(code)s) cannot be a co-organiser: it is %(kind)s; a "
                    "co-organiser is %(kinds)s.",
                    partner=partner.name,
                    code=partner.code,
                    kind=PARTNER_KINDS.get(partner.kind, partner.kind),
                    kinds=allowed,
                )
            )
        elif code in invited or partner.code in invited:
            reasons.append(
                Text(
                    "%(partner)s (%(code)s) is recorded both in “%(field)s” and in "
                    "“%(invited)s”; keep it in one of them.",
                    partner=partner.name,
                    code=partner.code,
                    field=ctx.label(field),
                    invited=ctx.label(invited_field),
                )
            )
        else:
            found.append(partner)
    return found, reasons


@GUARDS.register("co_organisers_valid", params=CoOrganisersParams)
def co_organisers_valid(ctx: GuardContext) -> list[Text]:
    """Every co-organiser is a founder or associate of the partner catalogue (invited bodies
    are recorded as invited), and there are as many as the programme needs."""
    p = ctx.params
    found, reasons = co_organiser_problems(ctx, p.field, p.invited_field, p.legacy_field, p.kinds)
    if not partner_codes(ctx.data, p.field, p.legacy_field) and p.min_items > 0:
        reasons.append(
            Text(
                "“%(field)s” has not been set; name at least %(minimum)s co-organising "
                "institution from the partner catalogue.",
                field=ctx.label(p.field),
                minimum=p.min_items,
            )
        )
    elif not reasons and len(found) < p.min_items:
        reasons.append(
            Text(
                "“%(field)s” names %(count)s co-organising institutions; at least %(minimum)s "
                "are needed.",
                field=ctx.label(p.field),
                count=len(found),
                minimum=p.min_items,
            )
        )
    return reasons


class RegionalPartnerParams(Params):
    region_field: str = "region"
    field: str = "co_organisers"
    invited_field: str = "invited_organisations"
    legacy_field: str | None = LEGACY_FIELD
    # who may co-organise a course, and who among them is its regional partner
    kinds: list[PartnerKind] = Field(default_factory=_founders_and_associates, min_length=1)
    regional_kinds: list[PartnerKind] = Field(default_factory=_associate_only, min_length=1)


def region_name(region: str) -> object:
    return vocabulary.REGIONS.get(region, region)


@GUARDS.register("regional_partner_set", params=RegionalPartnerParams)
def regional_partner_set(ctx: GuardContext) -> list[Text]:
    """The course has a region and a regional partner that works in it; founders may
    co-organise besides."""
    p = ctx.params
    reasons: list[Text] = []
    raw_region = ctx.data.get(p.region_field)
    region = raw_region.strip() if isinstance(raw_region, str) else ""
    if not region:
        reasons.append(Text("“%(field)s” has not been set.", field=ctx.label(p.region_field)))
    regional = Either([PARTNER_KINDS[k] for k in p.regional_kinds])
    if not partner_codes(ctx.data, p.field, p.legacy_field):
        reasons.append(
            Text(
                "“%(field)s” has not been set; the course is co-organised with a regional "
                "partner from the partner catalogue that is %(kinds)s.",
                field=ctx.label(p.field),
                kinds=regional,
            )
        )
        return reasons
    found, problems = co_organiser_problems(ctx, p.field, p.invited_field, p.legacy_field, p.kinds)
    reasons.extend(problems)
    partners = [partner for partner in found if partner.kind in p.regional_kinds]
    if not partners:
        if not problems:
            reasons.append(
                Text(
                    "None of the institutions in “%(field)s” is a regional partner; the course "
                    "is co-organised with %(kinds)s of the partner catalogue.",
                    field=ctx.label(p.field),
                    kinds=regional,
                )
            )
        return reasons
    if region and region != INTER_REGIONAL:
        reasons.extend(
            Text(
                "%(partner)s (%(code)s) does not work in %(region)s, the region of the "
                "course; choose a regional partner for %(region)s.",
                partner=partner.name,
                code=partner.code,
                region=region_name(region),
            )
            for partner in partners
            if not partner.serves(region)
        )
    return reasons
