"""The `cicie` command as an operator (and the acceptance checks) use it: JSON documents on
stdout, exit 0 / 1 (refused by the domain) / 2 (bad usage). On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from cli.main import app
from tests.cli_support import ok_json
from tests.conftest import PROGRAMMES
from workflows.loader import WORKFLOW_DIR

Run = Callable[..., Result]


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "CICIE_DATABASE_URL": database_url,
        "CICIE_HOME": str(tmp_path / "home"),
    }


@pytest.fixture
def cicie(cli_env: dict[str, str]) -> Run:
    runner = CliRunner()

    def run(*args: Any, input: str | None = None) -> Result:
        return runner.invoke(app, [str(a) for a in args], env=cli_env, input=input)

    return run


def refused(result: Result, code: str) -> dict[str, Any]:
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == code, error
    assert error["message"] in result.stderr
    return dict(error)


@pytest.fixture
def new_request(cicie: Run) -> Callable[[str], dict[str, Any]]:
    codes = iter(range(1, 1000))

    def make(programme: str) -> dict[str, Any]:
        code = f"EMB-{next(codes)}"
        ok_json(
            cicie(
                "emb",
                "add",
                "--code",
                code,
                "--name",
                "Comisión Electoral",
                "--country",
                "KE",
                "--language",
                "en",
                "--email",
                "contact@example.org",
                "--json",
            )
        )
        created: dict[str, Any] = ok_json(
            cicie("request", "new", programme, "--emb", code, "--title", "Request", "--json")
        )
        return created

    return make


def _state(cicie: Run, request_id: int) -> tuple[str, int, int]:
    shown = ok_json(cicie("request", "show", request_id, "--json"))
    history = ok_json(cicie("request", "history", request_id, "--json"))
    return shown["state"], shown["version"], len(history)


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_each_programme_is_driven_from_intake_to_closed_with_its_example(
    cicie: Run, new_request: Callable[[str], dict[str, Any]], programme: str
) -> None:
    request = new_request(programme)
    assert (request["state"], request["version"], request["programme"]) == (
        "intake",
        1,
        programme,
    )
    steps = ok_json(cicie("workflows", "example", programme, "--json"))
    for step in steps:
        request = ok_json(
            cicie(
                "request",
                "advance",
                request["id"],
                step["trigger"],
                "--data",
                json.dumps(step["data"]),
                "--as",
                step["as"],
                "--expect-version",
                request["version"],
                "--json",
            )
        )
    assert request["state"] == "closed"
    history = ok_json(cicie("request", "history", request["id"], "--json"))
    assert [h["trigger"] for h in history] == ["create", *[s["trigger"] for s in steps]]
    assert [h["actor"] for h in history[1:]] == [s["as"] for s in steps]
    assert all({"from", "to", "trigger", "actor", "at", "comment"} <= h.keys() for h in history)


def test_stale_expect_version_exits_1_with_conflict_and_changes_nothing(
    cicie: Run, new_request: Callable[[str], dict[str, Any]]
) -> None:
    request = new_request("seminar")
    step = ok_json(cicie("workflows", "example", "seminar", "--json"))[0]
    before = _state(cicie, request["id"])
    error = refused(
        cicie(
            "request",
            "advance",
            request["id"],
            step["trigger"],
            "--data",
            json.dumps(step["data"]),
            "--expect-version",
            7,
            "--json",
        ),
        "conflict",
    )
    assert error["details"] == {"expected": 7, "actual": 1}
    assert _state(cicie, request["id"]) == before


def test_failing_guard_exits_1_naming_the_guard_and_changes_nothing(
    cicie: Run, new_request: Callable[[str], dict[str, Any]]
) -> None:
    request = new_request("internship")
    before = _state(cicie, request["id"])
    data = {"internship_topic": "Voter registry", "themes": ["electoral_cycle.voter_registry"]}
    error = refused(
        cicie("request", "advance", request["id"], "accept", "--data", json.dumps(data), "--json"),
        "guard_failed",
    )
    assert "internship_admission_criterion" in [d["code"] for d in error["details"]]
    assert all(d["message"] for d in error["details"])
    assert _state(cicie, request["id"]) == before


def test_a_role_that_may_not_act_is_not_allowed(
    cicie: Run, new_request: Callable[[str], dict[str, Any]]
) -> None:
    request = new_request("internship")
    refused(
        cicie("request", "advance", request["id"], "accept", "--as", "viewer", "--json"),
        "not_allowed",
    )


def test_bad_data_is_invalid_data_with_field_messages(
    cicie: Run, new_request: Callable[[str], dict[str, Any]]
) -> None:
    request = new_request("international_workshop")
    error = refused(
        cicie(
            "request",
            "advance",
            request["id"],
            "accept",
            "--data",
            '{"timing_scenario": "someday"}',
            "--json",
        ),
        "invalid_data",
    )
    assert error["details"][0]["field"] == "timing_scenario"
    error = refused(
        cicie("request", "advance", request["id"], "accept", "--data", "{not json", "--json"),
        "invalid_data",
    )
    assert "not valid JSON" in error["message"]


def test_unknown_request_is_not_found(cicie: Run) -> None:
    refused(cicie("request", "show", 4242, "--json"), "not_found")


def test_bad_usage_exits_2(cicie: Run) -> None:
    assert cicie("request", "advance", "not-a-number", "accept").exit_code == 2
    assert cicie("request", "frobnicate").exit_code == 2
    assert cicie("request", "new", "seminar", "--json").exit_code == 2  # --emb, --title missing


def test_show_lists_available_triggers_with_reasons(
    cicie: Run, new_request: Callable[[str], dict[str, Any]]
) -> None:
    request = new_request("seminar")
    shown = ok_json(cicie("request", "show", request["id"], "--json"))
    available = {a["trigger"]: a for a in shown["available"]}
    assert set(available) == {"accept", "decline", "withdraw", "put_on_hold"}
    assert available["accept"]["allowed"] is False
    assert available["accept"]["reasons"]


SNAKE_CASE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # a code such as admission_criteria


@pytest.mark.parametrize("programme", PROGRAMMES)
@pytest.mark.parametrize("language", ["es", "fr"])
def test_show_says_why_each_trigger_is_blocked_in_the_chosen_language_without_codes(
    cicie: Run, new_request: Callable[[str], dict[str, Any]], programme: str, language: str
) -> None:
    request = new_request(programme)
    shown = ok_json(cicie("request", "show", request["id"], "--json", "--lang", language))
    english = ok_json(cicie("request", "show", request["id"], "--json", "--lang", "en"))
    blocked = [a for a in shown["available"] if not a["allowed"]]
    assert blocked
    for said, source in zip(shown["available"], english["available"], strict=True):
        assert said["trigger"] == source["trigger"]
        assert [r["code"] for r in said["reasons"]] == [r["code"] for r in source["reasons"]]
        for reason in said["reasons"]:
            assert set(reason) <= {"code", "message", "field"}
            assert reason["code"]
            assert not SNAKE_CASE.search(reason["message"]), reason
        if said["reasons"]:
            assert said["reasons"] != source["reasons"]  # said in another language
    accept = {a["trigger"]: a for a in english["available"]}["accept"]
    assert any(
        r["message"].startswith(("Fill in “", "No theme has been recorded in “"))
        for r in accept["reasons"]
    ), accept


def test_show_in_english_and_in_spanish(
    cicie: Run, new_request: Callable[[str], dict[str, Any]]
) -> None:
    request = new_request("internship")
    english = ok_json(cicie("request", "show", request["id"], "--json", "--lang", "en"))
    spanish = ok_json(cicie("request", "show", request["id"], "--json", "--lang", "es"))
    accept = {a["trigger"]: a for a in english["available"]}["accept"]
    acepta = {a["trigger"]: a for a in spanish["available"]}["accept"]
    assert (accept["label"], acepta["label"]) == ("Accept the request", "Aceptar la solicitud")
    topic = {
        "code": "required_fields",
        "field": "internship_topic",
        "message": "Fill in “Specialised topic of the internship” first.",
    }
    assert topic in accept["reasons"]
    criterion = next(r for r in acepta["reasons"] if r["code"] == "internship_admission_criterion")
    assert criterion["message"].startswith("No se ha registrado «Criterios de participación»")
    assert (english["state_label"], spanish["state_label"]) == (
        "Intake",
        "Recepción de la solicitud",
    )
    text = cicie("request", "show", request["id"], "--lang", "es")
    assert text.exit_code == 0, text.output
    assert "Aceptar la solicitud (accept): aún no es posible" in text.stdout
    assert "- No se ha registrado «Criterios de participación»" in text.stdout
    reasons = [line for line in text.stdout.splitlines() if line.startswith("    - ")]
    assert reasons
    assert not any(SNAKE_CASE.search(line) for line in reasons)


def test_cicie_lang_chooses_the_language_and_lang_overrides_it(
    cli_env: dict[str, str], new_request: Callable[[str], dict[str, Any]]
) -> None:
    request = new_request("seminar")
    runner = CliRunner()

    def show(env: dict[str, str], *extra: str) -> dict[str, Any]:
        args = ["request", "show", str(request["id"]), "--json", *extra]
        return dict(ok_json(runner.invoke(app, args, env={**cli_env, **env})))

    assert show({"CICIE_LANG": "fr"})["state_label"] == "Réception de la demande"
    assert show({"CICIE_LANG": "fr"}, "--lang", "en")["state_label"] == "Intake"


def test_a_refusal_is_said_in_the_chosen_language(
    cicie: Run, new_request: Callable[[str], dict[str, Any]]
) -> None:
    request = new_request("internship")
    result = cicie("request", "advance", request["id"], "accept", "--json", "--lang", "fr")
    error = refused(result, "guard_failed")
    assert error["message"].startswith("«\u00a0Accepter la demande\u00a0» a été refusé")
    assert all(not SNAKE_CASE.search(d["message"]) for d in error["details"])


@pytest.mark.parametrize("how", ["option", "environment"])
def test_an_unknown_language_is_a_usage_error(
    cli_env: dict[str, str], new_request: Callable[[str], dict[str, Any]], how: str
) -> None:
    request = new_request("seminar")
    args = ["request", "show", str(request["id"]), "--json"]
    env = dict(cli_env)
    if how == "option":
        args += ["--lang", "de"]
    else:
        env["CICIE_LANG"] = "de"
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 2
    said = " ".join(result.stderr.replace("│", " ").split())
    assert "'de' is not a language of the CICIE interface; use one of: es, en, fr" in said


def test_list_filters_by_state_and_programme(
    cicie: Run, new_request: Callable[[str], dict[str, Any]]
) -> None:
    seminar = new_request("seminar")
    new_request("internship")
    listed = ok_json(cicie("request", "list", "--programme", "seminar", "--json"))
    assert [r["id"] for r in listed] == [seminar["id"]]
    assert len(ok_json(cicie("request", "list", "--state", "intake", "--json"))) == 2
    assert ok_json(cicie("request", "list", "--state", "closed", "--json")) == []


def test_workflows_list_names_the_five_programmes(cicie: Run) -> None:
    listed = ok_json(cicie("workflows", "list", "--json"))
    assert sorted(w["name"] for w in listed) == sorted(PROGRAMMES)
    assert all(w["version"] >= 1 and "closed" in w["final_states"] for w in listed)


def test_diagram_is_mermaid_with_the_requests_state_highlighted(
    cicie: Run, new_request: Callable[[str], dict[str, Any]]
) -> None:
    request = new_request("internship")
    result = cicie("workflows", "diagram", "internship", "--request", request["id"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("stateDiagram-v2")
    assert re.search(r"class\s+intake\s+current", result.stdout)


def test_workflows_check_passes_on_the_bundled_files(cicie: Run) -> None:
    result = cicie("workflows", "check")
    assert result.exit_code == 0, result.output
    assert "ok: 5" in result.stdout


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_workflows_check_names_file_and_line_of_each_problem(cicie: Run, tmp_path: Path) -> None:
    """A copy with an unreachable state, an unknown guard and a dead end: all three reported."""
    text = (WORKFLOW_DIR / "internship.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "states:\n",
        "states:\n  limbo:\n    label: {es: Limbo, en: Limbo, fr: Limbes}\n"
        "  dead_end:\n    label: {es: Fin, en: End, fr: Fin}\n",
        1,
    )
    text = text.replace("internship_admission_criterion", "no_such_guard", 1)
    text = text.replace("dest: needs_assessment", "dest: dead_end", 1)
    copy = tmp_path / "broken copy.yaml"
    copy.write_text(text, encoding="utf-8")
    result = cicie("workflows", "check", copy)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    expected = {
        _line_of(text, "  limbo:"): "unreachable",
        _line_of(text, "no_such_guard"): "unknown guard 'no_such_guard'",
        _line_of(text, "  dead_end:"): "dead end",
    }
    for line_no, words in expected.items():
        assert any(line.startswith(f"{copy}:{line_no}: ") and words in line for line in lines), (
            line_no,
            words,
            lines,
        )


def test_the_installed_console_script_keeps_the_exit_codes(cli_env: dict[str, str]) -> None:
    exe = shutil.which("cicie", path=str(Path(sys.executable).parent))
    assert exe, "the console script `cicie` is installed with the package"
    env = {**cli_env, "PATH": str(Path(sys.executable).parent)}
    ok = subprocess.run([exe, "workflows", "check"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    usage = subprocess.run([exe, "request", "show"], env=env, capture_output=True, text=True)
    assert usage.returncode == 2
    missing = subprocess.run(
        [exe, "request", "show", "99", "--json"], env=env, capture_output=True, text=True
    )
    assert missing.returncode == 1
    assert json.loads(missing.stdout)["error"]["code"] == "not_found"


def test_timeline_prints_each_future_timer_with_its_local_due_time(
    cicie: Run, new_request: Callable[[str], dict[str, Any]]
) -> None:
    request = new_request("internship")
    timeline = ok_json(cicie("request", "timeline", request["id"], "--json"))
    assert [t["kind"] for t in timeline] == ["reminder"] * 3
    for entry in timeline:
        assert {"due_at", "kind", "what", "recipients"} <= entry.keys()
        assert re.search(r"T09:00:00-0[56]:00$", entry["due_at"]), entry["due_at"]
        assert entry["recipients"] == ["coordinator"]


def test_a_database_that_does_not_answer_is_a_clean_retryable_error(tmp_path: Path) -> None:
    """No traceback: the `unavailable` error and exit 3, so a script knows to try again."""
    env = {
        **os.environ,
        "CICIE_HOME": str(tmp_path),
        "CICIE_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2",
    }
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "request", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 3, done.stderr
    assert json.loads(done.stdout)["error"]["code"] == "unavailable"
    assert "Traceback" not in done.stderr
