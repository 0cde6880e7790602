"""Agendas and speakers: the methodology stages every session runs (workshops, courses) and
the named speakers a programme needs (workshops, internships, technical assistance, seminars)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from i18n import Text
from workflows.guard_api import GUARDS, GuardContext
from workflows.guards.reading import Params, choices, item_name, items, text

STAGES: dict[str, Text] = {
    # International workshop: the 3-stage methodology of every agenda session.
    "emb_challenges": Text("the visiting EMB's challenges on the subject"),
    "mexican_experience": Text("the Mexican experience"),
    "international_comparison": Text("international comparative perspective"),
    # Specialization course: the 5-stage methodology of the course.
    "topic_presentations": Text("topic presentations (legal, political and technical)"),
    "plenary_discussion": Text("plenary discussion"),
    "team_work": Text("team work on common problems"),
    "country_situations": Text("each country's critical situation"),
    "recommendations_conclusions": Text("recommendations and conclusions"),
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


def no_sessions(ctx: GuardContext, field: str) -> Text:
    """The same sentence from every guard that needs sessions, so a transition with several
    such guards says it once (the engine drops repeated reasons)."""
    return Text("No agenda session has been recorded in “%(field)s”.", field=ctx.label(field))


@GUARDS.register("methodology_complete", params=MethodologyParams)
def methodology_complete(ctx: GuardContext) -> list[Text]:
    """Every session (or the programme as a whole) runs each stage of the methodology."""
    p = ctx.params
    sessions = items(ctx.data.get(p.field))
    if not sessions:
        return [no_sessions(ctx, p.field)]

    def stages_of(session: Any) -> set[str]:
        raw = session.get(p.stages_key) if isinstance(session, Mapping) else None
        return {s for s in choices(raw) if isinstance(s, str)}

    if p.scope == "programme":
        covered = set().union(*(stages_of(s) for s in sessions))
        return [
            Text(
                "No session of “%(field)s” covers the methodology stage “%(stage)s”.",
                field=ctx.label(p.field),
                stage=STAGES[stage],
            )
            for stage in p.stages
            if stage not in covered
        ]
    reasons: list[Text] = []
    for i, session in enumerate(sessions, start=1):
        name = item_name("session", i, session, p.title_key)
        has = stages_of(session)
        reasons.extend(
            Text(
                "%(session)s lacks the methodology stage “%(stage)s”.",
                session=name,
                stage=STAGES[stage],
            )
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
def sessions_have_speakers(ctx: GuardContext) -> list[Text]:
    """Every agenda session has at least one named speaker."""
    p = ctx.params
    sessions = items(ctx.data.get(p.field))
    if not sessions:
        return [no_sessions(ctx, p.field)]
    reasons: list[Text] = []
    for i, session in enumerate(sessions, start=1):
        name = item_name("session", i, session, p.title_key)
        raw = session.get(p.speakers_key) if isinstance(session, Mapping) else None
        named, unnamed = _named_people(raw)
        reasons.extend(
            Text("%(session)s: speaker %(number)s has no name.", session=name, number=j)
            for j in unnamed
        )
        if named < p.min_speakers:
            reasons.append(_too_few_in_session(name, named, p.min_speakers))
    return reasons


def _too_few_in_session(name: Text, named: int, minimum: int) -> Text:
    if named == 0 and minimum == 1:
        return Text("%(session)s has no named speaker: add at least one speaker.", session=name)
    if named == 0:
        return Text(
            "%(session)s has no named speaker; assign at least %(minimum)s.",
            session=name,
            minimum=minimum,
        )
    if named == 1:
        return Text(
            "%(session)s has only one named speaker; assign at least %(minimum)s.",
            session=name,
            minimum=minimum,
        )
    return Text(
        "%(session)s has %(count)s named speakers; assign at least %(minimum)s.",
        session=name,
        count=named,
        minimum=minimum,
    )


class SpeakersParams(Params):
    field: str = "speakers"
    min_speakers: int = Field(default=1, ge=1)


@GUARDS.register("speakers_listed", params=SpeakersParams)
def speakers_listed(ctx: GuardContext) -> list[Text]:
    """The programme has at least one named speaker (expert) confirmed."""
    p = ctx.params
    label = ctx.label(p.field)
    named, unnamed = _named_people(ctx.data.get(p.field))
    reasons = [
        Text("Speaker %(number)s of “%(field)s” has no name.", number=j, field=label)
        for j in unnamed
    ]
    if named >= p.min_speakers:
        return reasons
    if named == 0 and p.min_speakers == 1:
        reasons.append(
            Text(
                "No speaker has been confirmed in “%(field)s”; invite at least one expert to "
                "deliberate the topic.",
                field=label,
            )
        )
    elif named == 0:
        reasons.append(
            Text(
                "No speaker has been confirmed in “%(field)s”; invite at least %(minimum)s "
                "experts to deliberate the topic.",
                field=label,
                minimum=p.min_speakers,
            )
        )
    elif named == 1:
        reasons.append(
            Text(
                "Only one speaker has been confirmed in “%(field)s”; invite at least "
                "%(minimum)s experts to deliberate the topic.",
                field=label,
                minimum=p.min_speakers,
            )
        )
    else:
        reasons.append(
            Text(
                "Only %(count)s speakers have been confirmed in “%(field)s”; invite at least "
                "%(minimum)s experts to deliberate the topic.",
                field=label,
                count=named,
                minimum=p.min_speakers,
            )
        )
    return reasons
