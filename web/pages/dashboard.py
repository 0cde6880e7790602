"""(being built)"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.pages.deps import PagesDep, PageUser

router = APIRouter(include_in_schema=False)


@router.get("/")
def dashboard(request: Request, pages: PagesDep, user: PageUser) -> HTMLResponse:
    return pages.render(request, "error.html", {"status_code": 200, "message": "dashboard"})
