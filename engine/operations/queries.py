"""Reading requests: one (with what an actor may do next), its history with the mail each
change queued, lists, and the compiled workflow a request is pinned to. Read transactions
only; nothing here writes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from engine.actor import Actor
from engine.compiler import CompiledWorkflow
from engine.errors import NotFound
from engine.operations.core import EngineCore
from engine.operations.request_view import shown, stored_view
from engine.views import Availability, HistoryEntry, RequestView
from engine.warnings import Notice, request_warnings
from i18n import Text
from storage import hot_path, outbox, requests
from storage.requests import RequestRow


def get(engine: EngineCore, request_id: int) -> RequestView:
    with engine.db.read() as conn:
        row = requests.get(conn, request_id)
        if row is None:
            raise NotFound(Text("There is no request %(id)s.", id=request_id))
        return stored_view(engine, conn, row)


def show(
    engine: EngineCore, request_id: int, actor: Actor
) -> tuple[RequestView, list[Availability]]:
    """A request with its warnings (`view.warnings`) and, for each trigger of its state,
    whether `actor` may fire it now."""
    with engine.db.read() as conn:
        row = requests.get(conn, request_id)
        if row is None:
            raise NotFound(Text("There is no request %(id)s.", id=request_id))
        # the same steps as `cicie request show` on SQLite (cli.lean_show), which reads the
        # row with plain sqlite3
        return shown(engine, conn, row, actor)


def _warnings(
    engine: EngineCore,
    conn: sa.Connection,
    row: RequestRow,
    shared: dict[object, Any] | None = None,
) -> tuple[Notice, ...]:
    """What does not block `row` but a coordinator must see, read in the caller's
    transaction; today is the engine clock's date in the centre's zone. `shared`: the reads
    of other rows the rules made for the other requests of the same transaction."""
    return request_warnings(engine, conn, row, shared)


def warnings(engine: EngineCore, request_ids: Iterable[int]) -> dict[int, tuple[Notice, ...]]:
    """The warnings of the requests `request_ids` (e.g. those a page lists), in one read
    transaction; a request without any, or unknown, is left out."""
    out: dict[int, tuple[Notice, ...]] = {}
    with engine.db.read() as conn:
        # the listed rows in one statement, not one each (a dashboard page lists 50)
        wanted = list(dict.fromkeys(request_ids))
        rows = requests.by_ids(conn, wanted)
        shared: dict[object, Any] = {}
        # their organisations' countries in one statement too (the election rule's)
        from engine.warning_rules.elections import share_emb_countries

        share_emb_countries(conn, rows.values(), shared)
        # … and the courses of their courses' years, with only what the rule reads of them
        from engine.warning_rules.courses_per_year import share_courses_of_years

        share_courses_of_years(conn, rows.values(), shared, engine.business_time.local_date)
        for request_id in wanted:
            row = rows.get(request_id)
            if row is None:
                continue
            found = _warnings(engine, conn, row, shared)
            if found:
                out[request_id] = found
    return out


def history(engine: EngineCore, request_id: int) -> list[HistoryEntry]:
    """Every change, oldest first, each with the messages it queued."""
    with engine.db.read() as conn:
        if requests.get(conn, request_id) is None:
            raise NotFound(Text("There is no request %(id)s.", id=request_id))
        mails = outbox.by_history(conn, request_id)
        return [
            HistoryEntry(
                h.id,
                h.version,
                h.at,
                f"{h.actor_role}:{h.actor_name}",
                h.trigger,
                h.from_state,
                h.to_state,
                h.comment,
                h.data_diff,
                tuple(
                    {
                        "id": m.id,
                        "to": m.to_addr,
                        "template": m.template,
                        "language": m.language,
                        # the recipient's own language; differs from `language` on a fallback
                        "wanted_language": m.wanted_language,
                        "status": m.status,
                    }
                    for m in mails.get(h.id, ())
                ),
            )
            for h in requests.history(conn, request_id)
        ]


def list_requests(
    engine: EngineCore,
    *,
    state: str | None = None,
    programme: str | None = None,
    emb_code: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[RequestView]:
    with engine.db.read() as conn:
        rows = requests.listing(
            conn,
            state=state,
            programme=programme,
            emb_code=emb_code,
            limit=limit,
            offset=offset,
        )
        return [stored_view(engine, conn, r) for r in rows]


def list_actions(engine: EngineCore, role: str) -> dict[int, tuple[str, ...]]:
    """Every request's triggers open to `role` in its state (guards are not evaluated:
    this is the list view's cheap answer; `show` gives the full one)."""
    out: dict[int, tuple[str, ...]] = {}
    with engine.db.read() as conn:
        for (programme, version), rows in hot_path.request_states(conn).items():
            wf = engine.registry.get(conn, programme, version)
            by_state = {state: wf.triggers_for(state, role) for state in wf.definition.states}
            out.update({rid: by_state[state] for rid, state in rows})
    return out


def list_states(engine: EngineCore) -> dict[int, str]:
    with engine.db.read() as conn:
        return {
            rid: state for rows in hot_path.request_states(conn).values() for rid, state in rows
        }


def definition_of(engine: EngineCore, view: RequestView) -> CompiledWorkflow:
    """The compiled workflow version a request is pinned to."""
    found = engine.registry.cached(view.programme, view.workflow_version)
    if found is not None:
        return found
    with engine.db.read() as conn:
        return engine.registry.get(conn, view.programme, view.workflow_version)
