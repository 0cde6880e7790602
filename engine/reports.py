"""Final reports sent by interns and delegates through a report link: a draft they can come
back to, PDF attachments, and the submission (the workflow's `submit_report`).

Every operation is one transaction that first locks the request's row, so a draft saved in
one tab and a report submitted in another never interleave. Submitting stores the new
attachments, fires `submit_report` (`Engine.advance_in`: the same validation, guards, history
row and mail as any transition), marks the attachments submitted and clears the draft — all
committed together or not at all. Attachments are checked here as well as where they are
read: at most `max_bytes` each, a name ending in `.pdf` and content starting with `%PDF-`,
at most `max_files` per request."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from engine.actor import Actor
from engine.errors import CicieError, InvalidData, NotFound
from engine.service import Engine
from engine.views import RequestView
from storage import hot_path
from storage import report_drafts as store
from storage import requests as request_rows

REPORT_FIELDS = (
    "final_report_experience",
    "final_report_adaptations",
    "final_report_recommendations",
)
AWAITING_STATES = ("final_report", "report_overdue")
SUBMIT_TRIGGER = "submit_report"
MAX_SECTION_CHARS = 20_000
PDF_MAGIC = b"%PDF-"
PDF_TYPE = "application/pdf"
ACTOR_NAME_MAX = 120  # history.actor_name


class AttachmentTooLarge(CicieError):
    code = "too_large"


class AttachmentRefused(CicieError):
    """Not a PDF: the name does not end in .pdf or the content does not start with %PDF-."""

    code = "unsupported_media_type"


class TooManyAttachments(CicieError):
    code = "too_many_files"


class NotAwaitingReport(CicieError):
    code = "conflict"


@dataclass(frozen=True)
class Upload:
    """A file as received, before it is stored."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class Submission:
    at: datetime
    by: str  # the address the report link was issued to (or the coordinator's name)


@dataclass(frozen=True)
class ReportState:
    view: RequestView
    awaiting: bool
    draft: store.DraftRow | None
    attachments: list[store.AttachmentRow]
    submitted: Submission | None


def reporter_role(programme: str) -> str:
    """Who writes the report: the intern of an internship, a delegate otherwise."""
    return "intern" if programme == "internship" else "delegate"


def clean_filename(name: str) -> str:
    """The file's own name (no folders), without control characters, at most 200 long."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 200 - len(ext) - 1] + dot + ext) if dot else base[:200]
    return base or "attachment.pdf"


def check_upload(filename: str, data: bytes, max_bytes: int) -> None:
    """Refuse a file that is too large or is not a PDF (name and content both checked)."""
    if len(data) > max_bytes:
        raise AttachmentTooLarge(
            f"'{clean_filename(filename)}' is larger than {max_bytes // (1024 * 1024) or 1} MB",
            [{"field": "attachments", "message": "too large", "limit": max_bytes}],
        )
    if not (filename or "").lower().endswith(".pdf") or not data.startswith(PDF_MAGIC):
        raise AttachmentRefused(
            f"'{clean_filename(filename)}' is not a PDF file",
            [{"field": "attachments", "message": "not a PDF"}],
        )


def _clean_sections(fields: Mapping[str, object]) -> dict[str, str]:
    out: dict[str, str] = {}
    errors = []
    for name in REPORT_FIELDS:
        value = fields.get(name)
        text = value.replace("\r\n", "\n") if isinstance(value, str) else ""
        if len(text) > MAX_SECTION_CHARS:
            errors.append({"field": name, "message": f"at most {MAX_SECTION_CHARS} characters"})
        out[name] = text
    if errors:
        raise InvalidData("a section of the report is too long", errors)
    return out


class FinalReports:
    def __init__(self, engine: Engine, *, max_bytes: int, max_files: int) -> None:
        self.engine = engine
        self.db = engine.db
        self.max_bytes = max_bytes
        self.max_files = max_files

    # ------------------------------------------------------------------ reads
    def state(self, request_id: int) -> ReportState:
        with self.db.read() as conn:
            row = request_rows.get(conn, request_id)
            if row is None:
                raise NotFound(f"no request {request_id}")
            view = self.engine.view_of_row(
                conn, row, version=row.version, updated_at=row.updated_at
            )
            submitted = None
            for h in request_rows.history(conn, request_id):
                if h.trigger == SUBMIT_TRIGGER:
                    submitted = Submission(h.at, h.actor_name)
            return ReportState(
                view=view,
                awaiting=row.state in AWAITING_STATES,
                draft=store.get_draft(conn, request_id),
                attachments=store.attachments(conn, request_id),
                submitted=submitted,
            )

    def attachment(self, request_id: int, attachment_id: int) -> tuple[store.AttachmentRow, bytes]:
        with self.db.read() as conn:
            found = store.attachment_with_data(conn, request_id, attachment_id)
        if found is None:
            raise NotFound(f"request {request_id} has no attachment {attachment_id}")
        return found

    # ------------------------------------------------------------------ writes
    def save_draft(
        self,
        request_id: int,
        *,
        email: str,
        fields: Mapping[str, object],
        uploads: Sequence[Upload] = (),
        remove: Iterable[int] = (),
    ) -> datetime:
        """Keep the text and the new files; returns when the draft was saved."""
        sections = _clean_sections(fields)
        now = self.engine.clock()
        with self.db.transaction() as conn:
            self._lock_awaiting(conn, request_id)
            for attachment_id in remove:
                store.remove_draft_attachment(conn, request_id, attachment_id)
            self._store_uploads(conn, request_id, email, uploads, now)
            store.save_draft(conn, request_id=request_id, fields=sections, saved_by=email, now=now)
        return now

    def submit(
        self,
        request_id: int,
        *,
        email: str,
        fields: Mapping[str, object],
        uploads: Sequence[Upload] = (),
    ) -> RequestView:
        """Store the new files and fire `submit_report` as the intern or delegate, then mark
        the attachments submitted and clear the draft — one transaction."""
        sections = _clean_sections(fields)
        missing = [
            {"field": name, "message": "this section must be written"}
            for name in REPORT_FIELDS
            if not sections[name].strip()
        ]
        if missing:
            raise InvalidData("every section of the report must be written", missing)
        now = self.engine.clock()
        with self.db.transaction() as conn:
            row = self._lock_awaiting(conn, request_id)
            self._store_uploads(conn, request_id, email, uploads, now)
            actor = Actor(reporter_role(row.programme), email[:ACTOR_NAME_MAX])
            view = self.engine.advance_in(
                conn,
                request_id,
                SUBMIT_TRIGGER,
                actor,
                data={name: sections[name].strip() for name in REPORT_FIELDS},
            )
            store.mark_submitted(conn, request_id)
            store.delete_draft(conn, request_id)
        self.engine.committed()
        return view

    # ------------------------------------------------------------------ internals
    def _lock_awaiting(self, conn: sa.Connection, request_id: int) -> request_rows.RequestRow:
        row = hot_path.lock_request(conn, request_id)
        if row is None:
            raise NotFound(f"no request {request_id}")
        if row.state not in AWAITING_STATES:
            raise NotAwaitingReport(f"request {request_id} is not awaiting a final report")
        return row

    def _store_uploads(
        self,
        conn: sa.Connection,
        request_id: int,
        email: str,
        uploads: Sequence[Upload],
        now: datetime,
    ) -> None:
        if not uploads:
            return
        for upload in uploads:
            check_upload(upload.filename, upload.data, self.max_bytes)
        held = len(store.attachments(conn, request_id))
        if held + len(uploads) > self.max_files:
            raise TooManyAttachments(
                f"a report can have at most {self.max_files} files ({held} already attached)",
                [{"field": "attachments", "message": "too many files", "limit": self.max_files}],
            )
        for upload in uploads:
            store.add_attachment(
                conn,
                request_id=request_id,
                filename=clean_filename(upload.filename),
                content_type=PDF_TYPE,
                data=upload.data,
                sha256=hashlib.sha256(upload.data).hexdigest(),
                uploaded_by=email,
                now=now,
            )
