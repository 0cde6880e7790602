"""The rows the engine reads, as plain values: defined here, without SQLAlchemy, so that the
code that only looks at a request (`cicie request show`, the warning rules) can be imported
without the database layer (issue 16). `storage.requests` reads and writes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RequestRow:
    id: int
    programme: str
    workflow_version: int
    emb_id: int | None
    emb_code: str | None
    title: str
    state: str
    held_from: str | None
    data: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class HistoryRow:
    id: int
    request_id: int
    version: int
    at: datetime
    actor_role: str
    actor_name: str
    trigger: str
    from_state: str | None
    to_state: str
    comment: str | None
    data_diff: dict[str, Any] | None
