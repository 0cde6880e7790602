"""The specialization course's rules: the founders funding one participant per EMB, each
participant directly involved with the course's topic (the regional partner:
`co_organisers.regional_partner_set`)."""

from __future__ import annotations

from collections.abc import Mapping

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


class InvolvementParams(Params):
    field: str = "participants"
    key: str = "topic_involvement"


@GUARDS.register("participants_involved_with_topic", params=InvolvementParams)
def participants_involved_with_topic(ctx: GuardContext) -> list[Text]:
    """Every participant's involvement with the course's topic is recorded (brochure: "The
    candidate that is directly involved with the central topic is selected")."""
    p = ctx.params
    label = ctx.label(p.field)
    people = items(ctx.data.get(p.field))
    if not people:
        return [Text("No participant has been registered in “%(field)s”.", field=label)]
    return [
        Text(
            "%(participant)s: “%(field)s” has not been filled in; the course selects "
            "candidates directly involved with its topic.",
            participant=item_name("participant", i, person, "name"),
            field=ctx.label(p.field, p.key),
        )
        for i, person in enumerate(people, start=1)
        if not (isinstance(person, Mapping) and text(person.get(p.key)))
    ]
