"""The outbox for coordinators: how many messages are queued, being retried, sent or dead;
each message as it will be (or was) sent; and sending a dead letter again — the same bytes,
so the same Message-ID (`storage.outbox.retry`, the CLI's `cicie outbox retry`)."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from notifications import stored
from storage import dashboard as store
from storage import outbox
from web.pages.deps import EngineDep, Form, PagesDep, RuntimeDep, Writer
from web.params import MessagePageId
from web.templating import flash, gettext_for

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
MessageId = MessagePageId  # a bad or out-of-range id is the 404 page


@router.get("/outbox")
def outbox_page(
    request: Request,
    pages: PagesDep,
    runtime: RuntimeDep,
    _user: Writer,
    status_filter: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    view = status_filter if status_filter in store.OUTBOX_VIEWS else None
    with runtime.db.read() as conn:
        counts = store.outbox_counts(conn)
        total = store.outbox_total(conn, view)
        pages_count = max(1, -(-total // PAGE_SIZE))
        page = min(page, pages_count)
        rows = store.outbox_page(conn, view=view, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        titles = store.request_titles(conn, [r.request_id for r in rows if r.request_id])
    return pages.render(
        request,
        "outbox.html",
        {
            "counts": counts,
            "views": store.OUTBOX_VIEWS,
            "current": view or "",
            "rows": rows,
            "titles": titles,
            "page": page,
            "pages_count": pages_count,
            "total": total,
            "unassembled": stored.UNASSEMBLED,
        },
    )


def _screen_status(status_value: str, attempts: int) -> str:
    if status_value == "pending":
        return "retrying" if attempts > 0 else "queued"
    return status_value


def _parts(raw: bytes) -> dict[str, Any]:
    """Headers, the plain-text body and the attachments' names of a stored message."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    headers = [(name, str(value)) for name, value in message.items()]
    text = ""
    body = message.get_body(preferencelist=("plain",))
    if body is not None:
        content = body.get_content()
        text = content if isinstance(content, str) else ""
    attachments = [
        (part.get_filename() or part.get_content_type()) for part in message.iter_attachments()
    ]
    return {"headers": headers, "text": text, "attachments": attachments}


@router.get("/outbox/{message_id}")
def outbox_message(
    request: Request, message_id: MessageId, pages: PagesDep, runtime: RuntimeDep, _user: Writer
) -> HTMLResponse:
    with runtime.db.read() as conn:
        row = store.outbox_row(conn, message_id)
        raw = stored.message_bytes(conn, message_id) if row is not None else None
        titles = store.request_titles(conn, [row.request_id] if row and row.request_id else [])
    if row is None or raw is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no message {message_id} in the outbox")
    return pages.render(
        request,
        "outbox_message.html",
        {
            "row": row,
            "screen_status": _screen_status(row.status, row.attempts),
            "parts": _parts(raw),
            "titles": titles,
            "unassembled": stored.UNASSEMBLED,
        },
        headers={"Cache-Control": "no-store"},  # the text carries the signed links it sends
    )


@router.post("/outbox/{message_id}/resend")
def resend(
    request: Request,
    message_id: MessageId,
    runtime: RuntimeDep,
    engine: EngineDep,
    _user: Writer,
    _form: Form,
) -> Response:
    gettext = gettext_for(request)
    if outbox.retry(runtime.db, message_id, engine.clock()):
        engine.committed()  # wake the dispatcher, if one listens
        flash(request, gettext("The message is queued again, with the same Message-ID."), "ok")
    else:
        with runtime.db.read() as conn:
            row = store.outbox_row(conn, message_id)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no message {message_id} in the outbox")
        flash(request, gettext("Only a dead letter can be sent again."), "error")
    return RedirectResponse(f"/outbox/{message_id}", status.HTTP_303_SEE_OTHER)
