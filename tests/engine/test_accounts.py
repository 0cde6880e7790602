"""Accounts keep no secret in clear: passwords as argon2 hashes, tokens as SHA-256 digests.
Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from engine.accounts import Accounts, UserView, ensure_demo_users
from engine.bootstrap import Runtime
from engine.errors import InvalidData, NotFound
from storage.models import api_token_table, user_table

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(runtime: Runtime) -> Accounts:
    return Accounts(
        runtime.db, runtime.engine.clock, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


def _stored(runtime: Runtime, table: sa.Table) -> list[dict[str, object]]:
    with runtime.db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(table))]


def test_a_password_is_stored_only_as_an_argon2_hash(accounts: Accounts, runtime: Runtime) -> None:
    user = accounts.add_user("ana", "coordinator", PASSWORD)
    assert user == UserView(user.id, "ana", "coordinator", "es")
    [row] = _stored(runtime, user_table)
    assert str(row["password_hash"]).startswith("$argon2id$")
    assert PASSWORD not in str(row)


def test_the_right_password_signs_in_and_a_wrong_one_does_not(accounts: Accounts) -> None:
    user = accounts.add_user("ana", "coordinator", PASSWORD)
    assert accounts.authenticate("ana", PASSWORD) == user
    assert accounts.authenticate("ana", PASSWORD + "!") is None
    assert accounts.authenticate("ana", "") is None
    assert accounts.authenticate("nobody", PASSWORD) is None


def test_invalid_user_data_is_refused_with_every_field_named(accounts: Accounts) -> None:
    with pytest.raises(InvalidData) as refused:
        accounts.add_user("ana maría", "superuser", "short")
    assert {d["field"] for d in refused.value.details} == {"username", "role", "password"}
    assert accounts.list_users() == []


def test_a_username_is_taken_only_once(accounts: Accounts) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    with pytest.raises(InvalidData) as refused:
        accounts.add_user("ana", "viewer", PASSWORD)
    assert refused.value.details == [{"field": "username", "message": "already exists"}]
    assert [u.role for u in accounts.list_users()] == ["coordinator"]


def test_a_token_is_stored_only_as_its_sha256(accounts: Accounts, runtime: Runtime) -> None:
    user = accounts.add_user("ana", "coordinator", PASSWORD)
    token = accounts.issue_token("ana", label="laptop")
    [row] = _stored(runtime, api_token_table)
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row)
    assert row["label"] == "laptop"
    assert accounts.user_for_token(token) == user
    assert accounts.user_for_token(str(row["token_hash"])) is None
    assert accounts.user_for_token("") is None


def test_a_revoked_token_is_refused(accounts: Accounts) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    kept, revoked = accounts.issue_token("ana"), accounts.issue_token("ana")
    assert accounts.revoke_token(revoked)
    assert accounts.user_for_token(revoked) is None
    assert accounts.user_for_token(kept) is not None
    assert not accounts.revoke_token(revoked), "revoking twice changes nothing"


def test_a_token_for_an_unknown_user_is_not_issued(accounts: Accounts, runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        accounts.issue_token("nobody")
    assert _stored(runtime, api_token_table) == []


def test_demo_users_are_created_only_on_an_empty_database(accounts: Accounts) -> None:
    created = ensure_demo_users(accounts)
    assert created is not None
    assert set(created) == {"admin", "coordinator", "viewer"}
    for username, password in created.items():
        user = accounts.authenticate(username, password)
        assert user is not None
        assert user.role == username
    assert ensure_demo_users(accounts) is None
    assert len(accounts.list_users()) == 3


def test_a_weak_stored_hash_is_upgraded_on_sign_in(accounts: Accounts, runtime: Runtime) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    stronger = Accounts(runtime.db, runtime.engine.clock, PasswordHasher(time_cost=2))
    assert stronger.authenticate("ana", PASSWORD) is not None
    [row] = _stored(runtime, user_table)
    assert "t=2" in str(row["password_hash"])
    assert accounts.authenticate("ana", PASSWORD) is not None


def test_two_servers_starting_at_once_make_the_demo_users_once(accounts: Accounts) -> None:
    """The second `cicie serve` on an empty database finds the users made: no crash."""
    first = ensure_demo_users(accounts)
    assert first is not None
    # the race: the second process checked before the first had written anything
    accounts.has_users = lambda: False  # type: ignore[method-assign]
    assert ensure_demo_users(accounts) is None
