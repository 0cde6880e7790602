"""The international workshop's rule: when in the electoral cycle it is asked for (one or
several moments)."""

from __future__ import annotations

from typing import Any

from i18n import Text
from workflows.guard_api import GUARDS, GuardContext
from workflows.guards.reading import Params, choice_problems

TIMING_SCENARIOS: dict[str, Text] = {
    "before_elections": Text("before elections"),
    "before_reform": Text("before a political-electoral reform"),
    "authorities_replaced": Text("when electoral authorities are replaced"),
    "other": Text("other moment of the electoral cycle"),
}


class TimingParams(Params):
    field: str = "timing_scenario"


def _missing(**params: Any) -> Text:
    return Text("“%(field)s” has not been recorded; choose %(choices)s.", **params)


@GUARDS.register("workshop_timing_recorded", params=TimingParams)
def workshop_timing_recorded(ctx: GuardContext) -> list[Text]:
    """The intake records when in the electoral cycle the workshop is asked for: one or
    several of the brochure's moments, which may overlap (a stored single choice counts as
    one)."""
    field = ctx.params.field
    return choice_problems(ctx.data.get(field), TIMING_SCENARIOS, ctx.label(field), _missing)
