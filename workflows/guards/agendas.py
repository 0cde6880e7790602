"""Agendas and speakers: the methodology stages every session runs (workshops, courses) and
the named speakers a programme needs (workshops, internships, technical assistance, seminars)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from workflows.guard_api import GUARDS, GuardContext
from workflows.guards.reading import Params, choices, count, item_name, items, text

STAGES: dict[str, str] = {
    # International workshop: the 3-stage methodology of every agenda session.
    "emb_challenges": "the visiting EMB's challenges on the subject",
    "mexican_experience": "the Mexican experience",
    "international_comparison": "international comparative perspective",
    # Specialization course: the 5-stage methodology of the course.
    "topic_presentations": "topic presentations (legal, political and technical)",
    "plenary_discussion": "plenary discussion",
    "team_work": "team work on common problems",
    "country_situations": "each country's critical situation",
    "recommendations_conclusions": "recommendations and conclusions",
}
StageId = Literal[
    "emb_challenges",
    "mexican_experience",
    "international_comparison",
    "topic_presentations",
    "plenary_discussion",
    "team_work",
    "country_situations",
    "recommendations_conclusions",
]


class MethodologyParams(Params):
    field: str = "agenda_sessions"
    stages: list[StageId] = Field(min_length=1)
    stages_key: str = "stages"
    title_key: str = "title"
    scope: Literal["each_session", "programme"] = "each_session"


@GUARDS.register("methodology_complete", params=MethodologyParams)
def methodology_complete(ctx: GuardContext) -> list[str]:
    """Every session (or the programme as a whole) runs each stage of the methodology."""
    p = ctx.params
    sessions = items(ctx.data.get(p.field))
    if not sessions:
        return [f"No agenda session has been recorded ({p.field})."]

    def stages_of(session: Any) -> set[str]:
        raw = session.get(p.stages_key) if isinstance(session, Mapping) else None
        return {s for s in choices(raw) if isinstance(s, str)}

    if p.scope == "programme":
        covered = set().union(*(stages_of(s) for s in sessions))
        return [
            f"No agenda session ({p.field}) covers the methodology stage '{STAGES[stage]}'."
            for stage in p.stages
            if stage not in covered
        ]
    reasons: list[str] = []
    for i, session in enumerate(sessions, start=1):
        name = item_name("Agenda session", i, session, p.title_key)
        has = stages_of(session)
        reasons.extend(
            f"{name} lacks the methodology stage '{STAGES[stage]}'."
            for stage in p.stages
            if stage not in has
        )
    return reasons


def _named_people(value: Any) -> tuple[int, list[int]]:
    """(how many entries have a name, 1-based positions of entries without one)."""
    people = items(value) or []
    named, unnamed = 0, []
    for i, person in enumerate(people, start=1):
        if isinstance(person, Mapping) and text(person.get("name")):
            named += 1
        else:
            unnamed.append(i)
    return named, unnamed


class SessionSpeakersParams(Params):
    field: str = "agenda_sessions"
    speakers_key: str = "speakers"
    title_key: str = "title"
    min_speakers: int = Field(default=1, ge=1)


@GUARDS.register("sessions_have_speakers", params=SessionSpeakersParams)
def sessions_have_speakers(ctx: GuardContext) -> list[str]:
    """Every agenda session has at least one named speaker."""
    p = ctx.params
    sessions = items(ctx.data.get(p.field))
    if not sessions:
        return [f"No agenda session has been recorded ({p.field})."]
    reasons: list[str] = []
    for i, session in enumerate(sessions, start=1):
        name = item_name("Agenda session", i, session, p.title_key)
        raw = session.get(p.speakers_key) if isinstance(session, Mapping) else None
        named, unnamed = _named_people(raw)
        reasons.extend(f"Speaker {j} of {name} has no name." for j in unnamed)
        if named < p.min_speakers:
            reasons.append(
                f"{name} has {count(named, 'speaker')}; assign at least {p.min_speakers}."
            )
    return reasons


class SpeakersParams(Params):
    field: str = "speakers"
    min_speakers: int = Field(default=1, ge=1)


@GUARDS.register("speakers_listed", params=SpeakersParams)
def speakers_listed(ctx: GuardContext) -> list[str]:
    """The programme has at least one named speaker (expert) confirmed."""
    p = ctx.params
    named, unnamed = _named_people(ctx.data.get(p.field))
    reasons = [f"Speaker {j} ({p.field}) has no name." for j in unnamed]
    if named < p.min_speakers:
        reasons.append(
            f"{count(named, 'speaker').capitalize()} confirmed ({p.field}); invite at least "
            f"{count(p.min_speakers, 'expert')} to deliberate the topic."
        )
    return reasons
