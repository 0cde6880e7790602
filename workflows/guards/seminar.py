"""The seminar's rule: its topic was selected under one of the brochure's criteria."""

from __future__ import annotations

from typing import Any

from i18n import Text
from workflows.guard_api import GUARDS, GuardContext
from workflows.guards.reading import Params, choice_problems

TOPIC_CRITERIA: dict[str, Text] = {
    "current_concerns": Text("(a) current concerns of EMBs for the state of democracy"),
    "globalisation_technology": Text(
        "(b) changes in electoral systems driven by globalisation and technology"
    ),
    "democratic_culture": Text("(c) promoting democratic culture in civil society"),
}


class TopicCriterionParams(Params):
    field: str = "topic_criterion"


def _missing(**params: Any) -> Text:
    return Text(
        "“%(field)s” has not been recorded; the topic must meet one of the brochure's "
        "criteria: %(choices)s.",
        **params,
    )


@GUARDS.register("seminar_topic_criterion", params=TopicCriterionParams)
def seminar_topic_criterion(ctx: GuardContext) -> list[Text]:
    """The seminar's topic was selected under one of the brochure's criteria (a, b, c)."""
    field = ctx.params.field
    return choice_problems(ctx.data.get(field), TOPIC_CRITERIA, ctx.label(field), _missing)
