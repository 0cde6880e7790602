"""A request as callers see it (`RequestView`): built from the values an operation has just
written, or from a stored row."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.operations.availability import availability
from engine.views import Availability, RequestView
from engine.warnings import request_warnings
from storage.rows import RequestRow

if TYPE_CHECKING:  # `cicie request show` imports neither SQLAlchemy nor the compiler's callers
    from engine.actor import Actor
    from engine.compiler import CompiledWorkflow
    from engine.operations.core import EngineReader
    from storage.reads import ReadConnection


def request_view(
    engine: EngineReader,
    wf: CompiledWorkflow,
    request_id: int,
    programme: str,
    emb: str | None,
    title: str,
    state: str,
    held_from: str | None,
    data: dict[str, Any],
    version: int,
    created_at: datetime,
    updated_at: datetime,
) -> RequestView:
    return RequestView(
        id=request_id,
        programme=programme,
        workflow_version=wf.version,
        emb=emb,
        title=title,
        state=state,
        state_label=wf.definition.states[state].label.get(engine.language),
        held_from=held_from,
        data=data,
        version=version,
        created_at=created_at,
        updated_at=updated_at,
        state_labels=wf.definition.states[state].label,
    )


def view_of_row(
    engine: EngineReader,
    conn: ReadConnection,
    row: RequestRow,
    *,
    version: int,
    updated_at: datetime,
) -> RequestView:
    """A request's view after a change written by hand (the sweep's history rows)."""
    wf = engine.registry.get(conn, row.programme, row.workflow_version)
    return request_view(
        engine,
        wf,
        row.id,
        row.programme,
        row.emb_code,
        row.title,
        row.state,
        row.held_from,
        row.data,
        version,
        row.created_at,
        updated_at,
    )


def stored_view(engine: EngineReader, conn: ReadConnection, row: RequestRow) -> RequestView:
    """A request's view as stored."""
    return view_of_row(engine, conn, row, version=row.version, updated_at=row.updated_at)


def shown(
    engine: EngineReader, conn: ReadConnection, row: RequestRow, actor: Actor
) -> tuple[RequestView, list[Availability]]:
    """A stored request with its warnings (`view.warnings`) and, for each trigger of its
    state, whether `actor` may fire it now: what `Engine.show` answers, read in the caller's
    transaction (a SQLAlchemy one, or `cicie request show`'s plain SQLite one)."""
    wf = engine.registry.get(conn, row.programme, row.workflow_version)
    view = dataclasses.replace(
        stored_view(engine, conn, row), warnings=request_warnings(engine, conn, row)
    )
    return view, availability(engine, wf, row, actor)
