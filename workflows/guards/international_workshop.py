"""The international workshop's rule: when in the electoral cycle it is asked for."""

from __future__ import annotations

from workflows.guard_api import GUARDS, GuardContext
from workflows.guards.reading import Params, choice_problems, quoted

TIMING_SCENARIOS: dict[str, str] = {
    "before_elections": "before elections",
    "before_reform": "before a political-electoral reform",
    "authorities_replaced": "when electoral authorities are replaced",
    "other": "other moment of the electoral cycle",
}


class TimingParams(Params):
    field: str = "timing_scenario"


@GUARDS.register("workshop_timing_recorded", params=TimingParams)
def workshop_timing_recorded(ctx: GuardContext) -> list[str]:
    """The intake records when in the electoral cycle the workshop is asked for."""
    field = ctx.params.field
    value = ctx.data.get(field)
    if isinstance(value, str) or value is None:
        return choice_problems(value, TIMING_SCENARIOS, "timing scenario", field, "choose one")
    return [
        f"The timing scenario ({field}) must be a single choice, not {quoted(value)}; "
        f"use one of: {', '.join(TIMING_SCENARIOS)}."
    ]
