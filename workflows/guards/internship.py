"""The internship's rules: an admission criterion of the brochure, and a complete final report."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from i18n import Text
from workflows.guard_api import GUARDS, GuardContext
from workflows.guards.reading import Params, choice_problems, text

ADMISSION_CRITERIA: dict[str, Text] = {
    "new_functions": Text("(a) the EMB incorporates new functions"),
    "programme_or_reform": Text("(b) the EMB must elaborate a programme, project or reform"),
    "security_reliability": Text("(c) the EMB develops new mechanisms for safety and reliability"),
}

# the parts of the final report, by field; the workflow's own labels name them in a refusal
REPORT_PARTS: dict[str, Text] = {
    "final_report_experience": Text("the account of the experience"),
    "final_report_adaptations": Text("the aspects to be incorporated or adapted at the EMB"),
    "final_report_recommendations": Text("the observations and recommendations on INE's work"),
}


class AdmissionParams(Params):
    field: str = "admission_criteria"


def _missing(**params: Any) -> Text:
    return Text(
        "“%(field)s” has not been recorded; the EMB must meet at least one of the brochure's "
        "criteria: %(choices)s.",
        **params,
    )


@GUARDS.register("internship_admission_criterion", params=AdmissionParams)
def internship_admission_criterion(ctx: GuardContext) -> list[Text]:
    """The internship meets at least one of the brochure's admission criteria (a, b, c)."""
    field = ctx.params.field
    return choice_problems(ctx.data.get(field), ADMISSION_CRITERIA, ctx.label(field), _missing)


class FinalReportParams(Params):
    fields: list[str] = Field(default_factory=lambda: list(REPORT_PARTS), min_length=1)


@GUARDS.register("final_report_complete", params=FinalReportParams)
def final_report_complete(ctx: GuardContext) -> list[Text]:
    """The final report tells the experience, what will be adapted, and advice for INE."""
    return [
        Text("The final report lacks “%(part)s”.", part=_part(ctx, name))
        for name in ctx.params.fields
        if not text(ctx.data.get(name))
    ]


def _part(ctx: GuardContext, name: str) -> object:
    """The workflow's label of a report part; the brochure's words when it has none."""
    found = ctx.fields.get(name)
    if found is not None and found.label is not None:
        return found.label
    return REPORT_PARTS.get(name) or ctx.label(name)
