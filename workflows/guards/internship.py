"""The internship's rules: an admission criterion of the brochure, and a complete final report."""

from __future__ import annotations

from pydantic import Field

from workflows.guard_api import GUARDS, GuardContext
from workflows.guards.reading import Params, choice_problems, text

ADMISSION_CRITERIA: dict[str, str] = {
    "new_functions": "(a) the EMB incorporates new functions",
    "programme_or_reform": "(b) the EMB must elaborate a programme, project or reform",
    "security_reliability": "(c) the EMB develops new mechanisms for safety and reliability",
}

REPORT_PARTS: dict[str, str] = {
    "final_report_experience": "the account of the experience",
    "final_report_adaptations": "the aspects to be incorporated or adapted at the EMB",
    "final_report_recommendations": "the observations and recommendations on INE's work",
}


class AdmissionParams(Params):
    field: str = "admission_criteria"


@GUARDS.register("internship_admission_criterion", params=AdmissionParams)
def internship_admission_criterion(ctx: GuardContext) -> list[str]:
    """The internship meets at least one of the brochure's admission criteria (a, b, c)."""
    field = ctx.params.field
    return choice_problems(
        ctx.data.get(field),
        ADMISSION_CRITERIA,
        "internship admission criterion",
        field,
        "the EMB must meet at least one of",
    )


class FinalReportParams(Params):
    fields: list[str] = Field(default_factory=lambda: list(REPORT_PARTS), min_length=1)


@GUARDS.register("final_report_complete", params=FinalReportParams)
def final_report_complete(ctx: GuardContext) -> list[str]:
    """The final report tells the experience, what will be adapted, and advice for INE."""
    return [
        f"The final report lacks {REPORT_PARTS.get(name, repr(name))} ({name})."
        for name in ctx.params.fields
        if not text(ctx.data.get(name))
    ]
