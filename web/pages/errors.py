"""Errors on pages are pages: a refused role, a missing request, an expired link get a clear
HTML page in the user's language, never a stack trace. The JSON API keeps its JSON shape."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import CicieError
from web import errors as api_errors
from web.pages.deps import LoginRequired, login_url
from web.templating import request_language

log = logging.getLogger(__name__)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or request.url.path in ("/healthz", "/readyz")


def render_error(request: Request, status_code: int, message: str) -> Response:
    pages = request.app.state.pages
    if not hasattr(request.state, "user"):
        request.state.user = None
    return pages.render(
        request,
        "error.html",
        {"status_code": status_code, "message": message},
        status_code=status_code,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _wants_json(request):
        return await api_errors._http_error(request, exc)
    return render_error(request, exc.status_code, str(exc.detail))


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CicieError)
    if _wants_json(request):
        return await api_errors._domain_error(request, exc)
    message = exc.say(request_language(request))
    return render_error(request, api_errors.STATUS_BY_CODE.get(exc.code, 400), message)


async def _validation_error(request: Request, exc: Exception) -> Response:
    """A page address with a bad parameter (`/outbox?page=abc`) is a 400 page, not JSON."""
    assert isinstance(exc, RequestValidationError)
    if _wants_json(request):
        return await api_errors._validation_error(request, exc)
    names = sorted({str(err.get("loc", ("", ""))[-1]) for err in exc.errors()})
    return render_error(
        request,
        status.HTTP_400_BAD_REQUEST,
        f"This address is not valid: check {', '.join(names)} in the link and try again.",
    )


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(login_url(exc.next_url), status.HTTP_303_SEE_OTHER)


def install_page_error_handlers(app: FastAPI) -> None:
    """After `web.errors.install_error_handlers`: pages get HTML, `/api` keeps JSON."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(CicieError, _domain_error)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(RequestValidationError, _validation_error)
