""" "Needs my action" (`/work`): the requests the signed-in user's role can move forward now,
with each step, what blocks it and when it is due, overdue first (`engine/my_work.py`).
Coordinators and admins land here after signing in (`landing_page`); "/" stays the
dashboard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from engine.my_work import WORK_ROLES, load_my_work
from web.pages.deps import EngineDep, PagesDep, PageUser, actor_of

router = APIRouter(include_in_schema=False)

WORK_PATH = "/work"


def landing_page(role: str) -> str:
    """Where a user lands after signing in without asking for a page."""
    return WORK_PATH if role in WORK_ROLES else "/"


@router.get(WORK_PATH)
def my_work(
    request: Request,
    pages: PagesDep,
    engine: EngineDep,
    user: PageUser,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    work = load_my_work(engine, actor_of(user), page)
    return pages.render(request, "my_work.html", {"work": work})
