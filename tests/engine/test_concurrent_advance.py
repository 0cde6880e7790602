"""Many threads advance and update the same requests at once (SQLite and PostgreSQL, the real
engine): a stale write is refused as the domain's conflict (`VersionConflict`, HTTP 409) and
writes nothing; nothing is lost (every success is a version of its own, in the history, and
the final data is the last successful update's); the history has no gap; and every attempt
ends as a success or a conflict, nothing else.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from engine.actor import Actor
from engine.errors import VersionConflict
from engine.service import Engine
from storage.models import history_table

THREADS = 8
ROUNDS = 12
HOLD_DATA = {"hold_reason": "waiting for the budget"}
_SERIAL = itertools.count()  # next() on it is atomic under the GIL


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    attempts: int = 0
    conflicts: int = 0
    # (request, version produced, kind, value written)
    successes: list[tuple[int, int, str, str | None]] = field(default_factory=list)

    def ok(self, rid: int, version: int, kind: str, value: str | None = None) -> None:
        with self.lock:
            self.attempts += 1
            self.successes.append((rid, version, kind, value))

    def conflict(self) -> None:
        with self.lock:
            self.attempts += 1
            self.conflicts += 1


def _attempt(engine: Engine, actor: Actor, tally: Tally, rid: int, version: int, how: str) -> None:
    """One write the caller decided on having read `version`."""
    try:
        if how == "update":
            value = f"{actor.name}@{version}:{next(_SERIAL)}"  # a real change every time
            view = engine.update(rid, actor, data={"contact_name": value}, expected_version=version)
            tally.ok(rid, view.version, "update", value)
        elif how == "blind-update":  # no version given: serialised by the row lock, never stale
            value = f"{actor.name}@blind:{next(_SERIAL)}"
            view = engine.update(rid, actor, data={"contact_name": value})
            tally.ok(rid, view.version, "update", value)
        else:
            view = engine.get(rid) if how == "reread" else None
            state = view.state if view else how
            trigger = "resume" if state == "on_hold" else "put_on_hold"
            data = HOLD_DATA if trigger == "put_on_hold" else None
            moved = engine.advance(
                rid, trigger, actor, data=data, expected_version=view.version if view else version
            )
            tally.ok(rid, moved.version, trigger)
    except VersionConflict:  # the domain's conflict: HTTP 409 `conflict`
        tally.conflict()


def test_concurrent_advances_and_updates_conflict_cleanly_and_lose_nothing(
    engine: Engine, make_emb: Callable[..., str]
) -> None:
    coordinator = Actor("coordinator", "ana")
    ids = [
        engine.create("internship", emb_code=make_emb(), title=f"shared {i}", actor=coordinator).id
        for i in range(2)
    ]
    tally = Tally()

    # 1. everyone read version 1 of request A, then everyone writes with it: one wins
    first = ids[0]
    read = threading.Barrier(THREADS)

    def race(n: int) -> None:
        actor = Actor("coordinator", f"t{n}")
        version = engine.get(first).version
        read.wait()
        _attempt(engine, actor, tally, first, version, "update" if n % 2 else "intake")

    threads = [threading.Thread(target=race, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(tally.successes) == 1
    assert tally.conflicts == THREADS - 1

    # 2. a free-for-all on both requests: read, then advance or update with what was read
    errors: list[BaseException] = []

    def churn(n: int) -> None:
        rng = random.Random(n)
        actor = Actor("coordinator", f"t{n}")
        try:
            for _ in range(ROUNDS):
                rid = rng.choice(ids)
                view = engine.get(rid)
                how = rng.choice(["update", "advance", "advance", "blind-update"])
                if how == "advance":
                    how = view.state  # decide the trigger from the state read
                _attempt(engine, actor, tally, rid, view.version, how)
        except BaseException as exc:  # anything but a success or a conflict fails the test
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(tally.successes) + tally.conflicts == tally.attempts == THREADS * (ROUNDS + 1)

    # no lost update, no gap: each success is its own version, all in the history
    produced = Counter((rid, version) for rid, version, _, _ in tally.successes)
    assert set(produced.values()) == {1}, "two successes claim the same version"
    with engine.db.read() as conn:
        history = Counter(
            conn.execute(sa.select(history_table.c.request_id, history_table.c.version)).all()
        )
    assert set(history.values()) == {1}, "a version recorded twice"
    for rid in ids:
        final = engine.get(rid)
        versions = sorted(v for r, v in history if r == rid)
        assert versions == list(range(1, final.version + 1)), "a gap in the history"
        mine = sorted((v, kind, value) for r, v, kind, value in tally.successes if r == rid)
        assert final.version == 1 + len(mine), "an update was lost (or counted twice)"
        updates = [value for _v, kind, value in mine if kind == "update"]
        if updates:
            assert final.data.get("contact_name") == updates[-1]
        holds = [kind for _v, kind, _ in mine if kind != "update"]
        assert final.state == ("on_hold" if len(holds) % 2 else "intake")
