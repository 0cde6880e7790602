"""Signing in through the form: the session cookie, the CSRF token, and the throttle, which
slows down whoever guesses (growing waits, no fixed lock-out), is shared by every instance
through the database, and never makes an address that did not fail wait (web/throttle.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from starlette.testclient import TestClient

from engine.accounts import Accounts
from engine.bootstrap import Runtime
from engine.clock import ManualClock, system_clock
from storage import sign_in_attempts
from storage.db import Database
from tests.conftest import _empty_postgres
from tests.faults.conftest import Spawner
from tests.web.conftest import csrf_of
from tests.web.serving import Served, serve
from web.throttle import SignInThrottle, address_key

PASSWORD = "ana-password-long"
WRONG = "wrong-guess-x"
ATTACKER, OFFICE, HOME = "203.0.113.7", "198.51.100.20", "192.0.2.44"


def test_sign_in_sets_an_httponly_samesite_session_and_lands_on_the_target(
    client: TestClient, accounts: Accounts
) -> None:
    accounts.add_user("ana", "coordinator", "ana-password-long")
    form = client.get("/login?next=/outbox")
    assert form.status_code == 200
    response = client.post(
        "/login",
        data={
            "username": "ana",
            "password": "ana-password-long",
            "csrf_token": csrf_of(form.text),
            "next": "/outbox",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/outbox"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    client: TestClient, accounts: Accounts
) -> None:
    accounts.add_user("ana", "coordinator", "ana-password-long")
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"username": "ana", "password": "nope-nope-nope", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "username or the password" in response.text or "usuario o la contraseña" in response.text


def test_sign_in_without_the_csrf_token_is_refused(client: TestClient, accounts: Accounts) -> None:
    accounts.add_user("ana", "coordinator", "ana-password-long")
    client.get("/login")
    response = client.post("/login", data={"username": "ana", "password": "ana-password-long"})
    assert response.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303  # still signed out


def test_an_offsite_next_is_not_followed(client: TestClient, accounts: Accounts) -> None:
    accounts.add_user("ana", "coordinator", "ana-password-long")
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "username": "ana",
            "password": "ana-password-long",
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/work"  # a coordinator's home (Needs my action)


def test_pages_need_a_signed_in_user(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/")


def test_pages_carry_a_content_security_policy_without_inline_script(client: TestClient) -> None:
    csp = client.get("/login").headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp


# ---------------------------------------------------------------- the throttle
def browser_at(app: FastAPI, address: str) -> TestClient:
    """A browser whose requests come from `address` (its own cookie jar)."""
    return TestClient(app, client=(address, 50000))


def try_password(browser: TestClient, password: str, username: str = "ana") -> httpx.Response:
    token = csrf_of(browser.get("/login").text)
    return browser.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def fail(browser: TestClient, times: int, username: str = "ana") -> None:
    for _ in range(times):
        assert try_password(browser, WRONG, username).status_code == 401


def test_repeated_failures_are_throttled_even_with_the_right_password(
    client: TestClient, accounts: Accounts
) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    fail(client, 5)
    response = try_password(client, PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0


def test_the_wait_grows_with_each_failure_instead_of_a_fixed_lockout(
    app: FastAPI, accounts: Accounts, clock: ManualClock
) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    browser = browser_at(app, ATTACKER)
    fail(browser, 5)
    waits = []
    for _ in range(4):
        refused = try_password(browser, WRONG)
        assert refused.status_code == 429
        wait = int(refused.headers["retry-after"])
        waits.append(wait)
        clock.advance(timedelta(seconds=wait))
        assert try_password(browser, WRONG).status_code == 401  # counted: the next wait doubles
    assert waits == [1, 2, 4, 8]
    clock.advance(timedelta(seconds=16))
    assert try_password(browser, PASSWORD).status_code == 303  # no 15-minute lock-out


def test_the_wait_is_capped_at_fifteen_minutes(
    app: FastAPI, accounts: Accounts, clock: ManualClock
) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    browser = browser_at(app, ATTACKER)
    fail(browser, 5)
    for _ in range(12):
        clock.advance(timedelta(minutes=15))
        assert try_password(browser, WRONG).status_code == 401
    assert int(try_password(browser, WRONG).headers["retry-after"]) == 15 * 60


def test_a_clean_address_signs_in_while_another_address_is_throttled(
    app: FastAPI, accounts: Accounts
) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    attacker = browser_at(app, ATTACKER)
    fail(attacker, 5)
    assert try_password(attacker, WRONG).status_code == 429

    assert try_password(browser_at(app, HOME), PASSWORD).status_code == 303
    assert try_password(attacker, PASSWORD).status_code == 429  # still waiting


def test_failures_on_one_account_do_not_slow_others_at_the_same_address(
    app: FastAPI, accounts: Accounts
) -> None:
    """An office behind one address: one person's typos do not lock the others out."""
    accounts.add_user("ana", "coordinator", PASSWORD)
    accounts.add_user("bea", "viewer", "bea-password-long")
    office = browser_at(app, OFFICE)
    fail(office, 5, "bea")
    assert try_password(office, WRONG, "bea").status_code == 429
    assert try_password(browser_at(app, OFFICE), PASSWORD).status_code == 303


def test_guessing_from_many_addresses_slows_only_addresses_that_failed(
    app: FastAPI, accounts: Accounts
) -> None:
    accounts.add_user("ana", "coordinator", PASSWORD)
    bots = [browser_at(app, f"203.0.113.{n}") for n in range(1, 51)]
    for bot in bots:  # one guess each: no address reaches its own limit
        fail(bot, 1)
    refused = try_password(bots[0], PASSWORD)
    assert refused.status_code == 429  # an address that failed waits, right password or not
    assert try_password(browser_at(app, HOME), PASSWORD).status_code == 303


def test_an_address_spraying_many_accounts_is_slowed_on_the_accounts_it_tried(
    app: FastAPI, accounts: Accounts
) -> None:
    names = [f"user{n}" for n in range(20)]
    for name in names:
        accounts.add_user(name, "viewer", f"{name}-password-long")
    accounts.add_user("ana", "coordinator", PASSWORD)
    sprayer = browser_at(app, ATTACKER)
    for name in names:
        fail(sprayer, 1, name)
    assert try_password(sprayer, WRONG, names[0]).status_code == 429
    # an account it never failed on is not refused for what it did to the others
    assert try_password(sprayer, PASSWORD).status_code == 303


def test_parallel_guesses_share_one_count(runtime: Runtime, clock: ManualClock) -> None:
    """Each attempt is counted in the transaction that checks the count: twelve guesses at
    the same moment get exactly the five free ones between them."""
    throttle = SignInThrottle(runtime.db, clock)
    start = threading.Barrier(12)
    waits: list[int | None] = []
    lock = threading.Lock()

    def guess() -> None:
        start.wait()
        wait = throttle.attempt("ana", ATTACKER).wait
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert waits.count(None) == 5
    assert all(wait == 1 for wait in waits if wait is not None)


def test_attempts_older_than_the_window_are_purged(runtime: Runtime, clock: ManualClock) -> None:
    throttle = SignInThrottle(runtime.db, clock)
    for n in range(30):
        throttle.attempt(f"name{n}", f"203.0.113.{n}")
    with runtime.db.read() as conn:
        assert sign_in_attempts.count_all(conn) == 90  # account, address and pair
    clock.advance(throttle.policy.window + timedelta(seconds=1))
    throttle.attempt("ana", HOME)
    with runtime.db.read() as conn:
        assert sign_in_attempts.count_all(conn) == 3  # only the new attempt is kept


def test_an_ipv6_client_counts_as_its_64() -> None:
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:192.0.2.44") == address_key(HOME)


# ---------------------------------------------------------------- through real servers
@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawner]:
    spawner = Spawner(tmp_path)
    try:
        yield spawner
    finally:
        spawner.stop_all()


@pytest.fixture
def pg_url(postgres_database: str) -> str:
    """The test worker's PostgreSQL database, emptied (for servers in other processes)."""
    _empty_postgres(postgres_database)
    return postgres_database


def add_ana(database_url: str) -> None:
    """A user on the database the servers share (a cheap hash: any argon2 hash verifies)."""
    db = Database(database_url)
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    Accounts(db, system_clock, cheap).add_user("ana", "coordinator", PASSWORD)
    db.dispose()


def post_password(
    http: httpx.Client, password: str, forwarded_for: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    token = csrf_of(http.get("/login").text)
    return http.post(
        "/login",
        data={"username": "ana", "password": password, "csrf_token": token},
        headers=headers,
    )


def guesses_until_refused(
    servers: list[Served], forwarded_for: list[str | None], limit: int = 10
) -> int | None:
    """Wrong passwords, sent to `servers` in turn, until one answers 429: how many were sent
    then (None if none did within `limit`). The wait after the 5th failure is 1 s, then 2, 4,
    8, 16: however slow the machine, a shared count refuses well within 10 guesses, while
    counts kept per process would let each of two servers take 5 guesses."""
    clients = [httpx.Client(base_url=s.url, timeout=30) for s in servers]
    try:
        for n in range(limit):
            response = post_password(clients[n % len(clients)], WRONG, forwarded_for[n])
            if response.status_code == 429:
                return n + 1
            assert response.status_code == 401, response.text
        return None
    finally:
        for http in clients:
            http.close()


def test_a_spoofed_forwarded_for_changes_nothing_by_default(
    spawn: Spawner, sqlite_url: str
) -> None:
    add_ana(sqlite_url)
    server = serve(spawn, sqlite_url)
    spoofed: list[str | None] = [f"198.51.100.{n}" for n in range(1, 11)]
    assert guesses_until_refused([server], spoofed) is not None, "X-Forwarded-For was believed"


def test_a_trusted_proxy_s_forwarded_for_is_the_client_address(
    spawn: Spawner, sqlite_url: str
) -> None:
    add_ana(sqlite_url)
    server = serve(spawn, sqlite_url, trusted_proxies="127.0.0.1")
    clients: list[str | None] = [f"198.51.100.{n}" for n in range(1, 11)]
    assert guesses_until_refused([server], clients) is None  # ten clients, one guess each
    one_client: list[str | None] = [OFFICE] * 10
    assert guesses_until_refused([server], one_client) is not None  # one client, ten guesses
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert post_password(http, PASSWORD, HOME).status_code == 303  # a clean client


@pytest.mark.postgres
def test_two_instances_on_one_postgresql_share_the_count(spawn: Spawner, pg_url: str) -> None:
    add_ana(pg_url)
    servers = [serve(spawn, pg_url, "first"), serve(spawn, pg_url, "second")]
    refused_at = guesses_until_refused(servers, [None] * 10)
    assert refused_at is not None, "each instance counted only its own failures"
