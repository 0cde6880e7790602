"""Queries on final-report drafts and their PDF attachments (sent through report links).

Callers hold the request's row lock (`hot_path.lock_request`) in the same transaction, so a
draft's upsert and the attachment count are never raced by a second tab or a second click."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from storage.models import report_attachment_table, report_draft_table

D = report_draft_table
A = report_attachment_table


@dataclass(frozen=True)
class DraftRow:
    request_id: int
    fields: dict[str, str]
    saved_by: str
    updated_at: datetime


@dataclass(frozen=True)
class AttachmentRow:
    id: int
    request_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    submitted: bool
    created_at: datetime


_ATTACHMENT_COLS = (
    A.c.id,
    A.c.request_id,
    A.c.filename,
    A.c.content_type,
    A.c.size,
    A.c.sha256,
    A.c.uploaded_by,
    A.c.submitted,
    A.c.created_at,
)


def _fields(text: str) -> dict[str, str]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def get_draft(conn: sa.Connection, request_id: int) -> DraftRow | None:
    row = conn.execute(
        sa.select(D.c.request_id, D.c.data, D.c.saved_by, D.c.updated_at).where(
            D.c.request_id == request_id
        )
    ).first()
    if row is None:
        return None
    return DraftRow(row.request_id, _fields(row.data), row.saved_by, row.updated_at)


def save_draft(
    conn: sa.Connection, *, request_id: int, fields: dict[str, str], saved_by: str, now: datetime
) -> None:
    values = {
        "data": json.dumps(fields, ensure_ascii=False),
        "saved_by": saved_by,
        "updated_at": now,
    }
    updated = conn.execute(D.update().where(D.c.request_id == request_id).values(**values))
    if updated.rowcount == 0:
        conn.execute(D.insert().values(request_id=request_id, **values))


def delete_draft(conn: sa.Connection, request_id: int) -> None:
    conn.execute(D.delete().where(D.c.request_id == request_id))


def attachments(conn: sa.Connection, request_id: int) -> list[AttachmentRow]:
    rows = conn.execute(
        sa.select(*_ATTACHMENT_COLS).where(A.c.request_id == request_id).order_by(A.c.id)
    ).all()
    return [AttachmentRow(*r) for r in rows]


def add_attachment(
    conn: sa.Connection,
    *,
    request_id: int,
    filename: str,
    content_type: str,
    data: bytes,
    sha256: str,
    uploaded_by: str,
    now: datetime,
) -> int:
    result = conn.execute(
        A.insert().values(
            request_id=request_id,
            filename=filename,
            content_type=content_type,
            size=len(data),
            sha256=sha256,
            data=data,
            uploaded_by=uploaded_by,
            submitted=False,
            created_at=now,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def attachment_with_data(
    conn: sa.Connection, request_id: int, attachment_id: int
) -> tuple[AttachmentRow, bytes] | None:
    """One attachment of one request (an id of another request's attachment finds nothing)."""
    row = conn.execute(
        sa.select(*_ATTACHMENT_COLS, A.c.data).where(
            A.c.id == attachment_id, A.c.request_id == request_id
        )
    ).first()
    if row is None:
        return None
    return AttachmentRow(*row[:-1]), bytes(row[-1])


def remove_draft_attachment(conn: sa.Connection, request_id: int, attachment_id: int) -> bool:
    """Remove an attachment not yet submitted; a submitted one stays."""
    result = conn.execute(
        A.delete().where(
            A.c.id == attachment_id, A.c.request_id == request_id, A.c.submitted.is_(False)
        )
    )
    return bool(result.rowcount)


def mark_submitted(conn: sa.Connection, request_id: int) -> int:
    result = conn.execute(
        A.update()
        .where(A.c.request_id == request_id, A.c.submitted.is_(False))
        .values(submitted=True)
    )
    return int(result.rowcount)
