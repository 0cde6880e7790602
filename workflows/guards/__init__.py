"""The brochure's rules, as named guards the workflow files refer to, one module per programme
(`every_programme` and `agendas` hold the rules several programmes share).

Each guard reads the request's data (already merged with the step's data), never raises on
missing or ill-typed values, and returns one sentence per broken rule, naming the item a
coordinator has to fix. Parameters (field names, stage lists) let the five programmes reuse a
rule; they are pydantic models, so a typo in a workflow file is refused when it is loaded.
Importing this package registers every guard in `workflows.guard_api.GUARDS`.
"""

from workflows.guards import (
    agendas,
    co_organisers,
    event_dates,
    every_programme,
    international_workshop,
    internship,
    seminar,
    specialization_course,
)
from workflows.guards.agendas import STAGES, StageId
from workflows.guards.international_workshop import TIMING_SCENARIOS
from workflows.guards.internship import ADMISSION_CRITERIA, REPORT_PARTS
from workflows.guards.seminar import TOPIC_CRITERIA
from workflows.guards.specialization_course import FUNDED_BY_EMB, FUNDING_SOURCES

__all__ = [
    "ADMISSION_CRITERIA",
    "FUNDED_BY_EMB",
    "FUNDING_SOURCES",
    "REPORT_PARTS",
    "STAGES",
    "TIMING_SCENARIOS",
    "TOPIC_CRITERIA",
    "StageId",
    "agendas",
    "co_organisers",
    "event_dates",
    "every_programme",
    "international_workshop",
    "internship",
    "seminar",
    "specialization_course",
]
