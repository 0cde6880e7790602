"""Errors on pages are pages: a refused role, a missing request, an expired link, a form too
large, a method the address does not take get a clear HTML page in the reader's language,
never a JSON body or a stack trace. The JSON API (`/api…`, `/healthz`, `/readyz`) keeps its
JSON shape (web/errors.py).

Pages reached through a signed link (`/report/…`, `/status/…`) answer on the public layout
(`public_error.html`: no signed-in navigation, every language of the public pages, chosen as
web/public_language.py says); every other page on the signed-in layout (`error.html`). An
`HTTPException`'s own words are English written for developers, so the page says the status
in the reader's language instead (a few known refusals, such as an out-of-date form, in words
of their own)."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import CicieError
from i18n import Text
from web import errors as api_errors
from web.pages.deps import LoginRequired, login_url, optional_user
from web.public_language import choose_language, language_choices
from web.templating import request_language

log = logging.getLogger(__name__)

PUBLIC_PREFIXES = ("/report/", "/status/")  # pages reached through a signed link

HEADINGS: dict[int, Text] = {
    400: Text("This address or form is not valid"),
    401: Text("Sign-in needed"),
    403: Text("Not allowed"),
    404: Text("Not found"),
    405: Text("This page cannot be used this way"),
    409: Text("Someone else changed this first"),
    410: Text("This link has expired"),
    413: Text("What was sent is too large"),
    415: Text("This kind of file is not accepted"),
    422: Text("This could not be done"),
    429: Text("Too many attempts"),
}
GENERIC_HEADING = Text("This could not be done")
SERVER_HEADING = Text("Something went wrong on our side")

MESSAGES: dict[int, Text] = {
    400: Text("Check the address or the form, then try again."),
    401: Text("Sign in, then open the page again."),
    403: Text("Your role may not open this page or do this."),
    404: Text("There is nothing at this address. Check it, or start again from the home page."),
    405: Text(
        "This address does not take that kind of request. Go back and use the page's links "
        "and buttons."
    ),
    409: Text("Reload the page to see what changed, then try again."),
    410: Text("This link no longer opens anything. Ask CICIE's coordination for a new one."),
    413: Text("What was sent is larger than this page accepts. Go back and send less."),
    415: Text("Go back and send a file of the kind the page asks for."),
    422: Text("What was sent is not valid. Go back, correct it and try again."),
    429: Text("Wait a moment, then try again."),
}
GENERIC_MESSAGE = Text("Go back and try again.")
# known refusals of this application's own code, in words of their own
CSRF_REFUSED = Text(
    "The form had expired (or was opened in another session). Reload the page and send it again."
)
UPLOAD_TOO_LARGE = Text(
    "The files sent are larger than the form accepts in all. Go back and attach smaller PDF "
    "files, or fewer of them."
)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or request.url.path in ("/healthz", "/readyz")


def is_public(request: Request) -> bool:
    return request.url.path.startswith(PUBLIC_PREFIXES)


def _token(request: Request) -> str:
    parts = request.url.path.split("/")
    return parts[2] if len(parts) > 2 else ""


def _heading(status_code: int) -> Text:
    if status_code >= 500:
        return SERVER_HEADING
    return HEADINGS.get(status_code, GENERIC_HEADING)


NO_SUCH = {
    "request": Text("There is no such request."),
    "message": Text("There is no such message."),
    "attachment": Text("There is no such attachment."),
}
# the words this application's own code raises for developers (English, with codes in them):
# each said to the reader as the status's sentence, or one of its own
_DEVELOPER_WORDS = re.compile(
    r"^(?:role '.*' may not do this|invalid Content-Length|no message \d+ in the outbox"
    r"|the (?:form|files) sent (?:is|are) larger|the request body is larger)",
    re.IGNORECASE,
)
_NO_SUCH = re.compile(r"There is no such (\w+)\.")  # the whole detail: fullmatch


def _http_message(request: Request, exc: StarletteHTTPException) -> str | Text:
    """What the page says: a `Text` detail in the reader's language; this application's own
    developer words (or Starlette's "Not Found") as the status's sentence; any other detail,
    which a page wrote for its reader (web/pages/results.py), as it is."""
    detail = exc.detail
    if isinstance(detail, Text):
        return detail
    words = str(detail)
    if exc.status_code == status.HTTP_403_FORBIDDEN and "security token" in words:
        return CSRF_REFUSED
    if exc.status_code == status.HTTP_413_CONTENT_TOO_LARGE and is_public(request):
        return UPLOAD_TOO_LARGE
    found = _NO_SUCH.fullmatch(words)
    if found and found.group(1) in NO_SUCH:
        return NO_SUCH[found.group(1)]
    if "no message" in words and exc.status_code == status.HTTP_404_NOT_FOUND:
        return NO_SUCH["message"]
    if _DEVELOPER_WORDS.match(words) or words == _phrase(exc.status_code) or not words:
        return MESSAGES.get(exc.status_code, GENERIC_MESSAGE)
    return words


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""


def render_error(
    request: Request,
    status_code: int,
    message: str | Text,
    *,
    headers: dict[str, str] | None = None,
) -> Response:
    """The error page of `status_code`: the public layout on a link's page, the signed-in one
    elsewhere; `message` a sentence already said, or a `Text` said here in the page's
    language."""
    pages = request.app.state.pages
    if not hasattr(request.state, "user"):
        # refused before the page's own dependencies ran (a bad id): the signed-in user
        # still gets their layout and language
        try:
            optional_user(request)
        except Exception:  # the error page never fails for want of a user
            log.warning("no user for the error page of %s", request.url.path, exc_info=True)
            request.state.user = None
    heading = _heading(status_code)
    if is_public(request):
        language = choose_language(request, _token(request))
        return pages.render(
            request,
            "public_error.html",
            {
                "heading": heading.say(language),
                "message": message.say(language) if isinstance(message, Text) else message,
                "languages": language_choices(request, language),
            },
            status_code=status_code,
            headers={
                **(headers or {}),
                "Cache-Control": "no-store",
                "X-Robots-Tag": "noindex, nofollow",
            },
            language=language,
        )
    language = request_language(request)
    return pages.render(
        request,
        "error.html",
        {
            "status_code": status_code,
            "heading": heading.say(language),
            "message": message.say(language) if isinstance(message, Text) else message,
        },
        status_code=status_code,
        headers=headers,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _wants_json(request):
        return await api_errors._http_error(request, exc)
    headers = dict(exc.headers) if exc.headers else None
    return render_error(request, exc.status_code, _http_message(request, exc), headers=headers)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CicieError)
    if _wants_json(request):
        return await api_errors._domain_error(request, exc)
    status_code = api_errors.STATUS_BY_CODE.get(exc.code, 400)
    if is_public(request):
        # the engine's words may name internal things: a link's visitor reads the status
        return render_error(request, status_code, MESSAGES.get(status_code, GENERIC_MESSAGE))
    return render_error(request, status_code, exc.say(request_language(request)))


async def _validation_error(request: Request, exc: Exception) -> Response:
    """A page address with a bad parameter (`/outbox?page=abc`) is a 400 page, not JSON."""
    assert isinstance(exc, RequestValidationError)
    if _wants_json(request):
        return await api_errors._validation_error(request, exc)
    names = ", ".join(sorted({str(err.get("loc", ("", ""))[-1]) for err in exc.errors()}))
    message = Text(
        "This address is not valid: check %(names)s in the link and try again.", names=names
    )
    return render_error(request, status.HTTP_400_BAD_REQUEST, message)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(login_url(exc.next_url), status.HTTP_303_SEE_OTHER)


def install_page_error_handlers(app: FastAPI) -> None:
    """After `web.errors.install_error_handlers`: pages get HTML, `/api` keeps JSON."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(CicieError, _domain_error)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(RequestValidationError, _validation_error)
