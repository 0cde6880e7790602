"""Rules every programme applies: cost sharing, event dates, requested themes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from i18n import Text
from workflows.guard_api import GUARDS, GuardContext
from workflows.guards.reading import Day, Either, Listed, Params, items, parse_date, quoted


class CostSharingParams(Params):
    field: str = "cost_sharing"


@GUARDS.register("cost_sharing_complete", params=CostSharingParams)
def cost_sharing_complete(ctx: GuardContext) -> list[Text]:
    """Every cost category has a payer allowed by CICIE's cost-sharing rules (`not_needed`
    too where the cost may not arise in the request's programme: financing.yaml)."""
    field = ctx.params.field
    matrix = ctx.data.get(field)
    financing = ctx.catalogues.financing
    if not isinstance(matrix, Mapping) or not matrix:
        return [
            Text(
                "“%(field)s” has not been filled in; set who pays each cost category "
                "(%(categories)s).",
                field=ctx.label(field),
                categories=Listed([c.label for c in financing.categories.values()]),
            )
        ]
    reasons: list[Text] = []
    for category in financing.categories.values():
        payer = matrix.get(category.id)
        if not payer:
            reasons.append(Text("No payer set for “%(category)s”.", category=category.label))
        elif payer not in category.payers_for(ctx.request.programme):
            known: Any = financing.payers.get(payer) if isinstance(payer, str) else None
            reasons.append(
                Text(
                    "“%(category)s” cannot be paid by “%(payer)s” under CICIE's cost-sharing "
                    "rules; it may be paid by %(allowed)s.",
                    category=category.label,
                    payer=known if known is not None else str(payer),
                    allowed=Either(
                        [financing.payers[p] for p in category.payers_for(ctx.request.programme)]
                    ),
                )
            )
    reasons.extend(
        Text("%(value)s is not a cost category.", value=quoted(key))
        for key in matrix
        if key not in financing.categories
    )
    return reasons


class DatesParams(Params):
    start: str = "event_start"
    end: str = "event_end"


@GUARDS.register("dates_set", params=DatesParams)
def dates_set(ctx: GuardContext) -> list[Text]:
    """The event has a start and an end date, valid, the start not after the end."""
    reasons: list[Text] = []
    parsed = {}
    for key in (ctx.params.start, ctx.params.end):
        raw = ctx.data.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            reasons.append(Text("“%(field)s” has not been set.", field=ctx.label(key)))
            continue
        value = parse_date(raw)
        if value is None:
            reasons.append(
                Text(
                    "“%(field)s” is not a valid date: %(value)s (expected YYYY-MM-DD).",
                    field=ctx.label(key),
                    value=quoted(raw),
                )
            )
        parsed[key] = value
    start, end = parsed.get(ctx.params.start), parsed.get(ctx.params.end)
    if start is not None and end is not None and start > end:
        reasons.append(
            Text(
                "The event starts on %(start)s (“%(start_field)s”) but ends earlier, on "
                "%(end)s (“%(end_field)s”).",
                start=Day(start),
                start_field=ctx.label(ctx.params.start),
                end=Day(end),
                end_field=ctx.label(ctx.params.end),
            )
        )
    return reasons


class ThemesParams(Params):
    field: str = "themes"
    min_themes: int = Field(default=1, ge=1)


@GUARDS.register("themes_in_catalogue", params=ThemesParams)
def themes_in_catalogue(ctx: GuardContext) -> list[Text]:
    """At least one theme is requested, and every theme is in the CICIE theme catalogue."""
    field, minimum = ctx.params.field, ctx.params.min_themes
    label = ctx.label(field)
    themes = items(ctx.data.get(field))
    if not themes:
        if minimum == 1:
            return [
                Text(
                    "No theme has been recorded in “%(field)s”; the request needs at least one "
                    "theme from the CICIE theme catalogue.",
                    field=label,
                )
            ]
        return [
            Text(
                "No theme has been recorded in “%(field)s”; the request needs at least "
                "%(minimum)s themes from the CICIE theme catalogue.",
                field=label,
                minimum=minimum,
            )
        ]
    reasons: list[Text] = []
    if len(themes) < minimum:
        reasons.append(
            Text(
                "Themes recorded in “%(field)s”: %(count)s; at least %(minimum)s are needed.",
                field=label,
                count=len(themes),
                minimum=minimum,
            )
        )
    for i, theme in enumerate(themes, start=1):
        if not isinstance(theme, str) or theme not in ctx.catalogues.themes:
            reasons.append(
                Text(
                    "Theme %(number)s of “%(field)s” (%(value)s) is not in the CICIE theme "
                    "catalogue.",
                    number=i,
                    field=label,
                    value=quoted(theme),
                )
            )
    return reasons
