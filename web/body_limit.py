"""Every request body is bounded before it is read, and before anyone is authenticated.

FastAPI parses a JSON body before the dependencies that check the token run, and Starlette
spools form parts while it parses: without a bound, anyone could make the server hold or write
whatever they send. This plain ASGI middleware (no `BaseHTTPMiddleware`, which costs a task
per request) sits outside everything but the request-id middleware and gives each request the
limit of its route: small for the JSON API, the form limit for pages, room for the allowed
attachments on the report form.

- A `Content-Length` over the limit is refused with 413 at once, without reading a byte of
  the body. On the API the middleware answers itself, in the API's error shape. A page is
  handed to the application with a body channel that refuses its first read, so the page's
  own error handler answers (the 413 page, in the user's language); a route that never reads
  its body answers as if it had none.
- A body without a length (chunked) is counted as it is read; the read that passes the limit
  raises a 413 `HTTPException`, which the route's handler answers the same way. Once a
  response has started, an over-long body is reported as a disconnect instead (what a
  streaming response listens for), so it can never turn into a 500.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.settings import Settings
from web.errors import CODE_BY_STATUS, error_body
from web.uploads import body_limit

API_PREFIX = "/api/"
API_MAX_BODY = 1024 * 1024  # the largest request a client of the API has reason to send
FORM_MAX_BODY = 1024 * 1024  # a page's form without files (a request's data, a comment)
UPLOAD_PATHS = ("/report/",)  # the report form: its attachments (web/uploads.py)
_DISCONNECT: Message = {"type": "http.disconnect"}


class BodyTooLarge(HTTPException):
    """413, raised at the read that passes the limit (or the first read of a body declared
    too long), so that the route's error handler answers in its own format."""

    def __init__(self, limit: int, path: str) -> None:
        super().__init__(413, too_large_message(limit, path))
        self.limit = limit


def too_large_message(limit: int, path: str) -> str:
    size = f"{limit / (1024 * 1024):g} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"
    if path.startswith(API_PREFIX):
        return f"the request body is larger than the API accepts (at most {size})"
    if path.startswith(UPLOAD_PATHS):
        return (
            f"the files sent are larger than allowed (at most {size} in all); "
            "go back and attach smaller PDF files"
        )
    return f"the form sent is larger than allowed (at most {size})"


def route_limits(settings: Settings) -> tuple[tuple[str, int], ...]:
    """(path prefix, limit in bytes), first match wins; `FORM_MAX_BODY` elsewhere."""
    uploads = body_limit(settings.upload_max_bytes, settings.upload_max_files)
    return ((API_PREFIX, API_MAX_BODY), *((path, uploads) for path in UPLOAD_PATHS))


class BodyLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: Sequence[tuple[str, int]] = (),
        default: int = FORM_MAX_BODY,
    ) -> None:
        self.app = app
        self.limits = tuple(limits)
        self.default = default

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.limits:
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.limit_for(path)
        declared = _content_length(scope)
        if declared is None:
            await _refuse(scope, send, 400, "the Content-Length header is not a number")
            return
        if declared > limit and path.startswith(API_PREFIX):
            await _refuse(scope, send, 413, too_large_message(limit, path))
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            if declared > limit:  # never read from the client: refuse at the first read
                if started:
                    return _DISCONNECT
                raise BodyTooLarge(limit, path)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if started:
                        return _DISCONNECT
                    raise BodyTooLarge(limit, path)
            return message

        await self.app(scope, bounded_receive, watched_send)


def _content_length(scope: Scope) -> int | None:
    """The declared length (0 when none is declared); None when it is not a number."""
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() else None
    return 0


async def _refuse(scope: Scope, send: Send, status: int, message: str) -> None:
    """Answer without reading the body: JSON in the API's shape, plain text elsewhere (only a
    malformed length, which a browser never sends, gets plain text on a page)."""
    if scope.get("path", "").startswith(API_PREFIX):
        body = json.dumps(error_body(CODE_BY_STATUS.get(status, "http_error"), message))
        content_type = b"application/json"
    else:
        body = message
        content_type = b"text/plain; charset=utf-8"
    encoded = body.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(encoded)).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": encoded})
