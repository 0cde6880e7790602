"""The brochure's rules, as named guards the workflow files refer to.

Each guard reads the request's data (already merged with the step's data), never raises on
missing or ill-typed values, and returns one sentence per broken rule, naming the item a
coordinator has to fix. Parameters (field names, stage lists) let the five programmes reuse a
rule; they are pydantic models, so a typo in a workflow file is refused when it is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflows.guard_api import GUARDS, GuardContext

# ------------------------------------------------------------------ vocabulary

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

TIMING_SCENARIOS: dict[str, str] = {
    "before_elections": "before elections",
    "before_reform": "before a political-electoral reform",
    "authorities_replaced": "when electoral authorities are replaced",
    "other": "other moment of the electoral cycle",
}

ADMISSION_CRITERIA: dict[str, str] = {
    "new_functions": "(a) the EMB incorporates new functions",
    "programme_or_reform": "(b) the EMB must elaborate a programme, project or reform",
    "security_reliability": "(c) the EMB develops new mechanisms for safety and reliability",
}

TOPIC_CRITERIA: dict[str, str] = {
    "current_concerns": "(a) current concerns of EMBs for the state of democracy",
    "globalisation_technology": (
        "(b) changes in electoral systems driven by globalisation and technology"
    ),
    "democratic_culture": "(c) promoting democratic culture in civil society",
}

REPORT_PARTS: dict[str, str] = {
    "final_report_experience": "the account of the experience",
    "final_report_adaptations": "the aspects to be incorporated or adapted at the EMB",
    "final_report_recommendations": "the observations and recommendations on INE's work",
}

FUNDED_BY_EMB = "emb"
FUNDING_SOURCES = ("founders", FUNDED_BY_EMB)


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ------------------------------------------------------------------ small readers


def _text(value: Any) -> str:
    """A non-blank string, stripped; anything else is ''."""
    return value.strip() if isinstance(value, str) else ""


def _quoted(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else repr(value)


def _items(value: Any) -> list[Any] | None:
    """A list (or tuple) as a list; None when the value is missing or not a list."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return None


def _choices(value: Any) -> list[Any]:
    """One choice or a list of choices."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    return _items(value) or []


def _count(n: int, noun: str) -> str:
    """'1 speaker', '2 speakers', 'no speaker'."""
    if n == 0:
        return f"no {noun}"
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def _one_of(labels: Mapping[str, str]) -> str:
    return "; ".join(labels.values())


def _item_name(kind: str, index: int, item: Any, key: str) -> str:
    """'Agenda session 2 'Voter registry'' — 1-based, with the title when there is one."""
    title = _text(item.get(key)) if isinstance(item, Mapping) else ""
    return f"{kind} {index} '{title}'" if title else f"{kind} {index}"


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _choice_problems(
    value: Any, allowed: Mapping[str, str], what: str, field: str, at_least_one: str
) -> list[str]:
    chosen = _choices(value)
    if not chosen:
        return [f"No {what} has been recorded ({field}); {at_least_one}: {_one_of(allowed)}."]
    return [
        f"{_quoted(c)} is not a valid {what} ({field}); use one of: {', '.join(allowed)}."
        for c in chosen
        if not isinstance(c, str) or c not in allowed
    ]


# ------------------------------------------------------------------ every programme


class CostSharingParams(_Params):
    field: str = "cost_sharing"


@GUARDS.register("cost_sharing_complete", params=CostSharingParams)
def cost_sharing_complete(ctx: GuardContext) -> list[str]:
    """Every cost category has a payer allowed by CICIE's cost-sharing rules."""
    field = ctx.params.field
    matrix = ctx.data.get(field)
    if not isinstance(matrix, Mapping) or not matrix:
        return [
            f"The cost-sharing matrix ({field}) has not been filled in; set who pays each cost "
            f"category ({', '.join(ctx.catalogues.financing.categories)})."
        ]
    return ctx.catalogues.financing.payer_problems(dict(matrix))


class DatesParams(_Params):
    start: str = "event_start"
    end: str = "event_end"


@GUARDS.register("dates_set", params=DatesParams)
def dates_set(ctx: GuardContext) -> list[str]:
    """The event has a start and an end date, valid, the start not after the end."""
    reasons: list[str] = []
    parsed = {}
    for key, what in ((ctx.params.start, "start"), (ctx.params.end, "end")):
        raw = ctx.data.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            reasons.append(f"The {what} date of the event ({key}) has not been set.")
            continue
        value = _parse_date(raw)
        if value is None:
            reasons.append(
                f"The {what} date of the event ({key}) {_quoted(raw)} is not a valid date "
                "(YYYY-MM-DD)."
            )
        parsed[what] = value
    start, end = parsed.get("start"), parsed.get("end")
    if start is not None and end is not None and start > end:
        reasons.append(
            f"The event starts on {start.isoformat()} ({ctx.params.start}) but ends earlier, "
            f"on {end.isoformat()} ({ctx.params.end})."
        )
    return reasons


class ThemesParams(_Params):
    field: str = "themes"
    min_themes: int = Field(default=1, ge=1)


@GUARDS.register("themes_in_catalogue", params=ThemesParams)
def themes_in_catalogue(ctx: GuardContext) -> list[str]:
    """At least one theme is requested, and every theme is in the CICIE theme catalogue."""
    field, minimum = ctx.params.field, ctx.params.min_themes
    themes = _items(ctx.data.get(field))
    if not themes:
        return [
            f"No theme has been recorded ({field}); the request needs at least "
            f"{_count(minimum, 'theme')} from the CICIE theme catalogue."
        ]
    reasons: list[str] = []
    if len(themes) < minimum:
        reasons.append(
            f"Only {_count(len(themes), 'theme')} recorded ({field}); at least {minimum} "
            "are needed."
        )
    for i, theme in enumerate(themes, start=1):
        if not isinstance(theme, str):
            reasons.append(f"Theme {i} ({field}) is not a theme id: {theme!r}.")
        elif theme not in ctx.catalogues.themes:
            reasons.append(f"Theme {i} '{theme}' ({field}) is not in the CICIE theme catalogue.")
    return reasons


class FinalReportParams(_Params):
    fields: list[str] = Field(default_factory=lambda: list(REPORT_PARTS), min_length=1)


@GUARDS.register("final_report_complete", params=FinalReportParams)
def final_report_complete(ctx: GuardContext) -> list[str]:
    """The final report tells the experience, what will be adapted, and advice for INE."""
    return [
        f"The final report lacks {REPORT_PARTS.get(name, repr(name))} ({name})."
        for name in ctx.params.fields
        if not _text(ctx.data.get(name))
    ]


# ------------------------------------------------------------------ agendas and speakers


class MethodologyParams(_Params):
    field: str = "agenda_sessions"
    stages: list[StageId] = Field(min_length=1)
    stages_key: str = "stages"
    title_key: str = "title"
    scope: Literal["each_session", "programme"] = "each_session"


@GUARDS.register("methodology_complete", params=MethodologyParams)
def methodology_complete(ctx: GuardContext) -> list[str]:
    """Every session (or the programme as a whole) runs each stage of the methodology."""
    p = ctx.params
    sessions = _items(ctx.data.get(p.field))
    if not sessions:
        return [f"No agenda session has been recorded ({p.field})."]

    def stages_of(session: Any) -> set[str]:
        raw = session.get(p.stages_key) if isinstance(session, Mapping) else None
        return {s for s in _choices(raw) if isinstance(s, str)}

    if p.scope == "programme":
        covered = set().union(*(stages_of(s) for s in sessions))
        return [
            f"No agenda session ({p.field}) covers the methodology stage '{STAGES[stage]}'."
            for stage in p.stages
            if stage not in covered
        ]
    reasons: list[str] = []
    for i, session in enumerate(sessions, start=1):
        name = _item_name("Agenda session", i, session, p.title_key)
        has = stages_of(session)
        reasons.extend(
            f"{name} lacks the methodology stage '{STAGES[stage]}'."
            for stage in p.stages
            if stage not in has
        )
    return reasons


def _named_people(value: Any) -> tuple[int, list[int]]:
    """(how many entries have a name, 1-based positions of entries without one)."""
    people = _items(value) or []
    named, unnamed = 0, []
    for i, person in enumerate(people, start=1):
        if isinstance(person, Mapping) and _text(person.get("name")):
            named += 1
        else:
            unnamed.append(i)
    return named, unnamed


class SessionSpeakersParams(_Params):
    field: str = "agenda_sessions"
    speakers_key: str = "speakers"
    title_key: str = "title"
    min_speakers: int = Field(default=1, ge=1)


@GUARDS.register("sessions_have_speakers", params=SessionSpeakersParams)
def sessions_have_speakers(ctx: GuardContext) -> list[str]:
    """Every agenda session has at least one named speaker."""
    p = ctx.params
    sessions = _items(ctx.data.get(p.field))
    if not sessions:
        return [f"No agenda session has been recorded ({p.field})."]
    reasons: list[str] = []
    for i, session in enumerate(sessions, start=1):
        name = _item_name("Agenda session", i, session, p.title_key)
        raw = session.get(p.speakers_key) if isinstance(session, Mapping) else None
        named, unnamed = _named_people(raw)
        reasons.extend(f"Speaker {j} of {name} has no name." for j in unnamed)
        if named < p.min_speakers:
            reasons.append(
                f"{name} has {_count(named, 'speaker')}; assign at least {p.min_speakers}."
            )
    return reasons


class SpeakersParams(_Params):
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
            f"{_count(named, 'speaker').capitalize()} confirmed ({p.field}); invite at least "
            f"{_count(p.min_speakers, 'expert')} to deliberate the topic."
        )
    return reasons


# ------------------------------------------------------------------ international workshop


class TimingParams(_Params):
    field: str = "timing_scenario"


@GUARDS.register("workshop_timing_recorded", params=TimingParams)
def workshop_timing_recorded(ctx: GuardContext) -> list[str]:
    """The intake records when in the electoral cycle the workshop is asked for."""
    field = ctx.params.field
    value = ctx.data.get(field)
    if isinstance(value, str) or value is None:
        return _choice_problems(value, TIMING_SCENARIOS, "timing scenario", field, "choose one")
    return [
        f"The timing scenario ({field}) must be a single choice, not {_quoted(value)}; "
        f"use one of: {', '.join(TIMING_SCENARIOS)}."
    ]


# ------------------------------------------------------------------ internship


class AdmissionParams(_Params):
    field: str = "admission_criteria"


@GUARDS.register("internship_admission_criterion", params=AdmissionParams)
def internship_admission_criterion(ctx: GuardContext) -> list[str]:
    """The internship meets at least one of the brochure's admission criteria (a, b, c)."""
    field = ctx.params.field
    return _choice_problems(
        ctx.data.get(field),
        ADMISSION_CRITERIA,
        "internship admission criterion",
        field,
        "the EMB must meet at least one of",
    )


# ------------------------------------------------------------------ specialization course


PartnerKind = Literal["founder", "associate", "national"]


def _associate_only() -> list[PartnerKind]:
    return ["associate"]


class RegionalPartnerParams(_Params):
    region_field: str = "region"
    partner_field: str = "partner_institution"
    kinds: list[PartnerKind] = Field(default_factory=_associate_only, min_length=1)


@GUARDS.register("regional_partner_set", params=RegionalPartnerParams)
def regional_partner_set(ctx: GuardContext) -> list[str]:
    """The course has a region and a partner institution of the right kind to co-organise it."""
    p = ctx.params
    reasons: list[str] = []
    if not _text(ctx.data.get(p.region_field)):
        reasons.append(f"The region of the course ({p.region_field}) has not been set.")
    kinds = " or ".join(p.kinds)
    a_kinds = _a(kinds)
    code = _text(ctx.data.get(p.partner_field))
    if not code:
        reasons.append(
            f"No partner institution ({p.partner_field}) has been set; the course is "
            f"co-organised with {a_kinds} partner from the partner catalogue."
        )
        return reasons
    partner = ctx.catalogues.partners.get(code)
    if partner is None:
        reasons.append(
            f"Partner institution '{code}' ({p.partner_field}) is not in the partner catalogue."
        )
    elif partner.kind not in p.kinds:
        reasons.append(
            f"Partner institution '{code}' ({partner.name}) is {_a(partner.kind)} member, not "
            f"{a_kinds} partner; choose {a_kinds} partner to co-organise the course."
        )
    return reasons


class FundedParticipantsParams(_Params):
    field: str = "participants"
    max_funded_per_emb: int = Field(default=1, ge=0)
    max_per_emb: int | None = Field(default=None, ge=1)


@GUARDS.register("one_funded_participant_per_emb", params=FundedParticipantsParams)
def one_funded_participant_per_emb(ctx: GuardContext) -> list[str]:
    """The founders fund one participant per EMB; a second only when the EMB pays in full."""
    p = ctx.params
    people = _items(ctx.data.get(p.field))
    if not people:
        return [f"No participant has been registered ({p.field})."]
    reasons: list[str] = []
    by_emb: dict[tuple[str, str], list[tuple[str, bool]]] = {}
    for i, person in enumerate(people, start=1):
        name = _item_name("Participant", i, person, "name")
        if not isinstance(person, Mapping):
            reasons.append(f"{name} ({p.field}) is not a participant entry.")
            continue
        emb, country = _text(person.get("emb")), _text(person.get("country"))
        if not emb:
            reasons.append(f"{name} does not say which EMB they come from (emb).")
            continue
        funded_by = person.get("funded_by")
        if funded_by not in FUNDING_SOURCES:
            reasons.append(
                f"{name} has no valid funding source (funded_by {_quoted(funded_by)}); "
                f"use one of: {', '.join(FUNDING_SOURCES)}."
            )
            continue
        label = _text(person.get("name")) or f"participant {i}"
        by_emb.setdefault((emb, country), []).append((label, funded_by != FUNDED_BY_EMB))
    for (emb, country), members in by_emb.items():
        where = f"EMB '{emb}'" + (f" ({country})" if country else "")
        funded = [label for label, by_founders in members if by_founders]
        if len(funded) > p.max_funded_per_emb:
            reasons.append(
                f"{where} has {len(funded)} participants funded by the founders "
                f"({', '.join(funded)}); only {p.max_funded_per_emb} is funded per EMB, so "
                "mark any other as funded_by: emb if the EMB absorbs the full cost."
            )
        if p.max_per_emb is not None and len(members) > p.max_per_emb:
            reasons.append(
                f"{where} has {len(members)} participants; at most {p.max_per_emb} per EMB "
                "may take part."
            )
    return reasons


# ------------------------------------------------------------------ seminar


class TopicCriterionParams(_Params):
    field: str = "topic_criterion"


@GUARDS.register("seminar_topic_criterion", params=TopicCriterionParams)
def seminar_topic_criterion(ctx: GuardContext) -> list[str]:
    """The seminar's topic was selected under one of the brochure's criteria (a, b, c)."""
    field = ctx.params.field
    return _choice_problems(
        ctx.data.get(field),
        TOPIC_CRITERIA,
        "topic-selection criterion",
        field,
        "the topic must meet one of",
    )
