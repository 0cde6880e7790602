"""Workflow fields as form controls and back: what the page renders, parsed as a browser would
post it, is the data it was rendered from."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from starlette.datastructures import FormData

from config.catalogues import load_catalogues
from web import forms
from web.forms import Formatter
from web.templating import Pages
from workflows.definition import WorkflowDefinition
from workflows.loader import WORKFLOW_DIR, load_file


class _Inputs(HTMLParser):
    """The (name, value) pairs a browser would submit for a form, and every control's id."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self.ids: list[str] = []
        self.label_fors: set[str] = set()
        self._select: str | None = None
        self._select_value: str | None = None
        self._option: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a and tag in ("input", "select", "textarea"):
            self.ids.append(a["id"])
        if tag == "label" and "for" in a:
            self.label_fors.add(a["for"])
        if tag == "input":
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.pairs.append((a["name"], a["value"]))
            else:
                self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._select_value = a["name"], None
        elif tag == "option" and self._select is not None:
            if "selected" in a:
                self._select_value = a.get("value", "")
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            self.pairs.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.pairs.append((self._textarea, self._text.replace("\n", "\r\n")))
            self._textarea = None


@pytest.fixture(scope="module")
def workshop() -> WorkflowDefinition:
    return load_file(WORKFLOW_DIR / "international_workshop.yaml")


def _render(fields: list[Any], data: dict[str, Any]) -> str:
    fmt = Formatter(load_catalogues(), "en")
    widgets = forms.build_all(fields, data, fmt)
    env = Pages("America/Mexico_City").envs["en"]
    template = env.from_string(
        '{% from "_fields.html" import control %}{% for w in widgets %}{{ control(w) }}{% endfor %}'
    )
    return template.render(widgets=widgets)


def _round_trip(fields: list[Any], data: dict[str, Any]) -> tuple[dict[str, Any], _Inputs]:
    html = _render(fields, data)
    parser = _Inputs()
    parser.feed(html)
    return forms.parse(fields, FormData(parser.pairs), {}), parser


AGENDA = [
    {
        "title": 'Depuración del censo <electoral> & "registro"',
        "theme": "electoral_cycle.voter_registry",
        "stages": ["emb_challenges", "mexican_experience", "international_comparison"],
        "speakers": [
            {"name": "Óscar Rivera Paz", "institution": "TSE Honduras"},
            {"name": "Daniel Ortiz", "institution": "International IDEA", "email": "d@example.org"},
        ],
        "sample_materials": "Credencial para votar.\nSegunda línea.",
    },
    {
        "title": "Fiscalización",
        "stages": ["emb_challenges"],
        "speakers": [{"name": "Elena Vázquez Mora"}],
    },
]
COSTS = {
    "lodging_meals": "founders",
    "local_transport": "founders",
    "organisation_materials": "founders",
    "specialists": "founders",
    "interpretation": "not_needed",
    "delegates_air_tickets": "emb",
    "international_experts": "associate_partner",
}


def test_agenda_sessions_round_trip(workshop: Any) -> None:
    fields = [workshop.fields["agenda_sessions"]]
    parsed, parser = _round_trip(fields, {"agenda_sessions": AGENDA})
    assert parsed == {"agenda_sessions": AGENDA}
    # one blank session (with one blank speaker) is always offered after the last one
    names = [n for n, _ in parser.pairs]
    assert "agenda_sessions-2-title" in names
    assert "agenda_sessions-2-speakers-0-name" in names
    assert "agenda_sessions-1-speakers-1-name" in names


def test_the_cost_matrix_round_trips(workshop: Any) -> None:
    fields = [workshop.fields["cost_sharing"]]
    parsed, _ = _round_trip(fields, {"cost_sharing": COSTS})
    assert parsed == {"cost_sharing": COSTS}


def test_the_logistics_and_intake_fields_round_trip(workshop: Any) -> None:
    names = [
        "contact_name",
        "contact_email",
        "contact_language",
        "timing_scenario",
        "themes",
        "event_start",
        "event_end",
        "venue",
        "delegates",
        "attendance",
        "needs_summary",
    ]
    fields = [workshop.fields[n] for n in names]
    data = {
        "contact_name": "Karla Méndez",
        "contact_email": "karla@example.org",
        "contact_language": "fr",
        "timing_scenario": ["before_elections", "authorities_replaced"],  # in the order shown
        "themes": ["electoral_cycle.voter_registry", "consolidation.party_finance_audit"],
        "event_start": "2016-06-06",
        "event_end": "2016-06-10",
        "venue": "INE, Viaducto Tlalpan 100",
        "delegates": [
            {"name": "Karla", "position": "Directora", "email": "k@example.org"},
            {"name": "Óscar", "position": "Director"},
        ],
        "attendance": 23,
        "needs_summary": "Línea uno\nLínea dos",
    }
    parsed, parser = _round_trip(fields, data)
    assert parsed == data
    # every control has a label
    assert set(parser.ids) <= parser.label_fors


def test_blank_rows_are_dropped_and_a_blank_field_clears_a_stored_one(workshop: Any) -> None:
    fields = [workshop.fields["agenda_sessions"], workshop.fields["venue"]]
    form = FormData(
        [
            ("agenda_sessions-0-title", "Kept"),
            ("agenda_sessions-0-speakers-0-name", ""),
            ("agenda_sessions-3-title", ""),
            ("agenda_sessions-3-speakers-0-name", ""),
            ("venue", "  "),
        ]
    )
    parsed = forms.parse(fields, form, {"venue": "INE"})
    # the session's only speaker row, left blank, is no speaker: an empty list (the rules
    # then ask to "add at least one speaker"), never a missing field ("this is required")
    assert parsed == {"agenda_sessions": [{"title": "Kept", "speakers": []}], "venue": None}
    assert forms.parse(fields, FormData([]), {}) == {}


def test_what_cannot_be_converted_is_kept_as_typed(workshop: Any) -> None:
    fields = [workshop.fields["attendance"]]
    assert forms.parse(fields, FormData([("attendance", "twenty")]), {}) == {"attendance": "twenty"}
    assert forms.parse(fields, FormData([("attendance", " 12 ")]), {}) == {"attendance": 12}


def test_the_same_checkboxes_keep_the_stored_order(workshop: Any) -> None:
    fields = [workshop.fields["themes"]]
    stored = ["consolidation.party_finance_audit", "electoral_cycle.voter_registry"]
    parsed, _ = _round_trip(fields, {"themes": stored})
    assert forms.parse(
        fields, FormData([("themes", t) for t in sorted(stored)]), {"themes": stored}
    ) == {"themes": stored}
    assert sorted(parsed["themes"]) == sorted(stored)


def test_engine_error_paths_become_form_names_and_labels(workshop: Any) -> None:
    assert (
        forms.error_name("agenda_sessions.0.speakers.1.name") == "agenda_sessions-0-speakers-1-name"
    )
    fmt = Formatter(load_catalogues(), "en")
    label = forms.path_label(workshop.fields, "agenda_sessions.0.speakers.1.name", fmt)
    assert label == "Agenda sessions › 1 › Speakers › 2 › Name"


def test_rendered_values_are_escaped(workshop: Any) -> None:
    html = _render(
        [workshop.fields["venue"], workshop.fields["needs_summary"]],
        {
            "venue": '"><script>alert(1)</script>',
            "needs_summary": "</textarea><script>alert(2)</script>",
        },
    )
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
