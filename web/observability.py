"""Request ids: every HTTP request carries one, in its `X-Request-ID` header and in every log
record written while it is handled, so one request's lines can be found across the web
processes behind a load balancer.

`RequestIdMiddleware` is plain ASGI (no `BaseHTTPMiddleware`, which costs a task and a memory
stream per request): it keeps a caller's id when it is sane (a proxy may have assigned one),
makes one otherwise, echoes it in the response, and logs one line per request (method, path,
status, duration). The id lives in a context variable; `RequestIdFilter` copies it onto log
records (sync routes run in a worker thread, and anyio copies the context there).
Only the standard library is imported, so the logging set-up of every command can use it.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEADER = "X-Request-ID"
_HEADER_KEY = HEADER.lower().encode("latin-1")
_SANE = re.compile(rb"^[A-Za-z0-9._:-]{1,128}\Z")
# a report or status link's token is a credential for months: it is not written to the log
_LINK_PATH = re.compile(r"^(/(?:report|status)/)[^/]+")

request_id: ContextVar[str | None] = ContextVar("cicie_request_id", default=None)
access_log = logging.getLogger("cicie.access")


def new_request_id() -> str:
    return uuid.uuid4().hex


def loggable_path(path: object) -> object:
    """The path as the access log writes it: a signed link's token is left out."""
    return _LINK_PATH.sub(r"\1<token>", path) if isinstance(path, str) else path


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or None) on every record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = None
        for key, value in scope.get("headers", ()):
            if key == _HEADER_KEY and _SANE.match(value):
                rid = value.decode("latin-1")
                break
        if rid is None:
            rid = new_request_id()
        token = request_id.set(rid)
        encoded = rid.encode("latin-1")
        status = 500  # what the client gets if the application raises before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", ()) if k != _HEADER_KEY]
                headers.append((_HEADER_KEY, encoded))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                path = loggable_path(scope.get("path"))
                access_log.info(
                    "%s %s %s",
                    scope.get("method"),
                    path,
                    status,
                    extra={
                        "http": {
                            "method": scope.get("method"),
                            "path": path,
                            "status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        }
                    },
                )
            request_id.reset(token)
