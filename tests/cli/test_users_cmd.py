"""`cicie user …` as an administrator uses it: list, set-role, disable/enable, passwd, token,
tokens, revoke-token. JSON on stdout under --json, exit 0 / 1 (refused by the domain, with
the error as JSON) / 2 (bad usage). On SQLite and PostgreSQL; effects are checked through
`Accounts` on the same database."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from typer.testing import CliRunner, Result

from cli.main import app
from engine.accounts import Accounts
from engine.bootstrap import Runtime
from tests.cli_support import ok_json

Run = Callable[..., Result]
PASSWORD = "a long enough password"


@pytest.fixture
def cicie(database_url: str, tmp_path: Path) -> Run:
    env = {
        "CICIE_DATABASE_URL": database_url,
        "CICIE_HOME": str(tmp_path / "home"),
        "CICIE_DEMO_DATA": "false",
    }
    runner = CliRunner()

    def run(*args: Any, input: str | None = None) -> Result:
        return runner.invoke(app, [str(a) for a in args], env=env, input=input)

    return run


@pytest.fixture
def accounts(runtime: Runtime) -> Accounts:
    """The same database the commands work on (the shared `database_url`)."""
    return Accounts(
        runtime.db, runtime.engine.clock, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def add(cicie: Run) -> Callable[[str, str], None]:
    def make(username: str, role: str) -> None:
        ok_json(
            cicie(
                "user",
                "add",
                username,
                "--role",
                role,
                "--password-stdin",
                "--json",
                input=PASSWORD + "\n",
            )
        )

    return make


def refused(result: Result, code: str) -> dict[str, Any]:
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == code, error
    assert error["message"] in result.stderr
    return dict(error)


def _utc(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    assert value.utcoffset() == timedelta(0), text
    return value


def test_users_are_listed_with_role_activity_creation_and_last_sign_in(
    cicie: Run, add: Callable[[str, str], None], accounts: Accounts
) -> None:
    add("maria", "coordinator")
    add("ana", "viewer")
    accounts.open_session(accounts.account("ana").id)

    listed = ok_json(cicie("user", "list", "--json"))

    assert [set(u) for u in listed] == [
        {"username", "role", "active", "created_at", "last_login"}
    ] * 2
    assert [(u["username"], u["role"], u["active"]) for u in listed] == [
        ("ana", "viewer", True),
        ("maria", "coordinator", True),
    ]
    assert _utc(listed[0]["last_login"])
    assert listed[1]["last_login"] is None
    assert _utc(listed[1]["created_at"])
    text = cicie("user", "list", "--lang", "en")
    assert text.exit_code == 0
    assert "maria\tCoordinator (coordinator)\tactive\tlast sign-in: never" in text.stdout
    spanish = cicie("user", "list", "--lang", "es")
    assert "maria\tCoordinador (coordinator)\tactivo\túltimo inicio de sesión: nunca" in (
        spanish.stdout
    )


def test_set_role_changes_the_role_and_refuses_an_unknown_role_or_user(
    cicie: Run, add: Callable[[str, str], None], accounts: Accounts
) -> None:
    add("maria", "viewer")
    changed = ok_json(cicie("user", "set-role", "maria", "coordinator", "--json"))
    assert changed["role"] == "coordinator"
    assert accounts.account("maria").role == "coordinator"

    refused(cicie("user", "set-role", "maria", "superuser", "--json"), "invalid_data")
    refused(cicie("user", "set-role", "nobody", "viewer", "--json"), "not_found")
    assert accounts.account("maria").role == "coordinator"


def test_the_last_active_admin_can_be_neither_disabled_nor_demoted(
    cicie: Run, add: Callable[[str, str], None], accounts: Accounts
) -> None:
    add("root", "admin")
    for command in (("disable", "root"), ("set-role", "root", "viewer")):
        error = refused(cicie("user", *command, "--json"), "not_allowed")
        assert "last active admin" in error["message"]
    assert accounts.account("root").active
    assert accounts.account("root").role == "admin"


def test_disabling_ends_sessions_and_tokens_at_once_and_enabling_lets_them_sign_in(
    cicie: Run, add: Callable[[str, str], None], accounts: Accounts
) -> None:
    add("maria", "coordinator")
    token = ok_json(cicie("user", "token", "maria", "--json"))["token"]
    session = accounts.open_session(accounts.account("maria").id)

    disabled = ok_json(cicie("user", "disable", "maria", "--json"))

    assert disabled["active"] is False
    assert accounts.user_for_token(token) is None
    assert accounts.session_user(session) is None
    assert accounts.authenticate("maria", PASSWORD) is None
    assert ok_json(cicie("user", "enable", "maria", "--json"))["active"] is True
    assert accounts.authenticate("maria", PASSWORD) is not None
    assert accounts.user_for_token(token) is None, "a revoked token stays revoked"
    refused(cicie("user", "disable", "nobody", "--json"), "not_found")


def test_passwd_reads_the_password_from_stdin_and_ends_every_session(
    cicie: Run, add: Callable[[str, str], None], accounts: Accounts
) -> None:
    add("maria", "coordinator")
    session = accounts.open_session(accounts.account("maria").id)

    result = cicie(
        "user", "passwd", "maria", "--password-stdin", "--json", input="another long password\n"
    )

    assert ok_json(result) == {"username": "maria", "sessions_ended": 1}
    assert "another long password" not in result.output + result.stderr
    assert accounts.session_user(session) is None
    assert accounts.authenticate("maria", "another long password") is not None
    assert cicie("user", "passwd", "maria").exit_code == 2  # never on the command line
    refused(
        cicie("user", "passwd", "maria", "--password-stdin", "--json", input="short\n"),
        "invalid_data",
    )
    refused(
        cicie(
            "user",
            "passwd",
            "nobody",
            "--password-stdin",
            "--json",
            input="another long password\n",
        ),
        "not_found",
    )


def test_a_token_expires_in_90_days_by_default_and_is_printed_once(
    cicie: Run, add: Callable[[str, str], None], accounts: Accounts
) -> None:
    add("maria", "coordinator")
    before = datetime.now(UTC)

    issued = ok_json(cicie("user", "token", "maria", "--label", "reports", "--json"))

    assert set(issued) == {"username", "token", "expires_at"}
    lifetime = _utc(issued["expires_at"]) - before
    assert timedelta(days=90) <= lifetime < timedelta(days=90, minutes=5)
    assert accounts.user_for_token(issued["token"]) is not None
    short = ok_json(cicie("user", "token", "maria", "--expires-days", "1", "--json"))
    assert _utc(short["expires_at"]) - before < timedelta(days=1, minutes=5)
    plain = cicie("user", "token", "maria")
    assert plain.exit_code == 0
    assert plain.stdout.count(plain.stdout.strip()) == 1
    assert plain.stdout.strip() not in plain.stderr
    assert accounts.user_for_token(plain.stdout.strip()) is not None


@pytest.mark.parametrize("days", ["0", "3651", "many"])
def test_a_token_lifetime_outside_1_to_3650_days_is_bad_usage(
    cicie: Run, add: Callable[[str, str], None], accounts: Accounts, days: str
) -> None:
    add("maria", "coordinator")
    assert cicie("user", "token", "maria", "--expires-days", days, "--json").exit_code == 2
    assert accounts.tokens("maria") == []


def test_tokens_are_listed_without_the_secret_and_a_revoked_one_is_refused(
    cicie: Run, add: Callable[[str, str], None], accounts: Accounts
) -> None:
    add("maria", "coordinator")
    kept = ok_json(cicie("user", "token", "maria", "--json"))["token"]
    gone = ok_json(cicie("user", "token", "maria", "--json"))["token"]
    accounts.user_for_token(kept)

    result = cicie("user", "tokens", "maria", "--json")
    listed = ok_json(result)

    assert [set(t) for t in listed] == [{"id", "created_at", "expires_at", "last_used"}] * 2
    assert kept not in result.output
    assert gone not in result.output
    assert listed[0]["last_used"] is not None
    assert listed[1]["last_used"] is None
    revoked = ok_json(cicie("user", "revoke-token", listed[1]["id"], "--json"))
    assert revoked == {"id": listed[1]["id"], "revoked": True}
    assert accounts.user_for_token(gone) is None
    assert accounts.user_for_token(kept) is not None
    assert [t["id"] for t in ok_json(cicie("user", "tokens", "maria", "--json"))] == [
        listed[0]["id"]
    ]
    refused(cicie("user", "revoke-token", listed[1]["id"], "--json"), "not_found")
    refused(cicie("user", "tokens", "nobody", "--json"), "not_found")
    refused(cicie("user", "token", "nobody", "--json"), "not_found")
    assert cicie("user", "revoke-token", "abc").exit_code == 2
