"""Rules every programme applies: cost sharing, event dates, requested themes."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from workflows.guard_api import GUARDS, GuardContext
from workflows.guards.reading import Params, count, items, parse_date, quoted


class CostSharingParams(Params):
    field: str = "cost_sharing"


@GUARDS.register("cost_sharing_complete", params=CostSharingParams)
def cost_sharing_complete(ctx: GuardContext) -> list[str]:
    """Every cost category has a payer allowed by CICIE's cost-sharing rules."""
    field = ctx.params.field
    matrix = ctx.data.get(field)
    if not isinstance(matrix, Mapping) or not matrix:
        return [
            f"The cost-sharing matrix ({field}) has not been filled in; set who pays each cost "
            f"category ({', '.join(ctx.catalogues.financing.categories)})."
        ]
    return ctx.catalogues.financing.payer_problems(dict(matrix))


class DatesParams(Params):
    start: str = "event_start"
    end: str = "event_end"


@GUARDS.register("dates_set", params=DatesParams)
def dates_set(ctx: GuardContext) -> list[str]:
    """The event has a start and an end date, valid, the start not after the end."""
    reasons: list[str] = []
    parsed = {}
    for key, what in ((ctx.params.start, "start"), (ctx.params.end, "end")):
        raw = ctx.data.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            reasons.append(f"The {what} date of the event ({key}) has not been set.")
            continue
        value = parse_date(raw)
        if value is None:
            reasons.append(
                f"The {what} date of the event ({key}) {quoted(raw)} is not a valid date "
                "(YYYY-MM-DD)."
            )
        parsed[what] = value
    start, end = parsed.get("start"), parsed.get("end")
    if start is not None and end is not None and start > end:
        reasons.append(
            f"The event starts on {start.isoformat()} ({ctx.params.start}) but ends earlier, "
            f"on {end.isoformat()} ({ctx.params.end})."
        )
    return reasons


class ThemesParams(Params):
    field: str = "themes"
    min_themes: int = Field(default=1, ge=1)


@GUARDS.register("themes_in_catalogue", params=ThemesParams)
def themes_in_catalogue(ctx: GuardContext) -> list[str]:
    """At least one theme is requested, and every theme is in the CICIE theme catalogue."""
    field, minimum = ctx.params.field, ctx.params.min_themes
    themes = items(ctx.data.get(field))
    if not themes:
        return [
            f"No theme has been recorded ({field}); the request needs at least "
            f"{count(minimum, 'theme')} from the CICIE theme catalogue."
        ]
    reasons: list[str] = []
    if len(themes) < minimum:
        reasons.append(
            f"Only {count(len(themes), 'theme')} recorded ({field}); at least {minimum} are needed."
        )
    for i, theme in enumerate(themes, start=1):
        if not isinstance(theme, str):
            reasons.append(f"Theme {i} ({field}) is not a theme id: {theme!r}.")
        elif theme not in ctx.catalogues.themes:
            reasons.append(f"Theme {i} '{theme}' ({field}) is not in the CICIE theme catalogue.")
    return reasons
