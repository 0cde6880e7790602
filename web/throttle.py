"""The sign-in throttle: guessing passwords gets slower and slower for whoever guesses, and
for nobody else.

Every attempt is counted in the database (`sign_in_attempt`, storage/sign_in_attempts.py), so
all web instances share one count, under three keys: the account (`user:` and a SHA-256 of
the lower-cased name, so that a password typed into the name field is not kept in clear), the
client address (`addr:`; an IPv6 address counts as its /64, which one client usually holds
whole) and the pair (`pair:<address>|<account>`). Rows older than the window (24 h) are
purged a batch at a time at each attempt, so the table holds at most a window of attempts.

An attempt must wait until the latest of these, each counted from the last failure it names
and growing 1 s, 2 s, 4 s … up to 15 min with each further failure ("strike"):

1. this address on this account: a strike from the 5th failure on (5 free guesses, then
   1 s after the 5th, 2 s after the 6th …);
2. an address with 20 or more failures across accounts (spraying): on every account it has
   failed on, a strike from its 20th failure on;
3. an account with 50 or more failures from anywhere (guessing from many addresses): for
   every address that has itself failed in the window, a strike from the 50th on.

So an address that has not failed in the window is never made to wait, whatever other
addresses did: the real user signs in from their own address while their account is under
attack, and a shared address (an office behind one NAT) is slowed down only on the accounts
someone there got wrong. There is no fixed lock-out, only a delay that grows with failures.
The price of rules 1–3 is stated plainly: an address that never failed gets its first guess on
each account, so spraying one password over every account costs one guess per account.

The attempt is counted before the password is checked, in one transaction with the check of
the count (an advisory lock per key on PostgreSQL; `BEGIN IMMEDIATE` on SQLite), so parallel
guesses cannot all pass the check; a correct password takes its own attempt back and clears
the pair's failures. The client address is the peer's, or the `X-Forwarded-For` of a proxy
listed in `CICIE_TRUSTED_PROXIES` (uvicorn's `forwarded_allow_ips`, see `cicie serve`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.clock import Clock
from storage import sign_in_attempts as store
from storage.db import Database

ADDRESS_MAX = 100  # a client "address" that is not an IP address is cut to this


@dataclass(frozen=True)
class ThrottlePolicy:
    window: timedelta = timedelta(hours=24)
    pair_free: int = 5  # failures of one address on one account before any delay
    address_hot: int = 20  # failures of one address across accounts (rule 2)
    account_hot: int = 50  # failures on one account from anywhere (rule 3)
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=15)
    purge_batch: int = 500

    def delay(self, strikes: int) -> timedelta:
        """1 s, 2 s, 4 s … for strikes 1, 2, 3 …, capped at `max_delay`."""
        factor = 2 ** min(strikes - 1, 40)
        return min(self.first_delay * factor, self.max_delay)


@dataclass(frozen=True)
class Attempt:
    """The throttle's answer: `wait` seconds before trying again (nothing was counted), or
    None with the attempt counted as a failure until `SignInThrottle.succeeded` takes it
    back."""

    wait: int | None
    ids: tuple[int, ...] = ()
    pair_key: str = ""


def address_key(client: str) -> str:
    """`addr:` and the client's address: IPv4 as is, IPv6 as its /64 (an IPv4-mapped IPv6
    address as the IPv4 one); anything else (a test client's name) cut to a bounded length."""
    try:
        ip = ipaddress.ip_address(client)
    except ValueError:
        return "addr:" + client[:ADDRESS_MAX]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"addr:{ip.ipv4_mapped}"
        return f"addr:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"addr:{ip}"


def user_key(username: str) -> str:
    digest = hashlib.sha256(username.strip().lower().encode("utf-8")).hexdigest()[:40]
    return f"user:{digest}"


class SignInThrottle:
    def __init__(self, db: Database, clock: Clock, policy: ThrottlePolicy | None = None) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy or ThrottlePolicy()

    def attempt(self, username: str, client: str) -> Attempt:
        """Check and count one attempt in one transaction: checking first and counting after
        the password check would let parallel guesses all pass the check."""
        now = self.clock()
        user, addr = user_key(username), address_key(client)
        pair = f"pair:{addr.removeprefix('addr:')}|{user.removeprefix('user:')}"
        with self.db.transaction() as conn:
            store.lock(conn, (user, addr))
            seen = store.counts(conn, (user, addr, pair), now - self.policy.window)
            not_before = self._not_before(seen[pair], seen[addr], seen[user])
            if not_before is not None and not_before > now:
                return Attempt(wait=max(1, math.ceil((not_before - now).total_seconds())))
            ids = store.record(conn, (user, addr, pair), now)
            store.purge(conn, now - self.policy.window, self.policy.purge_batch)
        return Attempt(wait=None, ids=tuple(ids), pair_key=pair)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: this attempt is taken back and the failures of this
        address on this account are forgotten. The address's failures on other accounts and
        the account's failures from other addresses stay (they are somebody else's)."""
        with self.db.transaction() as conn:
            store.forget(conn, ids=attempt.ids, keys=(attempt.pair_key,))

    def _not_before(
        self, pair: store.KeyCount, addr: store.KeyCount, user: store.KeyCount
    ) -> datetime | None:
        policy = self.policy
        waits: list[datetime] = []
        if pair.last is not None and pair.count >= policy.pair_free:
            waits.append(pair.last + policy.delay(pair.count - policy.pair_free + 1))
        if pair.count and addr.last is not None and addr.count >= policy.address_hot:
            waits.append(addr.last + policy.delay(addr.count - policy.address_hot + 1))
        if addr.count and user.last is not None and user.count >= policy.account_hot:
            waits.append(user.last + policy.delay(user.count - policy.account_hot + 1))
        return max(waits, default=None)
