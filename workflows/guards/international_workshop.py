"""The international workshop's rule: when in the electoral cycle it is asked for."""

from __future__ import annotations

from typing import Any

from i18n import Text
from workflows.guard_api import GUARDS, GuardContext
from workflows.guards.reading import Either, Params, choice_problems

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
    """The intake records when in the electoral cycle the workshop is asked for."""
    field = ctx.params.field
    value = ctx.data.get(field)
    if isinstance(value, str) or value is None:
        return choice_problems(value, TIMING_SCENARIOS, ctx.label(field), _missing)
    return [
        Text(
            "“%(field)s” takes a single choice; choose %(choices)s.",
            field=ctx.label(field),
            choices=Either(list(TIMING_SCENARIOS.values())),
        )
    ]
