"""Files posted with a form: a bound on the whole body before it is parsed, then each file
read up to its limit and checked (size, a `.pdf` name and `%PDF-` content). Every request's
body is bounded first by `web.body_limit` (the report form's bound is `body_limit` below);
`check_content_length` applies the same bound where a form is read.

Starlette spools file parts to temporary files while it parses, so the body's size is checked
first from `Content-Length`: a post larger than every allowed file together (plus room for the
text) is refused with 413 before a byte of it is read. A body sent without `Content-Length`
(chunked) is counted as it is read and refused with 413 once it passes the same bound, so
leaving the header out does not lift the limit. Within that bound, each file is read at most
`max_bytes + 1` bytes — enough to know it is too large."""

from __future__ import annotations

from fastapi import HTTPException, Request, status
from starlette.datastructures import FormData, UploadFile
from starlette.types import Message

from engine.reports import TooManyAttachments, Upload, check_upload

TEXT_ROOM = 2 * 1024 * 1024  # the report's text fields and the multipart framing


def body_limit(max_bytes: int, max_files: int) -> int:
    return max_bytes * max_files + TEXT_ROOM


def _too_large() -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        "the files sent are larger than allowed; go back and attach smaller PDF files",
    )


def check_content_length(request: Request, limit: int) -> None:
    """Refuse (413) a body that announces more than `limit` bytes, before parsing it; and
    refuse it as it is read once more than `limit` bytes have come (a chunked body announces
    nothing)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "invalid Content-Length") from None
        if size > limit:
            raise _too_large()
    receive = request._receive
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _too_large()
        return message

    request._receive = counted


def posted_files(form: FormData, field: str) -> list[UploadFile]:
    """The files chosen in `field` (an empty file input sends a part without a name)."""
    return [v for v in form.getlist(field) if isinstance(v, UploadFile) and v.filename]


async def read_uploads(
    form: FormData, field: str, *, max_bytes: int, max_files: int
) -> list[Upload]:
    """Every file of `field`, checked; raises the first refusal (`AttachmentTooLarge`,
    `AttachmentRefused`, `TooManyAttachments`)."""
    files = posted_files(form, field)
    if len(files) > max_files:
        raise TooManyAttachments(
            f"at most {max_files} files can be attached",
            [{"field": field, "message": "too many files", "limit": max_files}],
        )
    uploads = []
    for item in files:
        data = await item.read(max_bytes + 1)
        name = item.filename or ""
        check_upload(name, data, max_bytes)
        uploads.append(Upload(name, data))
    return uploads
