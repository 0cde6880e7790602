"""The brochure's rules, exercised through the guard registry with the real catalogues and the
real workflows' field labels: each reason is a sentence said in the reader's language, naming
fields by their labels, never by their codes."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

import workflows.guards  # noqa: F401  (fills the registry)
from config.catalogues import load_catalogues
from i18n import LANGUAGES, Text
from workflows.definition import FieldDef
from workflows.guard_api import GUARDS, GuardContext, RequestFacts
from workflows.loader import WORKFLOW_DIR, load_file

CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # a snake_case code such as admission_criteria


def _fields() -> dict[str, FieldDef]:
    """The fields of the bundled programmes (the first definition of a name wins)."""
    found: dict[str, FieldDef] = {}
    for name in ("international_workshop", "internship", "specialization_course", "seminar"):
        for key, spec in load_file(WORKFLOW_DIR / f"{name}.yaml").fields.items():
            found.setdefault(key, spec)
    return found


FIELDS = _fields()

WORKSHOP_STAGES = ["emb_challenges", "mexican_experience", "international_comparison"]
COURSE_STAGES = [
    "topic_presentations",
    "plenary_discussion",
    "team_work",
    "country_situations",
    "recommendations_conclusions",
]
FULL_MATRIX = {
    "lodging_meals": "founders",
    "local_transport": "founders",
    "organisation_materials": "founders",
    "specialists": "founders",
    "interpretation": "not_needed",
    "delegates_air_tickets": "emb",
    "international_experts": "associate_partner",
}


def reasons_of(name: str, data: Any, params: Any = None) -> list[Text]:
    """Run a registered guard as the engine would: parameters parsed by its model, the
    workflow's fields at hand."""
    spec = GUARDS.get(name)
    assert spec is not None, f"guard {name!r} is not registered"
    parsed, problems = spec.parse_params(params)
    assert problems == []
    ctx = GuardContext(
        data=data,
        params=parsed,
        catalogues=load_catalogues(),
        request=RequestFacts(id=1, programme="test", state="intake"),
        fields=FIELDS,
    )
    reasons = spec.fn(ctx)
    assert isinstance(reasons, list)
    assert all(isinstance(r, Text) for r in reasons)
    return reasons


def check(name: str, data: Any, params: Any = None) -> list[str]:
    """The guard's reasons in English, each a sentence; said in every language too."""
    reasons = reasons_of(name, data, params)
    for reason in reasons:
        for language in LANGUAGES:
            assert reason.say(language).strip()
    english = [r.say("en") for r in reasons]
    assert all(r.endswith(".") for r in english), english
    return english


def session(title: str, stages: list[str], speakers: list[str] | None = None) -> dict[str, Any]:
    names = ["Laura Gómez"] if speakers is None else speakers
    return {"title": title, "stages": stages, "speakers": [{"name": n} for n in names]}


# ------------------------------------------------------------------ registry


def test_every_brochure_rule_is_registered() -> None:
    assert set(GUARDS.names()) >= {
        "cost_sharing_complete",
        "dates_set",
        "themes_in_catalogue",
        "final_report_complete",
        "methodology_complete",
        "sessions_have_speakers",
        "speakers_listed",
        "workshop_timing_recorded",
        "internship_admission_criterion",
        "regional_partner_set",
        "one_funded_participant_per_emb",
        "seminar_topic_criterion",
    }


def test_every_guard_has_a_description() -> None:
    for name in GUARDS.names():
        assert GUARDS.get(name).description, name


PARAMS: dict[str, Any] = {"methodology_complete": {"stages": WORKSHOP_STAGES}}
GARBAGE = [None, 0, 3.5, True, "text", "", [], [1, None, "x"], {}, {"a": [1]}, date(2016, 1, 1)]


@pytest.mark.parametrize("name", sorted(GUARDS.names()))
@pytest.mark.parametrize("value", GARBAGE, ids=repr)
def test_guard_gives_reasons_not_exceptions_on_ill_typed_data(name: str, value: Any) -> None:
    fields = [
        "cost_sharing", "event_start", "event_end", "themes", "agenda_sessions", "speakers",
        "timing_scenario", "admission_criteria", "region", "partner_institution",
        "participants", "topic_criterion", "final_report_experience",
        "final_report_adaptations", "final_report_recommendations",
    ]  # fmt: skip
    check(name, {f: value for f in fields}, PARAMS.get(name))
    check(name, {f: [value, {"title": value, "stages": value, "speakers": value}] for f in fields},
          PARAMS.get(name))  # fmt: skip


@pytest.mark.parametrize("name", sorted(GUARDS.names()))
def test_guard_refuses_a_request_with_no_data(name: str) -> None:
    assert check(name, {}, PARAMS.get(name)) != []


# ------------------------------------------------------------------ cost sharing


def test_cost_sharing_following_the_rules_holds() -> None:
    assert check("cost_sharing_complete", {"cost_sharing": FULL_MATRIX}) == []


def test_missing_cost_sharing_is_refused() -> None:
    (reason,) = check("cost_sharing_complete", {})
    assert reason.startswith("“Cost sharing” has not been filled in")
    assert "Lodging and meals of the visiting delegation; Local transport" in reason
    assert "lodging_meals" not in reason


def test_category_without_payer_is_named() -> None:
    matrix = {k: v for k, v in FULL_MATRIX.items() if k != "interpretation"}
    assert check("cost_sharing_complete", {"cost_sharing": matrix}) == [
        "No payer set for “Simultaneous interpretation”."
    ]


def test_emb_cannot_be_charged_for_lodging() -> None:
    (reason,) = check(
        "cost_sharing_complete", {"cost_sharing": {**FULL_MATRIX, "lodging_meals": "emb"}}
    )
    assert reason.startswith(
        "“Lodging and meals of the visiting delegation” cannot be paid by “Visiting electoral "
        "authority” under CICIE's cost-sharing rules; it may be paid by Founders"
    )


def test_founders_do_not_pay_delegates_air_tickets() -> None:
    matrix = {**FULL_MATRIX, "delegates_air_tickets": "founders"}
    (reason,) = check("cost_sharing_complete", {"cost_sharing": matrix})
    assert "Delegates' air tickets to Mexico City" in reason
    assert "Visiting electoral authority" in reason


def test_international_experts_may_be_paid_by_founders_or_left_out() -> None:
    for payer in ("founders", "associate_partner", "not_needed"):
        matrix = {**FULL_MATRIX, "international_experts": payer}
        assert check("cost_sharing_complete", {"cost_sharing": matrix}) == []


def test_unknown_cost_category_is_named() -> None:
    matrix = {**FULL_MATRIX, "per_diem": "founders"}
    assert check("cost_sharing_complete", {"cost_sharing": matrix}) == [
        "“per_diem” is not a cost category."
    ]


def test_cost_sharing_field_name_is_a_parameter() -> None:
    assert check("cost_sharing_complete", {"costs": FULL_MATRIX}, {"field": "costs"}) == []


# ------------------------------------------------------------------ dates


def test_valid_dates_hold() -> None:
    assert check("dates_set", {"event_start": "2016-04-18", "event_end": "2016-04-22"}) == []
    assert check("dates_set", {"event_start": "2016-05-05", "event_end": "2016-05-05"}) == []


def test_date_objects_are_accepted() -> None:
    assert (
        check("dates_set", {"event_start": date(2016, 4, 18), "event_end": date(2016, 4, 22)}) == []
    )


def test_missing_end_date_is_refused() -> None:
    assert check("dates_set", {"event_start": "2016-04-18"}) == ["“End date” has not been set."]


def test_invalid_start_date_is_named() -> None:
    (reason,) = check("dates_set", {"event_start": "2016-13-01", "event_end": "2016-04-22"})
    assert reason == "“Start date” is not a valid date: “2016-13-01” (expected YYYY-MM-DD)."


def test_event_ending_before_it_starts_is_refused() -> None:
    (reason,) = check("dates_set", {"event_start": "2016-10-07", "event_end": "2016-10-05"})
    assert reason == (
        "The event starts on October 7, 2016 (“Start date”) but ends earlier, on October 5, 2016 "
        "(“End date”)."
    )
    (spanish,) = reasons_of("dates_set", {"event_start": "2016-10-07", "event_end": "2016-10-05"})
    assert "7 de octubre de 2016" in spanish.say("es")


# ------------------------------------------------------------------ themes


def test_catalogue_themes_hold() -> None:
    data = {"themes": ["electoral_cycle.voter_registry", "specialisation.electronic_voting"]}
    assert check("themes_in_catalogue", data) == []


def test_request_without_themes_is_refused() -> None:
    (reason,) = check("themes_in_catalogue", {"themes": []})
    assert reason.startswith("No theme has been recorded in “Requested themes”")


def test_unknown_theme_is_named() -> None:
    data = {"themes": ["electoral_cycle.voter_registry", "voter_id_badging"]}
    assert check("themes_in_catalogue", data) == [
        "Theme 2 of “Requested themes” (“voter_id_badging”) is not in the CICIE theme catalogue."
    ]


# ------------------------------------------------------------------ final report

REPORT = {
    "final_report_experience": "We followed a record from registration to the ID card.",
    "final_report_adaptations": "A protocol for biometric duplicates.",
    "final_report_recommendations": "Publish deduplication thresholds in English.",
}


def test_complete_final_report_holds() -> None:
    assert check("final_report_complete", REPORT) == []


def test_final_report_without_adaptations_is_refused() -> None:
    data = {**REPORT, "final_report_adaptations": "   "}
    assert check("final_report_complete", data) == [
        "The final report lacks “Aspects to be incorporated or adapted at the institution”."
    ]


def test_final_report_without_recommendations_to_ine_is_refused() -> None:
    data = {k: v for k, v in REPORT.items() if k != "final_report_recommendations"}
    (reason,) = check("final_report_complete", data)
    assert reason == "The final report lacks “Observations and recommendations on INE's work”."


# ------------------------------------------------------------------ methodology

WORKSHOP = {"field": "agenda_sessions", "stages": WORKSHOP_STAGES}
COURSE = {"field": "agenda_sessions", "stages": COURSE_STAGES, "scope": "programme"}


def test_sessions_with_the_three_stages_hold() -> None:
    data = {"agenda_sessions": [session("Voter registry", WORKSHOP_STAGES)]}
    assert check("methodology_complete", data, WORKSHOP) == []


def test_session_without_international_stage_is_refused() -> None:
    data = {
        "agenda_sessions": [
            session("Electoral calendar", WORKSHOP_STAGES),
            session("Voter registry", ["emb_challenges", "mexican_experience"]),
        ]
    }
    assert check("methodology_complete", data, WORKSHOP) == [
        "Agenda session 2 “Voter registry” lacks the methodology stage "
        "“international comparative perspective”."
    ]


def test_session_without_stages_lacks_all_three() -> None:
    data = {"agenda_sessions": [{"title": "Preliminary results"}]}
    reasons = check("methodology_complete", data, WORKSHOP)
    assert len(reasons) == 3
    assert all(r.startswith("Agenda session 1 “Preliminary results” lacks") for r in reasons)


def test_workshop_without_sessions_is_refused() -> None:
    assert check("methodology_complete", {}, WORKSHOP) == [
        "No agenda session has been recorded in “Agenda sessions”."
    ]


def test_course_covering_the_five_stages_holds() -> None:
    data = {"agenda_sessions": [session(s, [s]) for s in COURSE_STAGES]}
    assert check("methodology_complete", data, COURSE) == []


def test_course_without_team_work_is_refused() -> None:
    stages = [s for s in COURSE_STAGES if s != "team_work"]
    data = {"agenda_sessions": [session("Day 1", stages[:2]), session("Day 2", stages[2:])]}
    assert check("methodology_complete", data, COURSE) == [
        "No session of “Agenda sessions” covers the methodology stage "
        "“team work on common problems”."
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"field": "agenda_sessions"},
        {"stages": []},
        {"stages": ["emb_challenge"]},
        {"stages": WORKSHOP_STAGES, "scope": "everything"},
        {"stages": WORKSHOP_STAGES, "stagez": 1},
    ],
)
def test_methodology_parameters_with_a_typo_are_refused_at_load(params: dict[str, Any]) -> None:
    _, problems = GUARDS.get("methodology_complete").parse_params(params)
    assert problems
    assert all(p.startswith("guard 'methodology_complete' parameter") for p in problems)


# ------------------------------------------------------------------ speakers


def test_session_without_speaker_is_refused() -> None:
    data = {"agenda_sessions": [session("Voter registry", WORKSHOP_STAGES, speakers=[])]}
    assert check("sessions_have_speakers", data) == [
        "Agenda session 1 “Voter registry” has no named speaker: add at least one speaker."
    ]


def test_speaker_without_name_is_named() -> None:
    data = {
        "agenda_sessions": [
            {"title": "Voter registry", "speakers": [{"name": "Laura Gómez"}, {"name": " "}]}
        ]
    }
    assert check("sessions_have_speakers", data) == [
        "Agenda session 1 “Voter registry”: speaker 2 has no name."
    ]


def test_sessions_with_speakers_hold() -> None:
    data = {"agenda_sessions": [session("Voter registry", [], speakers=["Laura", "Daniel"])]}
    assert check("sessions_have_speakers", data) == []


def test_seminar_without_speakers_is_refused() -> None:
    (reason,) = check("speakers_listed", {"speakers": []})
    assert reason == (
        "No speaker has been confirmed in “Speakers”; invite at least one expert to deliberate "
        "the topic."
    )


def test_seminar_with_a_speaker_holds() -> None:
    data = {"speakers": [{"name": "Patricia Aguilar", "institution": "UNAM"}]}
    assert check("speakers_listed", data) == []


# ------------------------------------------------------------------ workshop timing


@pytest.mark.parametrize(
    "scenario", ["before_elections", "before_reform", "authorities_replaced", "other"]
)
def test_recorded_timing_scenario_holds(scenario: str) -> None:
    assert check("workshop_timing_recorded", {"timing_scenario": scenario}) == []


def test_intake_without_timing_scenario_is_refused() -> None:
    (reason,) = check("workshop_timing_recorded", {})
    assert reason.startswith("“Timing in the electoral cycle” has not been recorded; choose")
    assert "before a political-electoral reform" in reason


def test_unknown_timing_scenario_is_named() -> None:
    (reason,) = check("workshop_timing_recorded", {"timing_scenario": "after_elections"})
    assert reason.startswith(
        "“after_elections” is not a valid choice for “Timing in the electoral cycle”"
    )


def test_several_timing_scenarios_may_overlap() -> None:
    """Issue 14: the moments overlap (a workshop before elections and before a reform)."""
    data = {"timing_scenario": ["before_elections", "before_reform"]}
    assert check("workshop_timing_recorded", data) == []


# ------------------------------------------------------------------ internship admission


def test_internship_meeting_one_criterion_holds() -> None:
    assert check("internship_admission_criterion", {"admission_criteria": ["new_functions"]}) == []
    assert (
        check("internship_admission_criterion", {"admission_criteria": "programme_or_reform"}) == []
    )


def test_internship_without_admission_criterion_is_refused() -> None:
    (reason,) = check("internship_admission_criterion", {"admission_criteria": []})
    assert reason.startswith("“Admission criteria” has not been recorded")
    assert "(c) the EMB develops new mechanisms for safety and reliability" in reason


def test_unknown_admission_criterion_is_named() -> None:
    data = {"admission_criteria": ["security_reliability", "d"]}
    (reason,) = check("internship_admission_criterion", data)
    assert reason.startswith("“d” is not a valid choice for “Admission criteria”")


# ------------------------------------------------------------------ specialization course


def test_course_with_region_and_associate_partner_holds() -> None:
    data = {"region": "latin_america", "partner_institution": "OAS"}
    assert check("regional_partner_set", data) == []


def test_course_without_region_or_partner_is_refused() -> None:
    reasons = check("regional_partner_set", {})
    assert reasons[0] == "“Region” has not been set."
    assert reasons[1].startswith("“Co-organising institutions” has not been set")


def test_founder_alone_is_not_a_regional_partner() -> None:
    (reason,) = check("regional_partner_set", {"region": "africa", "partner_institution": "INE"})
    assert reason == (
        "None of the institutions in “Co-organising institutions” is a regional partner; the "
        "course is co-organised with an associate member of the partner catalogue."
    )


def test_unknown_partner_is_named() -> None:
    data = {"region": "europe", "partner_institution": "OSCE_ODIHR"}
    assert check("regional_partner_set", data) == [
        "“OSCE_ODIHR” (“Co-organising institutions”) is not in the partner catalogue."
    ]


def participant(name: str, emb: str, country: str, funded_by: str | None) -> dict[str, Any]:
    return {"name": name, "emb": emb, "country": country, "funded_by": funded_by}


def test_one_funded_participant_per_emb_holds() -> None:
    data = {
        "participants": [
            participant("Gabriela Solano", "TSE", "CR", "founders"),
            participant("Camilo Restrepo", "CNE", "CO", "founders"),
        ]
    }
    assert check("one_funded_participant_per_emb", data) == []


def test_second_participant_paid_by_the_emb_holds() -> None:
    data = {
        "participants": [
            participant("Gabriela Solano", "TSE", "CR", "founders"),
            participant("Andrés Quesada", "TSE", "CR", "emb"),
        ]
    }
    assert check("one_funded_participant_per_emb", data) == []


def test_second_founder_funded_participant_of_an_emb_is_refused() -> None:
    data = {
        "participants": [
            participant("Gabriela Solano", "TSE", "CR", "founders"),
            participant("Camilo Restrepo", "CNE", "CO", "founders"),
            participant("Andrés Quesada", "TSE", "CR", "founders"),
        ]
    }
    (reason,) = check("one_funded_participant_per_emb", data)
    assert reason == (
        "Participants of EMB “TSE” (Costa Rica) funded by the founders: 2 (Gabriela Solano and "
        "Andrés Quesada); the founders fund 1 per EMB, so set “Funded by” to “the EMB” for any "
        "other whose EMB covers the full cost."
    )


def test_same_emb_name_in_two_countries_counts_separately() -> None:
    data = {
        "participants": [
            participant("Gabriela Solano", "TSE", "CR", "founders"),
            participant("Silvia Ajú", "TSE", "GT", "founders"),
        ]
    }
    assert check("one_funded_participant_per_emb", data) == []


def test_third_participant_of_an_emb_is_refused_when_capped() -> None:
    data = {
        "participants": [
            participant("Gabriela Solano", "TSE", "CR", "founders"),
            participant("Andrés Quesada", "TSE", "CR", "emb"),
            participant("Lucía Mora", "TSE", "CR", "emb"),
        ]
    }
    assert check("one_funded_participant_per_emb", data, {"max_per_emb": 2}) == [
        "EMB “TSE” (Costa Rica) has 3 participants; at most 2 per EMB may take part."
    ]


def test_participant_without_emb_or_funding_is_named() -> None:
    data = {
        "participants": [
            {"name": "Rubén Castillo", "country": "PA", "funded_by": "founders"},
            participant("Milagros Quispe", "ONPE", "PE", "partner"),
        ]
    }
    assert check("one_funded_participant_per_emb", data) == [
        "Participant 1 “Rubén Castillo”: “Electoral management body” has not been filled in.",
        "Participant 2 “Milagros Quispe”: “Funded by” must be the founders or the EMB, not "
        "“partner”.",
    ]


# ------------------------------------------------------------------ seminar


def test_seminar_topic_meeting_a_criterion_holds() -> None:
    assert check("seminar_topic_criterion", {"topic_criterion": "democratic_culture"}) == []


def test_seminar_without_topic_criterion_is_refused() -> None:
    (reason,) = check("seminar_topic_criterion", {"topic_criterion": ""})
    assert reason.startswith("“Topic-selection criterion” has not been recorded")
    assert "(b) changes in electoral systems driven by globalisation and technology" in reason


def test_unknown_seminar_criterion_is_named() -> None:
    (reason,) = check("seminar_topic_criterion", {"topic_criterion": "popularity"})
    assert reason.startswith("“popularity” is not a valid choice for “Topic-selection criterion”")


# ------------------------------------------------------------------ languages


@pytest.mark.parametrize("name", sorted(GUARDS.names()))
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_refusal_names_fields_by_their_labels_never_by_their_codes(
    name: str, language: str
) -> None:
    for reason in reasons_of(name, {}, PARAMS.get(name)):
        said = reason.say(language)
        assert not CODE.search(said), said


@pytest.mark.parametrize("language", ["es", "fr", "pt", "ar"])
def test_a_refusal_is_said_in_the_readers_language(language: str) -> None:
    (reason,) = reasons_of("final_report_complete", REPORT | {"final_report_experience": ""})
    label = FIELDS["final_report_experience"].label
    assert label is not None
    assert reason.say(language) == {
        "es": "Al informe final le falta «%s».",
        "fr": "Il manque au rapport final\u00a0: «\u00a0%s\u00a0».",
        "pt": "Falta no relatório final: “%s”.",
        "ar": "ينقص التقريرَ النهائي: «%s».",
    }[language] % label.get(language)


def test_admission_criteria_are_named_by_the_brochures_words_in_spanish() -> None:
    (reason,) = reasons_of("internship_admission_criterion", {"admission_criteria": []})
    assert reason.say("es") == (
        "No se ha registrado «Criterios de participación»; el OAE debe cumplir al menos uno de "
        "los criterios del programa: a) el OAE incorpora nuevas funciones, b) el OAE debe "
        "elaborar un programa, proyecto o reforma o c) el OAE desarrolla nuevos mecanismos de "
        "seguridad y confiabilidad."
    )


def test_two_rules_that_need_sessions_say_so_in_the_same_words() -> None:
    """So a transition with both (a workshop's approve_agenda) says it once."""
    assert reasons_of("methodology_complete", {}, WORKSHOP) == reasons_of(
        "sessions_have_speakers", {}
    )
