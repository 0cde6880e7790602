"""Accounts keep no secret in clear (passwords as argon2 hashes, tokens and session ids as
SHA-256 digests) and everything they grant can be taken back: sessions end, tokens expire and
are revoked, disabled users are refused. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from engine.account_views import UserView
from engine.accounts import Accounts
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.demo import ensure_demo_users
from engine.errors import InvalidData, NotAllowed, NotFound
from storage.models import api_token_table, user_session_table, user_table
from tests.conftest import START

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
    assert user == UserView(user.id, "ana", "coordinator", None)  # no language chosen yet
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


# ---------------------------------------------------------------- managing accounts
def _add_admin(accounts: Accounts, name: str = "root") -> UserView:
    return accounts.add_user(name, "admin", PASSWORD)


def test_accounts_are_listed_with_role_activity_and_times_in_utc(
    accounts: Accounts, clock: ManualClock
) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    accounts.add_user("luis", "viewer", PASSWORD)
    clock.advance(timedelta(hours=1))
    accounts.open_session(accounts.account("luis").id)
    listed = [a.to_dict() for a in accounts.list_accounts()]
    assert listed == [
        {
            "username": "ana",
            "role": "coordinator",
            "active": True,
            "created_at": "2026-01-12T15:00:00+00:00",
            "last_login": None,
        },
        {
            "username": "luis",
            "role": "viewer",
            "active": True,
            "created_at": "2026-01-12T15:00:00+00:00",
            "last_login": "2026-01-12T16:00:00+00:00",
        },
    ]


def test_a_role_change_applies_and_an_unknown_role_or_user_is_refused(
    accounts: Accounts,
) -> None:
    accounts.add_user("ana", "viewer", PASSWORD)
    assert accounts.set_role("ana", "coordinator").role == "coordinator"
    with pytest.raises(InvalidData) as refused:
        accounts.set_role("ana", "superuser")
    assert refused.value.details[0]["field"] == "role"
    with pytest.raises(NotFound):
        accounts.set_role("nobody", "viewer")
    assert accounts.account("ana").role == "coordinator"


def test_the_last_active_admin_can_be_neither_demoted_nor_disabled(accounts: Accounts) -> None:
    _add_admin(accounts)
    with pytest.raises(NotAllowed, match="last active admin"):
        accounts.set_role("root", "coordinator")
    with pytest.raises(NotAllowed, match="last active admin"):
        accounts.disable("root")
    assert accounts.account("root").role == "admin"
    assert accounts.account("root").active
    # with a second admin, either may go
    _add_admin(accounts, "second")
    assert accounts.disable("second").active is False
    with pytest.raises(NotAllowed):  # a disabled admin does not count
        accounts.set_role("root", "viewer")
    accounts.enable("second")
    assert accounts.set_role("root", "viewer").role == "viewer"


def test_a_disabled_user_cannot_sign_in_and_their_sessions_and_tokens_end(
    accounts: Accounts,
) -> None:
    user = accounts.add_user("ana", "coordinator", PASSWORD)
    session = accounts.open_session(user.id)
    token = accounts.issue_token("ana")
    assert accounts.session_user(session) == user

    assert accounts.disable("ana").active is False

    assert accounts.authenticate("ana", PASSWORD) is None
    assert accounts.session_user(session) is None
    assert accounts.user_for_token(token) is None
    assert accounts.tokens("ana") == []
    with pytest.raises(NotAllowed, match="disabled"):
        accounts.issue_token("ana")
    # enabled again: a new sign-in works, the old session and token stay dead
    accounts.enable("ana")
    assert accounts.authenticate("ana", PASSWORD) == user
    assert accounts.session_user(session) is None
    assert accounts.user_for_token(token) is None


def test_a_password_set_by_an_administrator_ends_every_session(accounts: Accounts) -> None:
    user = accounts.add_user("ana", "coordinator", PASSWORD)
    sessions = [accounts.open_session(user.id) for _ in range(2)]
    token = accounts.issue_token("ana")
    assert accounts.set_password("ana", "a brand new password") == 2
    assert [accounts.session_user(s) for s in sessions] == [None, None]
    assert accounts.authenticate("ana", PASSWORD) is None
    assert accounts.authenticate("ana", "a brand new password") == user
    assert accounts.user_for_token(token) == user, "API tokens are separate credentials"
    with pytest.raises(InvalidData):
        accounts.set_password("ana", "short")
    with pytest.raises(NotFound):
        accounts.set_password("nobody", "a brand new password")


def test_changing_ones_own_password_keeps_only_a_fresh_session(accounts: Accounts) -> None:
    user = accounts.add_user("ana", "coordinator", PASSWORD)
    here, elsewhere = accounts.open_session(user.id), accounts.open_session(user.id)
    fresh = accounts.change_own_password(user.id, PASSWORD, "a brand new password")
    assert fresh not in (here, elsewhere)
    assert accounts.session_user(here) is None
    assert accounts.session_user(elsewhere) is None
    assert accounts.session_user(fresh) == user
    assert accounts.authenticate("ana", "a brand new password") == user


def test_a_wrong_current_password_changes_nothing(accounts: Accounts) -> None:
    user = accounts.add_user("ana", "coordinator", PASSWORD)
    session = accounts.open_session(user.id)
    with pytest.raises(InvalidData) as refused:
        accounts.change_own_password(user.id, "not my password", "a brand new password")
    assert refused.value.details == [{"field": "current_password", "message": "not right"}]
    with pytest.raises(InvalidData) as refused:
        accounts.change_own_password(user.id, PASSWORD, "short")
    assert refused.value.details[0]["field"] == "new_password"
    assert accounts.session_user(session) == user
    assert accounts.authenticate("ana", PASSWORD) == user


def test_sign_out_everywhere_ends_every_session_of_that_user_only(accounts: Accounts) -> None:
    ana = accounts.add_user("ana", "coordinator", PASSWORD)
    luis = accounts.add_user("luis", "viewer", PASSWORD)
    mine = [accounts.open_session(ana.id) for _ in range(3)]
    theirs = accounts.open_session(luis.id)
    assert accounts.sign_out_everywhere(ana.id) == 3
    assert all(accounts.session_user(s) is None for s in mine)
    assert accounts.session_user(theirs) == luis


def test_a_session_id_is_stored_only_as_its_sha256_and_ends_at_logout(
    accounts: Accounts, runtime: Runtime
) -> None:
    user = accounts.add_user("ana", "coordinator", PASSWORD)
    session = accounts.open_session(user.id)
    [row] = _stored(runtime, user_session_table)
    assert row["id"] == hashlib.sha256(session.encode()).hexdigest()
    assert session not in str(row)
    assert accounts.session_user(str(row["id"])) is None
    assert accounts.end_session(session)
    assert accounts.session_user(session) is None
    assert _stored(runtime, user_session_table) == []


def test_an_idle_session_expires_after_12_hours_and_a_used_one_goes_on(
    accounts: Accounts, clock: ManualClock
) -> None:
    user = accounts.add_user("ana", "coordinator", PASSWORD)
    idle, used = accounts.open_session(user.id), accounts.open_session(user.id)
    for _ in range(4):
        clock.advance(timedelta(hours=4))
        assert accounts.session_user(used) == user
    assert accounts.session_user(idle) is None  # 16 h without use
    clock.advance(timedelta(hours=12))
    assert accounts.session_user(used) is None


def test_expired_sessions_are_purged_at_the_next_sign_in(
    accounts: Accounts, runtime: Runtime, clock: ManualClock
) -> None:
    user = accounts.add_user("ana", "coordinator", PASSWORD)
    accounts.open_session(user.id)
    accounts.open_session(user.id)
    clock.advance(timedelta(hours=13))
    kept = accounts.open_session(user.id)
    rows = _stored(runtime, user_session_table)
    assert [r["id"] for r in rows] == [hashlib.sha256(kept.encode()).hexdigest()]


def test_last_seen_is_written_at_most_once_a_minute(
    accounts: Accounts, runtime: Runtime, clock: ManualClock
) -> None:
    user = accounts.add_user("ana", "coordinator", PASSWORD)
    session = accounts.open_session(user.id)
    clock.advance(timedelta(seconds=30))
    accounts.session_user(session)
    [row] = _stored(runtime, user_session_table)
    assert row["last_seen"] == START
    clock.advance(timedelta(seconds=31))
    accounts.session_user(session)
    [row] = _stored(runtime, user_session_table)
    assert row["last_seen"] == START + timedelta(seconds=61)
    assert row["expires_at"] == START + timedelta(seconds=61, hours=12)


# ---------------------------------------------------------------- token lifetimes
def test_a_token_expires_after_its_days(accounts: Accounts, clock: ManualClock) -> None:
    user = accounts.add_user("ana", "coordinator", PASSWORD)
    default = accounts.new_token("ana")
    short = accounts.new_token("ana", expires_days=1)
    assert default.expires_at == START + timedelta(days=90)
    assert default.to_dict() == {
        "username": "ana",
        "token": default.token,
        "expires_at": "2026-04-12T15:00:00+00:00",
    }
    assert default.token not in repr(default)
    clock.advance(timedelta(days=1))
    assert accounts.user_for_token(short.token) is None
    assert accounts.user_for_token(default.token) == user
    assert [t.id for t in accounts.tokens("ana")] == [default.id]
    clock.advance(timedelta(days=89))
    assert accounts.user_for_token(default.token) is None


@pytest.mark.parametrize("days", [0, -1, 3651, True])
def test_a_token_lifetime_outside_1_to_3650_days_is_refused(
    accounts: Accounts, runtime: Runtime, days: int
) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    with pytest.raises(InvalidData) as refused:
        accounts.new_token("ana", expires_days=days)
    assert refused.value.details[0]["field"] == "expires_days"
    assert _stored(runtime, api_token_table) == []


def test_a_token_from_before_expiries_lasts_the_default_90_days(
    accounts: Accounts, runtime: Runtime, clock: ManualClock
) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    token = accounts.issue_token("ana")
    with runtime.db.transaction() as conn:  # as migration 0007 left older tokens
        conn.execute(api_token_table.update().values(expires_at=None))
    [listed] = accounts.tokens("ana")
    assert listed.expires_at == START + timedelta(days=90)
    clock.advance(timedelta(days=90))
    assert accounts.user_for_token(token) is None


def test_token_last_used_is_written_at_most_once_a_minute(
    accounts: Accounts, clock: ManualClock
) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    issued = accounts.new_token("ana")
    [listed] = accounts.tokens("ana")
    assert listed.last_used is None
    accounts.user_for_token(issued.token)
    clock.advance(timedelta(seconds=59))
    accounts.user_for_token(issued.token)
    [listed] = accounts.tokens("ana")
    assert listed.last_used == START
    clock.advance(timedelta(seconds=1))
    accounts.user_for_token(issued.token)
    [listed] = accounts.tokens("ana")
    assert listed.last_used == START + timedelta(minutes=1)
    assert listed.to_dict() == {
        "id": issued.id,
        "created_at": "2026-01-12T15:00:00+00:00",
        "expires_at": "2026-04-12T15:00:00+00:00",
        "last_used": "2026-01-12T15:01:00+00:00",
    }


def test_a_token_is_revoked_by_its_id_and_only_for_its_owner(accounts: Accounts) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    accounts.add_user("luis", "coordinator", PASSWORD)
    issued = accounts.new_token("ana")
    with pytest.raises(NotFound):
        accounts.revoke_token_id(issued.id, owner="luis")
    assert accounts.user_for_token(issued.token) is not None
    accounts.revoke_token_id(issued.id)
    assert accounts.user_for_token(issued.token) is None
    with pytest.raises(NotFound, match="no live API token"):
        accounts.revoke_token_id(issued.id)
