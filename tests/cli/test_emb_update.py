"""`cicie emb add` refuses an address with a final newline, and `cicie emb update` repairs an
address stored before that rule: the transition that mails the EMB is refused with a message
naming the EMB and this command, then goes through once the address is fixed. On SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from engine.clock import system_clock
from storage import embs
from storage.db import Database
from tests.cli_support import ok_json
from tests.conftest import example_steps

Run = Callable[..., Result]
ACCEPT = example_steps("international_workshop")[0]


@pytest.fixture
def cicie(database_url: str, tmp_path: Path) -> Run:
    # the refusals' messages in English, as asserted below (they are translated: --lang)
    env = {
        "CICIE_DATABASE_URL": database_url,
        "CICIE_HOME": str(tmp_path / "home"),
        "CICIE_LANG": "en",
    }
    runner = CliRunner()

    def run(*args: Any) -> Result:
        return runner.invoke(app, [str(a) for a in args], env=env)

    return run


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


def refused(result: Result, code: str) -> dict[str, Any]:
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == code, error
    return dict(error)


def add(cicie: Run, code: str, email: str) -> Result:
    return cicie(
        "emb",
        "add",
        "--code",
        code,
        "--name",
        "Jurado Nacional de Elecciones",
        "--country",
        "PE",
        "--language",
        "es",
        "--email",
        email,
        "--json",
    )


@pytest.mark.parametrize("email", ["jne@example.org\n", "jne@example.org ", "josé@example.org"])
def test_emb_add_refuses_an_address_mail_cannot_go_to(cicie: Run, email: str) -> None:
    error = refused(add(cicie, "JNE-PE", email), "invalid_data")
    assert error["details"] == [{"field": "email", "message": "not a single valid e-mail address"}]
    assert ok_json(cicie("emb", "list", "--json")) == []


def test_emb_update_repairs_an_address_then_the_transition_that_mails_the_emb_succeeds(
    cicie: Run, db: Database
) -> None:
    with db.transaction() as conn:  # as stored before addresses were checked with \Z
        embs.insert(
            conn,
            code="JNE-PE",
            name="Jurado Nacional de Elecciones",
            country="PE",
            language="es",
            email="jne@example.org\n",
            now=system_clock(),
        )
    request = ok_json(
        cicie(
            "request",
            "new",
            "international_workshop",
            "--emb",
            "JNE-PE",
            "--title",
            "Taller",
            "--json",
        )
    )
    accept = ("request", "advance", request["id"], "accept", "--data", json.dumps(ACCEPT["data"]))

    error = refused(cicie(*accept, "--json"), "invalid_data")
    assert "EMB 'JNE-PE' (Jurado Nacional de Elecciones)" in error["message"]
    assert "cicie emb update JNE-PE --email" in error["message"]

    fixed = ok_json(cicie("emb", "update", "JNE-PE", "--email", "jne@example.org", "--json"))
    assert fixed == {
        "id": fixed["id"],
        "code": "JNE-PE",
        "name": "Jurado Nacional de Elecciones",
        "country": "PE",
        "language": "es",
        "email": "jne@example.org",
        "kind": "emb",
        "active": True,
    }
    assert ok_json(cicie(*accept, "--json"))["state"] == "needs_assessment"
    queued = ok_json(cicie("outbox", "list", "--request", request["id"], "--json"))
    assert "jne@example.org" in {m["to"] for m in queued}


def test_emb_update_changes_only_what_is_given_and_is_validated_like_add(cicie: Run) -> None:
    added = ok_json(add(cicie, "JNE-PE", "jne@example.org"))
    renamed = ok_json(
        cicie("emb", "update", "JNE-PE", "--name", "JNE", "--language", "en", "--json")
    )
    assert renamed == {**added, "name": "JNE", "language": "en"}
    error = refused(
        cicie("emb", "update", "JNE-PE", "--email", "a@b.org\n", "--json"), "invalid_data"
    )
    assert error["details"] == [{"field": "email", "message": "not a single valid e-mail address"}]
    refused(cicie("emb", "update", "JNE-PE", "--language", "xx", "--json"), "invalid_data")
    refused(cicie("emb", "update", "JNE-PE", "--json"), "invalid_data")  # nothing to change
    assert ok_json(cicie("emb", "list", "--json")) == [renamed]
    no_address = ok_json(cicie("emb", "update", "JNE-PE", "--email", "", "--json"))
    assert no_address["email"] is None


def test_emb_update_of_an_unknown_code_is_not_found(cicie: Run) -> None:
    result = cicie("emb", "update", "NOPE", "--email", "x@example.org", "--json")
    error = refused(result, "not_found")
    assert "NOPE" in error["message"]
    assert "error (not_found)" in result.stderr
