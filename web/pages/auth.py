"""Sign-in, sign-out (server-side sessions, see `web.sessions`) and the header's language picker
(how a page's language is chosen: `web.templating.request_language`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import RedirectResponse, Response

from engine.account_views import UserView
from web.i18n import UI_LANGUAGES
from web.pages.deps import AccountsDep, Form, OptionalUser, PagesDep
from web.pages.my_work import landing_page
from web.sessions import session_id_of, sign_in, sign_out
from web.templating import flash, gettext_for
from web.throttle import SignInThrottle

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site (no `//host` or scheme): no open redirect after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_form(
    request: Request,
    pages: PagesDep,
    user: OptionalUser,
    next: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status.HTTP_303_SEE_OTHER)
    return pages.render(
        request, "login.html", {"next": safe_next(next), "username": "", "error": None}
    )


@router.post("/login")
def login(request: Request, pages: PagesDep, accounts: AccountsDep, form: Form) -> Response:
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    username = str(form.get("username") or "").strip()[:80]
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or "/"))
    client = request.client.host if request.client else "unknown"
    attempt = throttle.attempt(username, client)  # counted now: parallel guesses share it
    if attempt.wait is not None:
        wait = attempt.wait
        return pages.render(
            request,
            "login.html",
            {"next": target, "username": username, "error": "throttled", "retry_after": wait},
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(wait)},
        )
    user = accounts.authenticate(username, password) if username and password else None
    if user is None:
        return pages.render(
            request,
            "login.html",
            {"next": target, "username": username, "error": "invalid"},
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    throttle.succeeded(attempt)
    previous = session_id_of(request.session)
    if previous is not None:  # signing in over another session ends that one
        accounts.end_session(previous)
    sign_in(request.session, accounts.open_session(user.id))
    # no page asked for (the form's `next` is "/"): coordinators and admins start at
    # "Needs my action", the others at the dashboard
    home = landing_page(user.role) if target == "/" else target
    return RedirectResponse(home, status.HTTP_303_SEE_OTHER)


def keep_language_after_sign_out(request: Request, user: UserView | None) -> None:
    """The sign-in page one signs out to stays in the language the user chose (it becomes
    this browser's choice, as if picked before signing in)."""
    if user is not None and user.language in UI_LANGUAGES:
        request.session["lang"] = user.language


@router.post("/logout")
def logout(request: Request, accounts: AccountsDep, user: OptionalUser, _form: Form) -> Response:
    """End the session on the server too: a copy of the cookie is refused from now on."""
    session_id = session_id_of(request.session)
    if session_id is not None:
        accounts.end_session(session_id)
    keep_language_after_sign_out(request, user)
    sign_out(request.session)
    return RedirectResponse("/login", status.HTTP_303_SEE_OTHER)


@router.post("/language")
def set_language(
    request: Request, user: OptionalUser, accounts: AccountsDep, form: Form
) -> Response:
    """The header's language picker, then back to the page it was on (post/redirect/get).
    A signed-in user's choice is stored on the user: every page, in every browser, until they
    choose again. Before signing in it is this browser's choice (kept in the session)."""
    language = str(form.get("language") or "")
    if language not in UI_LANGUAGES:
        _ = gettext_for(request)
        flash(request, _("This language is not available."), "error")
    elif user is not None:
        accounts.set_language(user.id, language)
    else:
        request.session["lang"] = language
    return RedirectResponse(safe_next(str(form.get("next") or "/")), status.HTTP_303_SEE_OTHER)
