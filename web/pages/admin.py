"""`/admin/users`, for admins only: the accounts (role, active, created, last sign-in), adding
one, changing a role, disabling and enabling, setting a password, and each user's API tokens
(issue, list, revoke) — what `cicie user …` does from a shell.

Every change goes through `engine.accounts.Accounts` (which refuses to disable or demote the
last active admin) and is followed by a redirect (post/redirect/get: reload and Back never
send a form again); a refusal re-renders the page with the reasons next to the form (422). A
new token is shown once, on the page the issuing form redirects to: it travels in the session
cookie sealed (XOR with a keystream of HMAC-SHA256 under the site's secret, which never leaves
the server; the cookie itself is signed), is taken out of the session by the first page that
shows it, and that page is `Cache-Control: no-store` so no cache keeps it."""

from __future__ import annotations

import base64
import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from config.secret import site_secret
from engine.account_views import MAX_TOKEN_DAYS, TOKEN_DAYS, USER_ROLES, AccountView
from engine.errors import InvalidData, NotAllowed
from web.pages.account import account_field_errors
from web.pages.deps import AccountsDep, Admin, Form, PagesDep
from web.sessions import sign_in, sign_out
from web.templating import flash, gettext_for

router = APIRouter(include_in_schema=False)
UserId = Annotated[int, Path(ge=1, le=2**62)]
TokenId = Annotated[int, Path(ge=1, le=2**62)]
NO_STORE = {"Cache-Control": "no-store"}
UNPROCESSABLE = status.HTTP_422_UNPROCESSABLE_CONTENT


def _list_page(
    request: Request,
    pages: PagesDep,
    accounts: AccountsDep,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return pages.render(
        request,
        "admin_users.html",
        {
            "accounts": accounts.list_accounts(),
            "roles": USER_ROLES,
            "values": values or {"username": "", "role": "coordinator"},
            "errors": errors or {},
        },
        status_code=status_code,
        headers=NO_STORE,
    )


def _user_page(
    request: Request,
    pages: PagesDep,
    accounts: AccountsDep,
    account: AccountView,
    *,
    errors: dict[str, list[str]] | None = None,
    new_token: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return pages.render(
        request,
        "admin_user.html",
        {
            "account": account,
            "tokens": accounts.tokens(account.username),
            "roles": USER_ROLES,
            "errors": errors or {},
            "new_token": new_token,
            "default_days": TOKEN_DAYS,
            "max_days": MAX_TOKEN_DAYS,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


NEW_TOKEN_KEY = "new_token"  # in the session: {"user": id, "sealed": the token, sealed}


def _keystream(secret: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (length + 31) // 32
    stream = b"".join(
        hmac.new(secret, b"cicie-new-token" + nonce + i.to_bytes(4, "big"), "sha256").digest()
        for i in range(blocks)
    )
    return stream[:length]


def _secret(request: Request) -> bytes:
    return site_secret(request.app.state.runtime.settings).get_secret_value().encode()


def seal(secret: bytes, token: str) -> str:
    """`token` unreadable without the site's secret (for a signed, not encrypted, cookie)."""
    nonce = secrets.token_bytes(16)
    data = token.encode()
    cipher = bytes(a ^ b for a, b in zip(data, _keystream(secret, nonce, len(data)), strict=True))
    return base64.urlsafe_b64encode(nonce + cipher).decode("ascii")


def unseal(secret: bytes, sealed: object) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(str(sealed).encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None
    nonce, cipher = raw[:16], raw[16:]
    if len(nonce) < 16 or not cipher:
        return None
    data = bytes(a ^ b for a, b in zip(cipher, _keystream(secret, nonce, len(cipher)), strict=True))
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None


def _take_new_token(request: Request, account: AccountView) -> str | None:
    """The token just issued to `account`, once: taken out of the session as it is shown."""
    kept = request.session.pop(NEW_TOKEN_KEY, None)
    if not isinstance(kept, dict) or kept.get("user") != account.id:
        return None
    return unseal(_secret(request), kept.get("sealed"))


def _back(account: AccountView) -> RedirectResponse:
    return RedirectResponse(f"/admin/users/{account.id}", status.HTTP_303_SEE_OTHER)


@router.get("/admin/users")
def users_page(request: Request, pages: PagesDep, accounts: AccountsDep, _admin: Admin) -> Response:
    return _list_page(request, pages, accounts)


@router.post("/admin/users")
def add_user(
    request: Request, pages: PagesDep, accounts: AccountsDep, _admin: Admin, form: Form
) -> Response:
    _ = gettext_for(request)
    values = {k: str(form.get(k) or "").strip() for k in ("username", "role")}
    try:
        user = accounts.add_user(
            values["username"], values["role"], str(form.get("password") or "")
        )
    except InvalidData as exc:
        return _list_page(
            request,
            pages,
            accounts,
            values=values,
            errors=account_field_errors(exc.details, _),
            status_code=UNPROCESSABLE,
        )
    flash(request, _("User %(name)s added.") % {"name": user.username}, "ok")
    return RedirectResponse(f"/admin/users/{user.id}", status.HTTP_303_SEE_OTHER)


@router.get("/admin/users/{user_id}")
def user_page(
    request: Request, pages: PagesDep, accounts: AccountsDep, _admin: Admin, user_id: UserId
) -> Response:
    account = accounts.account_by_id(user_id)
    new_token = _take_new_token(request, account)
    return _user_page(request, pages, accounts, account, new_token=new_token)


@router.post("/admin/users/{user_id}/role")
def change_role(
    request: Request,
    pages: PagesDep,
    accounts: AccountsDep,
    _admin: Admin,
    form: Form,
    user_id: UserId,
) -> Response:
    _ = gettext_for(request)
    account = accounts.account_by_id(user_id)
    try:
        account = accounts.set_role(account.username, str(form.get("role") or ""))
    except (InvalidData, NotAllowed) as exc:
        errors = account_field_errors(exc.details, _)
        return _user_page(
            request, pages, accounts, account, errors=errors, status_code=UNPROCESSABLE
        )
    flash(
        request,
        _("%(name)s is now %(role)s.") % {"name": account.username, "role": account.role},
        "ok",
    )
    return _back(account)


@router.post("/admin/users/{user_id}/disable")
def disable_user(
    request: Request,
    pages: PagesDep,
    accounts: AccountsDep,
    admin: Admin,
    _form: Form,
    user_id: UserId,
) -> Response:
    _ = gettext_for(request)
    account = accounts.account_by_id(user_id)
    try:
        account = accounts.disable(account.username)
    except NotAllowed as exc:
        errors = {"active": account_field_errors(exc.details, _).get("role", [exc.message])}
        return _user_page(
            request, pages, accounts, account, errors=errors, status_code=UNPROCESSABLE
        )
    if account.id == admin.id:  # their own session has just ended
        sign_out(request.session)
        return RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    flash(
        request,
        _("%(name)s is disabled: their sessions and API tokens no longer work.")
        % {"name": account.username},
        "ok",
    )
    return _back(account)


@router.post("/admin/users/{user_id}/enable")
def enable_user(
    request: Request, accounts: AccountsDep, _admin: Admin, _form: Form, user_id: UserId
) -> Response:
    _ = gettext_for(request)
    account = accounts.enable(accounts.account_by_id(user_id).username)
    flash(request, _("%(name)s may sign in again.") % {"name": account.username}, "ok")
    return _back(account)


@router.post("/admin/users/{user_id}/password")
def set_password(
    request: Request,
    pages: PagesDep,
    accounts: AccountsDep,
    admin: Admin,
    form: Form,
    user_id: UserId,
) -> Response:
    _ = gettext_for(request)
    account = accounts.account_by_id(user_id)
    password = str(form.get("password") or "")
    if password != str(form.get("password_again") or ""):
        errors = {"password_again": [_("The two passwords are not the same.")]}
        return _user_page(
            request, pages, accounts, account, errors=errors, status_code=UNPROCESSABLE
        )
    try:
        accounts.set_password(account.username, password)
    except InvalidData as exc:
        errors = account_field_errors(exc.details, _)
        return _user_page(
            request, pages, accounts, account, errors=errors, status_code=UNPROCESSABLE
        )
    if account.id == admin.id:  # every session ended, this one too: carry on in a fresh one
        sign_in(request.session, accounts.open_session(admin.id))
    flash(
        request,
        _("The password of %(name)s was set; their sessions were signed out.")
        % {"name": account.username},
        "ok",
    )
    return _back(account)


@router.post("/admin/users/{user_id}/tokens")
def issue_token(
    request: Request,
    pages: PagesDep,
    accounts: AccountsDep,
    _admin: Admin,
    form: Form,
    user_id: UserId,
) -> Response:
    """The token is shown once, on the user's page this redirects to (sealed in the session
    until then)."""
    _ = gettext_for(request)
    account = accounts.account_by_id(user_id)
    label = str(form.get("label") or "").strip()
    days_text = str(form.get("expires_days") or "").strip()
    days = int(days_text) if days_text.isascii() and days_text.isdigit() else 0
    try:
        issued = accounts.new_token(account.username, label, expires_days=days)
    except (InvalidData, NotAllowed) as exc:
        errors = account_field_errors(exc.details, _) or {"token": [exc.message]}
        return _user_page(
            request, pages, accounts, account, errors=errors, status_code=UNPROCESSABLE
        )
    request.session[NEW_TOKEN_KEY] = {
        "user": account.id,
        "sealed": seal(_secret(request), issued.token),
    }
    return _back(account)


@router.post("/admin/users/{user_id}/tokens/{token_id}/revoke")
def revoke_token(
    request: Request,
    accounts: AccountsDep,
    _admin: Admin,
    _form: Form,
    user_id: UserId,
    token_id: TokenId,
) -> Response:
    _ = gettext_for(request)
    account = accounts.account_by_id(user_id)
    accounts.revoke_token_id(token_id, owner=account.username)  # another's token: 404
    flash(request, _("Token %(id)s revoked.") % {"id": token_id}, "ok")
    return _back(account)
