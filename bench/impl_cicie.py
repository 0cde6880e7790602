"""Adapter for the peer harness (../shared/bench/peers/run_bench.py --extra bench/impl_cicie.py).

Drives the real `Engine.advance` — the same code path the CLI and the API use: one
BEGIN IMMEDIATE transaction with the row read, the role and version checks, the guard (the
harness's own function, registered as the guard `peer_guard`), the machine firing, the
versioned UPDATE and the history INSERT. The engine brings its own schema (Alembic migrations),
hence OWN_SCHEMA.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import common  # noqa: E402  (the harness puts its folder on sys.path)
import sqlalchemy as sa  # noqa: E402
from pydantic import BaseModel  # noqa: E402
from sqlalchemy import event  # noqa: E402

from config.catalogues import load_catalogues  # noqa: E402
from engine.actor import Actor  # noqa: E402
from engine.clock import system_clock  # noqa: E402
from engine.registry import WorkflowRegistry  # noqa: E402
from engine.service import Engine  # noqa: E402
from storage import requests  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import history_table  # noqa: E402
from workflows.guard_api import GuardContext, GuardRegistry  # noqa: E402
from workflows.loader import load_file  # noqa: E402

LABEL = "cicie engine (transitions + SA Core)"
PACKAGES = ["transitions", "SQLAlchemy", "sqlmodel"]
OWN_SCHEMA = True
WORKFLOW = "bench_lifecycle"


class _PeerGuard(BaseModel):
    trigger: str


def _registry() -> GuardRegistry:
    guards = GuardRegistry()

    @guards.register("peer_guard", params=_PeerGuard)
    def peer_guard(ctx: GuardContext) -> list[str]:
        """The harness's guard for this trigger."""
        trigger = ctx.params.trigger
        if common.GUARDS[trigger](ctx.data):
            return []
        return [f"'{common.GUARD_FIELDS[trigger]}' must be non-empty before '{trigger}'"]

    return guards


class Impl:
    def __init__(self, db_path, sync, trace=None):
        self.db = Database(f"sqlite:///{db_path}", sqlite_synchronous=sync.upper())
        if trace:
            event.listen(
                self.db.engine, "connect", lambda dbapi, _rec: dbapi.set_trace_callback(trace)
            )
        upgrade(self.db)
        catalogues = load_catalogues()
        guards = _registry()
        definition = load_file(Path(__file__).with_name(f"{WORKFLOW}.yaml"), guards=guards)
        self.registry = WorkflowRegistry(
            catalogues, guards=guards, definitions={WORKFLOW: definition}
        )
        self.registry.sync(self.db, system_clock)
        self.engine = Engine(self.db, self.registry, catalogues)
        self.version = self.registry.current(WORKFLOW).version
        self.actors = {}

    def seed(self, rows):
        now = system_clock()
        with self.db.transaction() as conn:
            requests.insert_many(
                conn,
                [
                    {
                        "id": rid,
                        "programme": WORKFLOW,
                        "workflow_version": self.version,
                        "emb_id": None,
                        "title": data["requesting_body"][:300] or f"request {rid}",
                        "state": common.INITIAL,
                        "held_from": None,
                        "data": data,
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for rid, data in rows
                ],
            )

    def advance(self, rid, trigger, actor):
        who = self.actors.get(actor)
        if who is None:  # the harness's negative checks act as a bare "auditor"
            role, _, name = actor.partition(":")
            who = self.actors[actor] = Actor.parse(actor if name else f"coordinator:{role}")
        self.engine.advance(rid, trigger, who)

    def list_states(self):
        return self.engine.list_states()

    def list_actions(self):
        return self.engine.list_actions("coordinator")

    def history_rows(self):
        h = history_table
        with self.db.read() as conn:
            return [
                (
                    r.request_id,
                    r.from_state,
                    r.to_state,
                    r.trigger,
                    f"{r.actor_role}:{r.actor_name}",
                    r.at.isoformat(),
                )
                for r in conn.execute(
                    sa.select(
                        h.c.request_id,
                        h.c.from_state,
                        h.c.to_state,
                        h.c.trigger,
                        h.c.actor_role,
                        h.c.actor_name,
                        h.c.at,
                    ).order_by(h.c.id)
                )
            ]

    def close(self):
        self.db.dispose()
