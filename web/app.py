"""The web application: one FastAPI app around one `Runtime`, so the CLI, the worker and the
tests wire it the same way. Health endpoints need no token: a load balancer asks `/healthz`
(the process answers) and `/readyz` (the database answers too)."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from config.secret import site_secret
from engine.accounts import Accounts
from engine.bootstrap import Runtime
from notifications.links import link_maker
from web.api import router as api_router
from web.body_limit import BodyLimitMiddleware, route_limits
from web.docs_ui import install_docs
from web.errors import install_error_handlers
from web.observability import RequestIdMiddleware
from web.pages import account, admin, auth, dashboard, links, outbox, requests, results
from web.pages import documents as documents_pages
from web.pages import my_work as my_work_pages
from web.pages import organisations as organisations_pages
from web.pages import search as search_page
from web.pages.errors import install_page_error_handlers
from web.security_headers import SecurityHeadersMiddleware
from web.sessions import SESSION_COOKIE, SESSION_MAX_AGE
from web.templating import Pages
from web.throttle import SignInThrottle

STATIC_DIR = Path(__file__).parent / "static"

log = logging.getLogger(__name__)


class BackgroundService(Protocol):
    """Something that runs beside the web application (mail delivery, reminders)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def _freeze_heap(runtime: Runtime) -> bool:
    """Move what the started application holds (modules, compiled workflows, catalogues,
    calendars: ~140,000 objects) out of the cyclic collector's reach, so that its full
    collections, which a page's short-lived rows set off now and then, scan only what was
    made since (issue 16: at 10,000 requests a full collection paused a dashboard for ~70 ms,
    now ~1; its p95 in-process went from 91 to 58 ms). Not under the tests, which start and
    stop an application for each test; undone when the application stops."""
    if runtime.settings.environment == "test":
        return False
    gc.collect()
    gc.freeze()
    return True


def create_app(runtime: Runtime, *, services: Sequence[BackgroundService] = ()) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        started: list[BackgroundService] = []
        frozen = False
        try:
            for service in services:
                await service.start()
                started.append(service)
            frozen = _freeze_heap(runtime)
            yield
        finally:
            for service in reversed(started):
                await service.stop()
            if frozen:
                gc.unfreeze()  # what the app held at start may be collected again

    # /docs is our own page on local assets (web/docs_ui.py): FastAPI's loads a CDN
    app = FastAPI(title="CICIE", docs_url=None, openapi_url="/openapi.json", lifespan=lifespan)
    app.state.runtime = runtime
    app.state.accounts = Accounts(runtime.db, runtime.engine.clock)
    app.state.pages = Pages(runtime.settings.timezone)
    documents_pages.install(app.state.pages)  # the request page's delegates' documents
    app.state.link_maker = link_maker(runtime.settings, runtime.engine.clock)
    app.state.links = app.state.link_maker.signer  # the one signer: links made and verified
    app.state.sign_in_throttle = SignInThrottle(runtime.db, runtime.engine.clock)
    install_error_handlers(app)
    install_page_error_handlers(app)
    app.include_router(api_router)
    for pages_module in (auth, dashboard, requests, outbox, links, results, account, admin):
        app.include_router(pages_module.router)
    app.include_router(search_page.router)  # GET /requests?q= (issue 15)
    app.include_router(my_work_pages.router)  # "Needs my action" (/work)
    app.include_router(organisations_pages.router)  # /organisations
    app.include_router(documents_pages.router)  # the delegates' letters and agenda packs
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_docs(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=site_secret(runtime.settings).get_secret_value(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=runtime.settings.resolved_base_url.startswith("https://"),
    )

    app.add_middleware(SecurityHeadersMiddleware)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], response_model=None)
    def readyz(request: Request) -> dict[str, str] | JSONResponse:
        rt: Runtime = request.app.state.runtime
        if not rt.db.ping():
            log.error("readiness check: the database does not answer")
            return JSONResponse({"status": "unavailable", "database": "error"}, status_code=503)
        return {"status": "ready", "database": "ok"}

    # every body bounded before it is read (and before a token is checked): 413
    app.add_middleware(BodyLimitMiddleware, limits=route_limits(runtime.settings))
    app.add_middleware(RequestIdMiddleware)  # outermost: X-Request-ID, access log
    return app
