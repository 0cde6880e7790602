"""`/account`: every signed-in user chooses their interface language, changes their own
password (the current one required) and can sign out everywhere. The language is stored on the
user: every page, in every browser, until they choose again (or go back to following the
browser). A new password ends every other session of theirs; the one in use is re-issued with a
fresh id, so a cookie copied before the change stops working."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.account_views import MAX_LABEL, MAX_PASSWORD, MAX_TOKEN_DAYS, MIN_PASSWORD
from engine.errors import InvalidData
from web.forms import error_name
from web.i18n import UI_LANGUAGES, pick_language
from web.pages.auth import keep_language_after_sign_out
from web.pages.deps import AccountsDep, Form, PagesDep, PageUser
from web.sessions import sign_in, sign_out
from web.templating import flash, gettext_for

router = APIRouter(include_in_schema=False)


def account_field_errors(details: Any, _: Callable[[str], str]) -> dict[str, list[str]]:
    """The engine's field refusals on an account form, in the page's language (a message
    this page does not know is shown as the engine wrote it)."""
    found: dict[str, list[str]] = {}
    for item in details if isinstance(details, list) else []:
        if not isinstance(item, dict) or "field" not in item:
            continue
        name, message = str(item["field"]), str(item.get("message", ""))
        if name == "username" and message == "already exists":
            text = _("This username is already taken.")
        elif name == "username":
            text = _("Use 1 to 80 letters, digits, dots, hyphens or underscores.")
        elif name == "role" and message == "the last active admin":
            text = _("This is the last active admin: make another user admin first.")
        elif name == "role":
            text = _("Choose admin, coordinator or viewer.")
        elif name in ("password", "new_password"):
            text = _("Use %(min)s to %(max)s characters.") % {
                "min": MIN_PASSWORD,
                "max": MAX_PASSWORD,
            }
        elif name == "current_password":
            text = _("This is not your current password.")
        elif name == "label":
            text = _("One line of at most %(max)s characters.") % {"max": MAX_LABEL}
        elif name == "expires_days":
            text = _("A whole number of days from 1 to %(max)s.") % {"max": MAX_TOKEN_DAYS}
        else:
            text = message
        found.setdefault(error_name(name), []).append(text)
    return found


def _page(
    request: Request,
    pages: PagesDep,
    accounts: AccountsDep,
    user_id: int,
    *,
    errors: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    browser = pick_language(
        request.session.get("lang"), accept_language=request.headers.get("accept-language")
    )
    return pages.render(
        request,
        "account.html",
        {
            "account": accounts.account_by_id(user_id),
            "errors": errors or {},
            "browser_language": browser,  # what "follow the browser" gives in this one
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/account")
def account_page(
    request: Request, pages: PagesDep, accounts: AccountsDep, user: PageUser
) -> Response:
    return _page(request, pages, accounts, user.id)


@router.post("/account/language")
def choose_language(
    request: Request, accounts: AccountsDep, user: PageUser, form: Form
) -> Response:
    """Store the user's interface language ("" goes back to following the browser), then
    show the account page in it."""
    choice = str(form.get("language") or "")
    if choice and choice not in UI_LANGUAGES:
        _ = gettext_for(request)
        flash(request, _("This language is not available."), "error")
        return RedirectResponse("/account", status.HTTP_303_SEE_OTHER)
    accounts.set_language(user.id, choice or None)
    request.state.user = replace(user, language=choice or None)  # say it in the new language
    _ = gettext_for(request)
    if choice:
        flash(request, _("Your language was saved: every page uses it, in any browser."), "ok")
    else:
        flash(request, _("The pages now follow the language your browser asks for."), "ok")
    return RedirectResponse("/account", status.HTTP_303_SEE_OTHER)


@router.post("/account/password")
def change_password(
    request: Request, pages: PagesDep, accounts: AccountsDep, user: PageUser, form: Form
) -> Response:
    _ = gettext_for(request)
    current = str(form.get("current_password") or "")
    new = str(form.get("new_password") or "")
    if new != str(form.get("new_password_again") or ""):
        errors = {"new_password_again": [_("The two new passwords are not the same.")]}
        return _page(
            request,
            pages,
            accounts,
            user.id,
            errors=errors,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    try:
        session_id = accounts.change_own_password(user.id, current, new)
    except InvalidData as exc:
        return _page(
            request,
            pages,
            accounts,
            user.id,
            errors=account_field_errors(exc.details, _),
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    sign_in(request.session, session_id)
    flash(request, _("Your password was changed. Your other sessions were signed out."), "ok")
    return RedirectResponse("/account", status.HTTP_303_SEE_OTHER)


@router.post("/account/sign-out-everywhere")
def sign_out_everywhere(
    request: Request, accounts: AccountsDep, user: PageUser, _form: Form
) -> Response:
    """Every session of the user ends, this one too: back to the sign-in page."""
    accounts.sign_out_everywhere(user.id)
    keep_language_after_sign_out(request, user)
    sign_out(request.session)
    return RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
