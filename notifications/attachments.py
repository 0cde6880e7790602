"""The delegates' documents attached to a mail when the dispatcher sends it (issue 15).

A notification may declare `attach: [invitation_letter, agenda_pack]` (workflows/*.yaml). The
PDFs are not made inside the transition — it would hold the write transaction for the time
of drawing them, and a PDF is made from the request's data as it is when the mail leaves —
so the outbox writer stores **references** on the row (`outbox.attachments`, JSON:
[{"kind": "invitation_letter", "delegate": 2}, …]) and starts the stored message with one
marker line (`X-CICIE-Documents: N`), so the dispatcher recognises the few messages that
carry documents from their first bytes, with no query for the others. When it sends one,
`completed` reads the references, makes each PDF (documents/, in the delegate's language) and
`with_documents` splices them into the message as attachments, the marker removed.

Who gets which: a delegate (recipient role `delegates` or `intern`) their own documents;
anyone else (the EMB's contacts) every delegate's. A document that can no longer be made
(the event was withdrawn since, the delegate removed) is left out, with a warning in the log;
the mail itself still goes."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from engine.clock import Clock, system_clock
from engine.errors import CicieError
from engine.views import RequestView
from notifications.recipient import Recipient
from storage.db import Database
from storage.models import Outbox
from workflows.definition import DELEGATE_DOCUMENTS, NotifyDef

log = logging.getLogger(__name__)

MARKER = b"X-CICIE-Documents: "
KIND_OF = {"invitation_letter": "letter", "agenda_pack": "agenda"}
ZONE = "America/Mexico_City"  # the centre's day: the documents' date
_OWN_ONLY = ("delegates", "intern")
_OUTBOX = Outbox.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Pdf:
    filename: str  # ASCII
    data: bytes


# ------------------------------------------------------------------ when the mail is queued
def references(note: NotifyDef, recipient: Recipient, request: RequestView) -> list[dict[str, Any]]:
    """The documents `note` declares for `recipient`: each kind for each delegate it is
    meant for (a delegate: their own; anyone else: every delegate's)."""
    kinds = [k for k in note.attach if k in DELEGATE_DOCUMENTS]
    people = request.data.get("delegates")
    if not kinds or not isinstance(people, list):
        return []
    numbers = [n for n, p in enumerate(people, start=1) if isinstance(p, Mapping)]
    if recipient.role in _OWN_ONLY:
        address = recipient.address.lower()
        numbers = [
            n for n in numbers if str(people[n - 1].get("email") or "").strip().lower() == address
        ]
    return [{"kind": kind, "delegate": n} for n in numbers for kind in kinds]


def mark(body: bytes, refs: Sequence[Mapping[str, Any]]) -> bytes:
    """The message as stored: with the marker line first when it has documents to come."""
    return MARKER + str(len(refs)).encode("ascii") + b"\r\n" + body if refs else body


# ------------------------------------------------------------------ when the mail is sent
def pending(body: bytes) -> bool:
    return body.startswith(MARKER)


async def completed(db: Database, clock: Clock, outbox_id: int, body: bytes) -> bytes:
    """The message to send: `body` itself, or — for a row with documents — the message with
    its PDFs attached, made now (in a thread: drawing them takes a moment)."""
    if not pending(body):
        return body
    return await asyncio.to_thread(_complete, db, clock, outbox_id, body)


def _complete(db: Database, clock: Clock, outbox_id: int, body: bytes) -> bytes:
    with db.read() as conn:
        row = conn.execute(
            sa.select(_OUTBOX.c.request_id, _OUTBOX.c.attachments).where(_OUTBOX.c.id == outbox_id)
        ).first()
    refs = list(row.attachments or []) if row is not None else []
    if row is None or row.request_id is None or not refs:
        return with_documents(body, [])
    today = clock().astimezone(ZoneInfo(ZONE)).date()
    maker = _maker(db)
    return with_documents(
        body, refs, lambda kind, n: maker.make(int(row.request_id), kind, n, today)
    )


def with_documents(
    body: bytes,
    refs: Sequence[Mapping[str, Any]],
    make: Callable[[str, int], Pdf | None] | None = None,
) -> bytes:
    """`body` (as stored: marker line first) with the PDFs of `refs` attached and the marker
    removed. `make(kind, delegate)` draws one (None: it cannot be made now)."""
    message = _strip_marker(body)
    files = []
    for ref in refs:
        kind, number = ref.get("kind"), ref.get("delegate")
        if make is None or kind not in KIND_OF or not isinstance(number, int):
            continue
        found = make(str(kind), number)
        if found is not None:
            files.append(found)
    return attach(message, files) if files else message


def _strip_marker(body: bytes) -> bytes:
    if not pending(body):
        return body
    end = body.find(b"\r\n")
    return body[end + 2 :] if end >= 0 else body


class _Maker:
    """An engine of its own over the dispatcher's database, to read requests as they are."""

    def __init__(self, db: Database) -> None:
        from config.catalogues import load_catalogues
        from engine.registry import WorkflowRegistry
        from engine.service import Engine

        catalogues = load_catalogues()
        self.engine = Engine(db, WorkflowRegistry(catalogues), catalogues, clock=system_clock)

    def make(self, request_id: int, kind: str, number: int, today: date) -> Pdf | None:
        from documents import service

        try:
            document, data = service.pdf(
                self.engine, request_id, number, KIND_OF[kind], zone=ZONE, today=today
            )
        except CicieError as exc:  # withdrawn since, delegate removed: the mail goes without
            log.warning(
                "request %s: the %s of delegate %s is not attached: %s",
                request_id,
                kind,
                number,
                exc,
            )
            return None
        except Exception:  # never hold the mail back for a document
            log.exception("request %s: the %s of delegate %s failed", request_id, kind, number)
            return None
        return Pdf(document.filename, data)


_MAKERS: weakref.WeakKeyDictionary[Database, _Maker] = weakref.WeakKeyDictionary()


def _maker(db: Database) -> _Maker:
    found = _MAKERS.get(db)
    if found is None:
        found = _MAKERS[db] = _Maker(db)
    return found


# ------------------------------------------------------------------ MIME
_BOUNDARY = re.compile(rb'boundary="?([^";\r\n]+)"?', re.IGNORECASE)


def attach(message: bytes, files: Sequence[Pdf]) -> bytes:
    """`message` (as `notifications.render.build_message` writes it: headers, a blank line,
    the body) with `files` as PDF attachments: added to its multipart/mixed, or the body
    wrapped in a new multipart/mixed with them."""
    split = message.find(b"\r\n\r\n")
    if split < 0 or not files:
        return message
    head, body = message[: split + 2], message[split + 4 :]
    fields = _fields(head)
    content = [f for f in fields if f.lower().startswith((b"content-type:", b"content-transfer"))]
    kind = content[0].lower() if content else b""
    found = _BOUNDARY.search(content[0]) if content else None
    if kind.startswith(b"content-type: multipart/mixed") and found:
        closing = b"--" + found.group(1) + b"--"
        at = body.rfind(closing)
        if at >= 0:  # each part ends with CRLF: the new ones go before the closing line
            delimiter = b"--" + found.group(1) + b"\r\n"
            parts = b"".join(delimiter + _pdf_part(f) for f in files)
            return head + b"\r\n" + body[:at] + parts + body[at:]
    seed = hashlib.sha256(message[:2000]).hexdigest()[:24]
    boundary = f"=_doc_{seed}".encode("ascii")
    delimiter = b"--" + boundary + b"\r\n"
    kept = b"".join(f for f in fields if f not in content)
    inner = b"".join(content) + b"\r\n" + body
    return (
        kept
        + b'Content-Type: multipart/mixed; boundary="'
        + boundary
        + b'"\r\n\r\n'
        + delimiter
        + inner
        + b"".join(delimiter + _pdf_part(f) for f in files)
        + b"--"
        + boundary
        + b"--\r\n"
    )


def _fields(head: bytes) -> list[bytes]:
    """The header block as whole fields (a folded field with its continuation lines)."""
    out: list[bytes] = []
    for line in head.split(b"\r\n")[:-1]:
        if line[:1] in (b" ", b"\t") and out:
            out[-1] += line + b"\r\n"
        else:
            out.append(line + b"\r\n")
    return out


def _pdf_part(pdf: Pdf) -> bytes:
    encoded = base64.b64encode(pdf.data)
    lines = b"".join(encoded[i : i + 76] + b"\r\n" for i in range(0, len(encoded), 76))
    head = (
        f'Content-Type: application/pdf; name="{pdf.filename}"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment;\r\n filename="{pdf.filename}"\r\n\r\n'
    )
    return head.encode("ascii") + lines
