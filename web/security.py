"""Who is calling the JSON API: a bearer token names a user, the user's role decides.

Viewers read; coordinators and admins also write. A missing, unknown, revoked or expired
token, or one whose user was disabled, is a 401 that says how to authenticate
(`WWW-Authenticate: Bearer`), the same for each so a caller learns nothing about the token;
a known user without the role is a 403 in the domain's `not_allowed` shape. Each use is
recorded as the token's `last_used` (`Accounts.user_for_token`, at most once a minute). The
engine still applies each workflow's own role rules.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from engine.account_views import UserView
from engine.accounts import Accounts
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.errors import NotAllowed
from engine.service import Engine

WRITER_ROLES = ("admin", "coordinator")

_bearer = HTTPBearer(auto_error=False, description="An API token issued to a user.")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_engine(request: Request) -> Engine:
    return get_runtime(request).engine


def get_accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
EngineDep = Annotated[Engine, Depends(get_engine)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]


def current_user(
    accounts: AccountsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> UserView:
    user = (
        accounts.user_for_token(credentials.credentials)
        if credentials is not None and credentials.scheme.lower() == "bearer"
        else None
    )
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=(
                "a valid API token is needed (Authorization: Bearer <token>); "
                "tokens expire and can be revoked: ask an administrator for a new one"
            ),
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[UserView, Depends(current_user)]


def writer(user: CurrentUser) -> UserView:
    """Only coordinators and admins change anything."""
    if user.role not in WRITER_ROLES:
        raise NotAllowed(
            f"role '{user.role}' may only read",
            [{"role": user.role, "allowed_roles": list(WRITER_ROLES)}],
        )
    return user


Writer = Annotated[UserView, Depends(writer)]


def actor_of(user: UserView) -> Actor:
    """The actor the engine records: the user's role and username."""
    return Actor(user.role, user.username)
