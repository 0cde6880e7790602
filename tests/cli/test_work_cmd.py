"""`cicie request work`: "Needs my action" for scripts and for people at a terminal — the same
list as the page /work, overdue first, with the trigger to type beside each step and why a step
is blocked, in the chosen language. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from config.settings import Settings
from engine.views import RequestView
from tests.cli_support import Run, command_line, ok_json


@pytest.fixture
def cicie(settings: Settings, database_url: str) -> Run:
    return command_line(database_url, settings.home, CICIE_ENVIRONMENT="test")


def test_the_list_as_json_names_each_step_and_its_blockers(
    cicie: Run, make_request: Callable[..., RequestView]
) -> None:
    # the fixtures' clock is January 2026: by the command's clock both reminders are past due
    first = make_request("seminar", "intake")
    second = make_request("international_workshop", "intake")
    make_request("international_workshop", "closed")
    work = ok_json(cicie("request", "work", "--as", "coordinator:ana", "--json", "--lang", "en"))
    assert [i["id"] for i in work["items"]] == [first.id, second.id]
    assert work["total"] == 2
    assert work["overdue"] == 2
    seminar = work["items"][0]
    accept = next(a for a in seminar["actions"] if a["trigger"] == "accept")
    assert accept["allowed"] is False
    assert "Fill in “Seminar topic” first." in accept["reasons"]


def test_the_text_says_dates_in_words_and_the_triggers_to_type(
    cicie: Run, make_request: Callable[..., RequestView]
) -> None:
    request = make_request("seminar", "intake")
    result = cicie("request", "work", "--lang", "es")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("Solicitudes que puede hacer avanzar ahora: 1.")
    assert f"#{request.id} seminar request" in text
    assert "(accept): aún no es posible" in text
    assert "Vencido" in text or "vencid" in text.lower()
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), "a date must be said in words"


def test_a_viewer_is_told_why_nothing_waits(cicie: Run) -> None:
    result = cicie("request", "work", "--as", "viewer", "--lang", "fr")
    assert result.exit_code == 0, result.output
    assert "Votre rôle (Lecteur)" in result.stdout


def test_a_page_out_of_bounds_is_refused(cicie: Run) -> None:
    result = cicie("request", "work", "--page", "0")
    assert result.exit_code == 2
