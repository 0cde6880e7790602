"""Co-organisers, invited organisations and the other rules of issue 14 item 4, through the
real engine, workflows and catalogues: each test names the brochure passage it encodes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from engine.actor import Actor
from engine.errors import GuardFailed
from engine.service import Engine
from engine.views import RequestView
from i18n import LANGUAGES
from notifications.recipients import RecipientResolver as Recipients
from tests.conftest import example_steps

COURSE = {
    "course_topic": "Online oversight of political parties' funds",
    "themes": ["consolidation.party_finance_audit"],
}
EVERY_COST = {
    "lodging_meals": "founders",
    "local_transport": "founders",
    "organisation_materials": "founders",
    "specialists": "founders",
    "interpretation": "founders",
    "delegates_air_tickets": "emb",
    "international_experts": "associate_partner",
}


@pytest.fixture
def course(engine: Engine, make_emb: Callable[..., str], coordinator: Actor) -> RequestView:
    return engine.create(
        "specialization_course", emb_code=make_emb(), title="Course", actor=coordinator
    )


def refusal(engine: Engine, request_id: int, trigger: str, data: dict[str, Any]) -> list[str]:
    with pytest.raises(GuardFailed) as refused:
        engine.advance(request_id, trigger, Actor("coordinator", "ana"), data=data)
    return [f["message"].say("en") for f in refused.value.failures]


def test_a_course_with_the_oas_and_capel_is_accepted(
    engine: Engine, course: RequestView, coordinator: Actor
) -> None:
    """2016 calendar: "Online Political Parties' Funds Oversight Model … in Latin America —
    Partners: OEA and CAPEL"."""
    data = {**COURSE, "region": "latin_america", "co_organisers": ["OAS", "CAPEL"]}
    view = engine.advance(course.id, "accept", coordinator, data=data)
    assert view.state == "needs_assessment"
    assert view.data["co_organisers"] == ["OAS", "CAPEL"]


def test_a_latin_american_course_with_only_eisa_is_refused_naming_both(
    engine: Engine, course: RequestView
) -> None:
    """§ 2.3: "the efforts of bodies or international regional institutions … are combined";
    EISA is the Electoral Institute for the South of Africa."""
    data = {**COURSE, "region": "latin_america", "co_organisers": ["EISA"]}
    reasons = refusal(engine, course.id, "accept", data)
    assert reasons == [
        "Electoral Institute for Sustainable Democracy in Africa (EISA) does not work in Latin "
        "America, the region of the course; choose a regional partner for Latin America."
    ]
    with pytest.raises(GuardFailed) as refused:
        engine.advance(course.id, "accept", Actor("coordinator", "ana"), data=data)
    spanish = [f["message"].say("es") for f in refused.value.failures]
    assert "EISA" in spanish[0]
    assert "América Latina" in spanish[0]


def test_founders_may_co_organise_beside_the_regional_partner(
    engine: Engine, course: RequestView, coordinator: Actor
) -> None:
    """2015 course: "Jointly organized with … the United Nations Development Program Regional
    Office for the Arab World and the Mexican Agency of International Cooperation for
    Development" (AMEXCID, a founder)."""
    data = {**COURSE, "region": "arab_states", "co_organisers": ["UNDP_ARAB", "AMEXCID"]}
    assert engine.advance(course.id, "accept", coordinator, data=data).state == ("needs_assessment")


def test_a_forum_co_organised_by_founders_and_associates_is_accepted(
    engine: Engine, make_emb: Callable[..., str], coordinator: Actor
) -> None:
    """2016 calendar: Latin American Democracy Forum "Jointly organized with INE, TEPJF, OEA,
    IDEA International"."""
    view = engine.create("seminar", emb_code=make_emb(), title="Forum", actor=coordinator)
    data = {
        "seminar_topic": "Civic education",
        "topic_criterion": "democratic_culture",
        "themes": ["institutionalisation.civic_education"],
        "co_organisers": ["INE", "TEPJF", "OAS", "IDEA"],
    }
    assert engine.advance(view.id, "accept", coordinator, data=data).state == "needs_assessment"


def test_invited_organisations_are_not_partners(
    engine: Engine, make_emb: Callable[..., str], coordinator: Actor
) -> None:
    """2016 calendar: "Invitation to international specialized bodies: OSCE, IDEA
    International, NDI, among others"."""
    assert {p.code for p in engine.catalogues.invited()} >= {"OSCE", "NDI"}
    view = engine.create("seminar", emb_code=make_emb(), title="Forum", actor=coordinator)
    data = {
        "seminar_topic": "Electronic voting from abroad",
        "topic_criterion": "globalisation_technology",
        "themes": ["specialisation.electronic_voting"],
        "co_organisers": ["OSCE"],
    }
    (reason,) = refusal(engine, view.id, "accept", data)
    assert reason.startswith("Organization for Security and Co-operation in Europe")
    assert "is invited to take part, not a co-organiser" in reason
    assert "“Invited organisations”" in reason
    data["co_organisers"] = ["IDEA"]
    assert engine.advance(view.id, "accept", coordinator, data=data).state == ("needs_assessment")


def test_invited_organisations_are_recorded_apart_from_the_co_organisers(
    engine: Engine, make_request: Callable[..., RequestView], coordinator: Actor
) -> None:
    """2016 calendar: "Invitation to international specialized bodies: OSCE, IDEA
    International, NDI" — invited, beside the founders that organise the workshop."""
    view = make_request("international_workshop", "agenda_design")
    updated = engine.update(
        view.id, coordinator, data={"invited_organisations": ["OSCE", "NDI", "IDEA"]}
    )
    assert updated.data["invited_organisations"] == ["OSCE", "NDI", "IDEA"]
    assert "OSCE" not in updated.data["co_organisers"]


def test_every_co_organiser_gets_the_associate_partner_mail(
    engine: Engine, course: RequestView, coordinator: Actor, runtime: Any
) -> None:
    """The `associate_partner` recipient group: each co-organising institution's address."""
    data = {**COURSE, "region": "latin_america", "co_organisers": ["OAS", "CAPEL", "INE"]}
    view = engine.advance(course.id, "accept", coordinator, data=data)
    recipients = Recipients(engine.catalogues, runtime.settings)
    addresses = [r.address for r in recipients.resolve(["associate_partner"], view, None)]
    assert addresses == [
        "cicie.oas@example.org",
        "cicie.capel@example.org",
        "cicie.ine@example.org",
    ]


def test_a_request_stored_with_one_partner_institution_still_reads_as_a_list(
    engine: Engine, runtime: Any
) -> None:
    """Requests recorded before the list kept one `partner_institution`: read as one item."""
    legacy = RequestView(
        id=1, programme="specialization_course", workflow_version=1, emb=None, title="Old",
        state="needs_assessment", state_label="", held_from=None,
        data={"region": "latin_america", "partner_institution": "OAS"}, version=1,
        created_at=runtime.engine.clock(), updated_at=runtime.engine.clock(),
    )  # fmt: skip
    recipients = Recipients(engine.catalogues, runtime.settings)
    found = recipients.resolve(["associate_partner"], legacy, None)
    assert [r.address for r in found] == ["cicie.oas@example.org"]


def test_a_seminar_may_leave_the_delegation_lodging_not_needed(
    engine: Engine, make_request: Callable[..., RequestView], coordinator: Actor
) -> None:
    """Financing: founders pay "Lodging and nourishments of the delegation of the visiting
    electoral authority" — a seminar has no visiting delegation to lodge."""
    view = make_request("seminar", "logistics")
    data = {
        "cost_sharing": {**EVERY_COST, "lodging_meals": "not_needed"},
        "event_start": "2026-10-05",
        "event_end": "2026-10-07",
        "venue": "Ciudad de México",
    }
    assert engine.advance(view.id, "confirm_logistics", coordinator, data=data).state == "ready"


def test_a_workshop_still_has_its_delegation_lodged_by_the_founders(
    engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    """Financing: the visiting delegation of a workshop in Mexico City is lodged by the
    founders ("Lodging and nourishments of the delegation of the visiting electoral
    authority")."""
    view = make_request("international_workshop", "logistics")
    data = {
        "cost_sharing": {**EVERY_COST, "lodging_meals": "not_needed"},
        "event_start": "2026-06-01",
        "event_end": "2026-06-05",
        "venue": "INE",
        "delegates": [{"name": "Karla", "position": "Directora"}],
    }
    reasons = refusal(engine, view.id, "confirm_logistics", data)
    assert any("Lodging and meals of the visiting delegation" in r for r in reasons)


def test_several_timing_scenarios_are_stored(
    engine: Engine, make_emb: Callable[..., str], coordinator: Actor
) -> None:
    """§ 2.1 workshops are asked for "before elections", "before a political-electoral
    reform" or "when electoral authorities are replaced" — moments that overlap."""
    view = engine.create(
        "international_workshop", emb_code=make_emb(), title="Workshop", actor=coordinator
    )
    data = {
        "contact_name": "Karla Méndez",
        "contact_email": "karla@example.org",
        "contact_language": "es",
        "timing_scenario": ["before_elections", "authorities_replaced"],
        "themes": ["strategic_planning"],
        "co_organisers": ["UNDP_MX", "TEPJF", "INE"],
    }
    view = engine.advance(view.id, "accept", coordinator, data=data)
    assert view.data["timing_scenario"] == ["before_elections", "authorities_replaced"]


def test_the_strategic_planning_workshop_is_in_the_catalogue(engine: Engine) -> None:
    """ "the CICIE has included as an innovative element, the development of a Strategic
    Planning workshop, one of the key interest themes"."""
    theme = engine.catalogues.themes["strategic_planning"]
    assert theme.block is None
    assert all(theme.label.get(language) for language in LANGUAGES)
    assert theme.label.get("es") != theme.label.en


def test_course_participants_say_how_they_are_involved_with_the_topic(
    engine: Engine, make_request: Callable[..., RequestView], coordinator: Actor
) -> None:
    """§ 2.3 criteria: "The candidate that is directly involved with the central topic is
    selected"."""
    view = make_request("specialization_course", "logistics")
    steps = {s["trigger"]: s["data"] for s in example_steps("specialization_course")}
    data = dict(steps["confirm_logistics"])
    people = [dict(p) for p in data["participants"]]
    del people[1]["topic_involvement"]
    reasons = refusal(engine, view.id, "confirm_logistics", {**data, "participants": people})
    assert reasons == [
        "Participant 2 “Andrés Quesada Vargas”: “Involvement with the course topic” has not "
        "been filled in; the course selects candidates directly involved with its topic."
    ]
    assert engine.advance(view.id, "confirm_logistics", coordinator, data=data).state == "ready"


def test_national_stakeholders_are_recorded_by_kind_and_name(
    engine: Engine, make_request: Callable[..., RequestView], coordinator: Actor
) -> None:
    """ "Representatives from national stakeholders … FEPADE … deputies and senators,
    Political parties, Civil organizations, Academics, Media"."""
    view = make_request("international_workshop", "agenda_design")
    people = [
        {"kind": "executive", "name": "FEPADE"},
        {"kind": "legislative", "name": "Comisión de Gobernación, Senado"},
        {"kind": "media", "name": "Canal del Congreso"},
    ]
    updated = engine.update(view.id, coordinator, data={"national_stakeholders": people})
    assert updated.data["national_stakeholders"] == people
