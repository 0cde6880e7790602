"""The engine's façade: `Engine` is what the CLI, the web, the worker and the tests call.

Each operation is one transaction: everything it writes commits together or not at all, and a
refusal writes nothing. The operations live in `engine/operations/`, one module per job
(`create`, `advance`, `update`, `timeline`, `queries`, with the steps they share: `locking`,
`validation`, `rules`, `availability`, `request_view`); the EMBs' in `engine/organisations.py`.

An operation is a function whose first parameter is the engine (`EngineCore`: database,
registry, catalogues, clock, listeners). Assigned in the class body below, it is an ordinary
method of `Engine` — same name, signature and behaviour, and no extra call on the hot path.
"""

from __future__ import annotations

from engine.operations import advance as advance_op
from engine.operations import create as create_op
from engine.operations import queries as queries_op
from engine.operations import request_view as request_view_op
from engine.operations import rules as rules_op
from engine.operations import timeline as timeline_op
from engine.operations import update as update_op
from engine.operations.core import EngineCore
from engine.operations.create import CREATE_ROLES, CREATE_TRIGGER
from engine.operations.rules import REQUIRED_GUARD, last_moves_out
from engine.operations.update import UPDATE_ROLES, UPDATE_TRIGGER
from engine.organisations import Organisations
from engine.views import EmbView
from storage import embs

__all__ = [
    "CREATE_ROLES",
    "CREATE_TRIGGER",
    "REQUIRED_GUARD",
    "UPDATE_ROLES",
    "UPDATE_TRIGGER",
    "Engine",
    "last_moves_out",
]


class Engine(EngineCore):
    # ------------------------------------------------------------------ requests
    create = create_op.create
    advance = advance_op.advance
    advance_in = advance_op.advance_in
    update = update_op.update
    timeline = timeline_op.timeline
    get = queries_op.get
    show = queries_op.show
    warnings = queries_op.warnings
    history = queries_op.history
    list_requests = queries_op.list_requests
    list_actions = queries_op.list_actions
    list_states = queries_op.list_states
    definition_of = queries_op.definition_of

    # ------------------------------------------------------------------ for other operations
    # (the sweep, report uploads and migrations write their own rows, then use these)
    rule_failures = rules_op.rule_failures
    view_of_row = request_view_op.view_of_row

    # ------------------------------------------------------------------ EMBs
    # (engine/organisations.py holds the operations; these names stay for the callers)
    def _organisations(self) -> Organisations:
        return Organisations(self.db, self.catalogues, self.clock)

    @property
    def organisations(self) -> Organisations:
        """Every operation on organisations: get, set_active, request_counts, import_rows…"""
        return self._organisations()

    def add_emb(
        self,
        *,
        code: str,
        name: str,
        country: str,
        language: str,
        email: str | None = None,
        kind: str = "emb",
    ) -> EmbView:
        return self._organisations().add(
            code=code, name=name, country=country, language=language, email=email, kind=kind
        )

    def update_emb(
        self,
        code: str,
        *,
        name: str | None = None,
        email: str | None = None,
        language: str | None = None,
        kind: str | None = None,
    ) -> EmbView:
        return self._organisations().update(
            code, name=name, email=email, language=language, kind=kind
        )

    def emb_row(self, code: str | None) -> embs.EmbRow | None:
        """One EMB's record (for recipients and pages), None for no or an unknown code."""
        if not code:
            return None
        with self.db.read() as conn:
            return embs.by_code(conn, code)

    def list_embs(self, *, active_only: bool = False) -> list[EmbView]:
        """Every organisation; with `active_only`, those that may open new requests."""
        return self._organisations().all(active_only=active_only)
