"""Every refusal the API gives has one shape, `{"error": {"code", "message", "details"}}`, the
same the CLI prints, so a client handles domain errors, bad bodies and HTTP errors alike.

A database that does not answer (connection refused or dropped, server restarting, backend
terminated, pool exhausted, deadlock or serialisation failure) is a 503 `unavailable` with
`Retry-After`: the same call may be repeated. (If the connection dropped while a commit was
being acknowledged, the change may have been made; with `If-Match` the repeat then comes back
as a 409 instead of being applied twice.)"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import CicieError
from i18n import SOURCE_LANGUAGE, UI_LANGUAGES, negotiate
from workflows.fields import problem_text

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 2

STATUS_BY_CODE = {
    "not_found": 404,
    "not_allowed": 403,
    "guard_failed": 422,
    "invalid_data": 422,
    "conflict": 409,
    "invalid_definition": 500,
}
CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "not_allowed",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_data",
    429: "too_many_requests",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def _language(request: Request) -> str:
    """The language of a refusal: the caller's `Accept-Language` (q-values), else English."""
    return negotiate(request.headers.get("accept-language"), UI_LANGUAGES, SOURCE_LANGUAGE)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CicieError)
    return JSONResponse(
        {"error": exc.to_dict(_language(request))},
        status_code=STATUS_BY_CODE.get(exc.code, 400),
        headers={"Content-Language": _language(request)},
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Field-level messages only (in the caller's language); the rejected input is not echoed
    back."""
    assert isinstance(exc, RequestValidationError)
    language = _language(request)
    details = [
        {
            "field": ".".join(str(part) for part in err.get("loc", ())),
            "message": problem_text(err).say(language),
        }
        for err in exc.errors()
    ]
    fields = ", ".join(d["field"] for d in details)
    return JSONResponse(
        error_body("invalid_data", f"the request is not valid ({fields})", details),
        status_code=422,
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = CODE_BY_STATUS.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(code, str(exc.detail)),
        status_code=exc.status_code,
        headers=exc.headers,
    )


def is_retryable(exc: BaseException) -> bool:
    """A database error that says "not now" rather than "never": the connection, the server
    or the lock scheduler, not the statement."""
    if isinstance(exc, sa.exc.TimeoutError):  # no connection free in the pool in time
        return True
    if isinstance(exc, sa.exc.DBAPIError):
        return bool(
            exc.connection_invalidated
            or isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)
        )
    return False


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if not is_retryable(exc):
        log.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "the server failed to handle this request"),
            status_code=500,
        )
    cause = type(getattr(exc, "orig", None) or exc).__name__
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, cause)
    return JSONResponse(
        error_body(
            "unavailable",
            f"the database is not available right now ({cause}); try again in a few "
            "seconds (with If-Match, a change is never applied twice)",
        ),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CicieError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(sa.exc.DBAPIError, _database_error)
    app.add_exception_handler(sa.exc.TimeoutError, _database_error)
