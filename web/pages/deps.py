"""What page routes depend on: the signed-in user, a role, a checked CSRF token.

A page that needs a user redirects to `/login?next=…`; a role that may not do something gets
a 403 page (the same the JSON API gives as `not_allowed`). State-changing routes take their
form through `checked_form`, which refuses a missing or wrong CSRF token with a 403 before
anything is read from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status
from starlette.datastructures import FormData

from engine.account_views import UserView

# The `X as X` names are re-exported for the page modules: the dependencies the JSON API uses.
from web.security import WRITER_ROLES as WRITER_ROLES
from web.security import AccountsDep as AccountsDep
from web.security import EngineDep as EngineDep
from web.security import RuntimeDep as RuntimeDep
from web.security import actor_of as actor_of
from web.security import get_accounts, get_runtime
from web.sessions import CSRF_FIELD, csrf_matches, session_id_of, sign_out
from web.templating import Pages, get_pages
from web.uploads import body_limit, check_content_length


class LoginRequired(Exception):
    """Raised by page dependencies; answered with a redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def login_url(next_url: str) -> str:
    return f"/login?next={quote(next_url, safe='/')}"


def optional_user(request: Request) -> UserView | None:
    """The user of the cookie's server-side session, kept on `request.state.user` for the
    templates. A session that was ended or has expired, or whose user was disabled, signs the
    browser out (one query: the session row joined with its user)."""
    user = None
    session_id = session_id_of(request.session)
    if session_id is not None:
        user = get_accounts(request).session_user(session_id)
        if user is None:
            sign_out(request.session)
    request.state.user = user
    return user


def page_user(
    user: Annotated[UserView | None, Depends(optional_user)], request: Request
) -> UserView:
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return user


def require_role(*roles: str) -> Callable[[UserView], UserView]:
    def check(user: Annotated[UserView, Depends(page_user)]) -> UserView:
        if user.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role '{user.role}' may not do this (needs {' or '.join(roles)})",
            )
        return user

    return check


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's. The body is bounded (413)
    before and while it is read, whether or not it announces its length: Starlette spools
    file parts to disk, and any form route would take one."""
    settings = get_runtime(request).settings
    check_content_length(request, body_limit(settings.upload_max_bytes, settings.upload_max_files))
    form = await request.form()
    if not csrf_matches(request.session, form.get(CSRF_FIELD)):
        await form.close()  # spooled file parts are not left open
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "the form's security token is missing or out of date; reload the page and try again",
        )
    return form


PagesDep = Annotated[Pages, Depends(get_pages)]
OptionalUser = Annotated[UserView | None, Depends(optional_user)]
PageUser = Annotated[UserView, Depends(page_user)]
Writer = Annotated[UserView, Depends(require_role(*WRITER_ROLES))]
Admin = Annotated[UserView, Depends(require_role("admin"))]
Form = Annotated[FormData, Depends(checked_form)]
