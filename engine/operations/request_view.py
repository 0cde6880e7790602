"""A request as callers see it (`RequestView`): built from the values an operation has just
written, or from a stored row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine.compiler import CompiledWorkflow
from engine.operations.core import EngineCore
from engine.views import RequestView
from storage.requests import RequestRow


def request_view(
    engine: EngineCore,
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
    engine: EngineCore, conn: sa.Connection, row: RequestRow, *, version: int, updated_at: datetime
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


def stored_view(engine: EngineCore, conn: sa.Connection, row: RequestRow) -> RequestView:
    """A request's view as stored."""
    return view_of_row(engine, conn, row, version=row.version, updated_at=row.updated_at)
