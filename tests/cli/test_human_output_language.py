"""What the `cicie` command prints for people (without `--json`) is said in the chosen
language: workflow labels, words for codes, local times with the zone named, and operator
sentences from the catalogue. The only codes left are the ones a person types next (a trigger
to `request advance`, a state to `--state`, a role to `user set-role`), beside their label.
On SQLite and PostgreSQL, over the demo set."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cli.main import app

Run = Callable[..., Any]  # a typer Result, or a finished process for `worker`

SNAKE_CASE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # a code such as emb_contacts
TYPED_CODE = re.compile(r"\(([a-z_]+)\)")  # "Aceptar la solicitud (accept)": typed next
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
OFFSET = re.compile(r"[+-]\d{2}:\d{2}\b|[+-][01]\d00\b")
PROGRAMME_TITLES_FR = {
    "international_workshop": "Atelier international",
    "internship": "Stage",
    "specialization_course": "Cours de spécialisation",
    "seminar": "Séminaire",
    "technical_assistance": "Mission d'assistance technique",
}


@pytest.fixture
def cicie(database_url: str, tmp_path: Path) -> Run:
    env = {"CICIE_DATABASE_URL": database_url, "CICIE_HOME": str(tmp_path / "home")}
    runner = CliRunner()

    def run(*args: Any) -> Result | subprocess.CompletedProcess[str]:
        if args[0] == "worker":  # a worker is its own process (its event loop, its logging)
            done = subprocess.run(
                [sys.executable, "-c", "from cli.main import main; main()", *map(str, args)],
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            return done
        result = runner.invoke(app, [str(a) for a in args], env=env)
        assert result.exit_code == 0, result.output + result.stderr
        return result

    return run


@pytest.fixture
def demo(cicie: Run) -> list[dict[str, Any]]:
    """The demo set, with a reminder fired on the internship still at intake (so a history
    holds a change the system made, its due time and the mail it queued)."""
    cicie("demo", "load", "--json")
    requests: list[dict[str, Any]] = json.loads(cicie("request", "list", "--json").stdout)
    intake = next(r for r in requests if r["programme"] == "internship" and r["state"] == "intake")
    due = json.loads(cicie("request", "timeline", intake["id"], "--json").stdout)[0]["due_at"]
    just_after = due.replace("T09:00:00", "T09:05:00")
    cicie("worker", "--once", "--now", just_after, "--json")
    return requests


def _codes_left(text: str) -> list[str]:
    """The snake_case codes a text shows outside the parentheses that hold a typed code."""
    return SNAKE_CASE.findall(TYPED_CODE.sub("", text))


def _walked(demo: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A request of each programme and of each state the demo has: every kind of change and
    timer (transitions, mail, a fired reminder, escalations, deadlines, a hold, a refusal)."""
    seen: set[str] = set()
    chosen = []
    for request in demo:
        if request["programme"] in seen and request["state"] in seen:
            continue
        seen.update((request["programme"], request["state"]))
        chosen.append(request)
    return chosen


def test_history_and_timeline_read_as_sentences_without_codes_or_raw_timestamps(
    cicie: Run, demo: list[dict[str, Any]]
) -> None:
    for language in ("es", "fr"):
        for request in _walked(demo):
            for command in ("history", "timeline"):
                text = cicie("request", command, request["id"], "--lang", language).stdout
                where = (language, command, request["id"], text)
                assert text.strip(), where
                assert not _codes_left(text), where
                assert not ISO_TIME.search(text), where
                assert not OFFSET.search(text), where
                assert not any(o in text for o in ("+00:00", "-0500", "-0600")), where

    intake = next(r for r in demo if r["programme"] == "internship" and r["state"] == "intake")
    text = cicie("request", "history", intake["id"], "--lang", "fr").stdout
    assert "demo (Coordinateur)" in text
    assert "Réception de la demande" in text
    assert "CICIE (automatique)" in text  # the reminder the worker fired
    assert "(Mexico)" in text  # the centre's zone, named
    assert not any(prefix in text for prefix in ("coordinator:", "system:", "timer:"))
    timeline = cicie("request", "timeline", intake["id"], "--lang", "es").stdout
    assert "Recordatorio" in timeline
    assert "la coordinación del CICIE" in timeline
    assert "(Ciudad de México)" in timeline


def test_request_list_in_french_shows_programme_titles_and_show_the_trigger_to_type(
    cicie: Run, demo: list[dict[str, Any]]
) -> None:
    text = cicie("request", "list", "--lang", "fr").stdout
    lines = text.splitlines()
    assert len(lines) == len(demo)
    for request, line in zip(demo, lines, strict=True):
        assert PROGRAMME_TITLES_FR[request["programme"]] in line, line
        assert request["programme"] not in line.replace(f"({request['state']})", "")
        assert f"({request['state']})" in line  # the code `--state` takes, after its label
    assert "Prêt (ready)" in text

    ready = next(r for r in demo if r["state"] == "ready")
    shown = cicie("request", "show", ready["id"], "--lang", "fr").stdout
    assert "Commencer (start)\u00a0: possible maintenant" in shown
    assert not _codes_left(shown.split("\n", 1)[1]), shown


def test_operator_sentences_are_said_in_the_chosen_language(cicie: Run) -> None:
    added = cicie(
        "emb",
        "add",
        "--code",
        "HN-TSE",
        "--name",
        "Tribunal Supremo Electoral",
        "--country",
        "HN",
        "--language",
        "es",
        "--lang",
        "es",
    ).stdout
    assert added.strip() == (
        "OAE registrado: HN-TSE · Tribunal Supremo Electoral · Honduras · correo en español · "
        "sin dirección"
    )
    updated = cicie("emb", "update", "HN-TSE", "--email", "tse@example.org", "--lang", "fr")
    assert updated.stdout.startswith("OGE mis à jour\u00a0: HN-TSE")
    assert "courriels en espagnol · tse@example.org" in updated.stdout
    english = cicie("emb", "list", "--lang", "en").stdout
    assert "HN-TSE · Tribunal Supremo Electoral · Honduras · mail in Spanish" in english


def test_outbox_and_worker_speak_the_chosen_language(
    cicie: Run, demo: list[dict[str, Any]]
) -> None:
    listed = cicie("outbox", "list", "--lang", "es").stdout
    assert " · En cola · " in listed
    assert "pending" not in listed
    swept = cicie("worker", "--once", "--lang", "fr").stdout
    assert swept.startswith("Échéances traitées — rappels\u00a0:")
    assert "Courriels — envoyés\u00a0:" in swept
