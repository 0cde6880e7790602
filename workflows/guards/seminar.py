"""The seminar's rule: its topic was selected under one of the brochure's criteria."""

from __future__ import annotations

from workflows.guard_api import GUARDS, GuardContext
from workflows.guards.reading import Params, choice_problems

TOPIC_CRITERIA: dict[str, str] = {
    "current_concerns": "(a) current concerns of EMBs for the state of democracy",
    "globalisation_technology": (
        "(b) changes in electoral systems driven by globalisation and technology"
    ),
    "democratic_culture": "(c) promoting democratic culture in civil society",
}


class TopicCriterionParams(Params):
    field: str = "topic_criterion"


@GUARDS.register("seminar_topic_criterion", params=TopicCriterionParams)
def seminar_topic_criterion(ctx: GuardContext) -> list[str]:
    """The seminar's topic was selected under one of the brochure's criteria (a, b, c)."""
    field = ctx.params.field
    return choice_problems(
        ctx.data.get(field),
        TOPIC_CRITERIA,
        "topic-selection criterion",
        field,
        "the topic must meet one of",
    )
