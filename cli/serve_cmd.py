"""`cicie serve`: the web application (JSON API, pages) on one process."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from cli.background import Worker
from cli.context import runtime
from cli.logs import configure_logging
from engine.accounts import Accounts, ensure_demo_users
from engine.bootstrap import Runtime
from engine.demo import load_demo


def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default CICIE_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default CICIE_PORT).")] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Do not run reminders and mail in this process.")
    ] = False,
) -> None:
    """Run the application; on an empty database, load the demo set and print a demo login."""
    with runtime() as rt:
        configure_logging(rt.settings)
        _serve(rt, host, port, worker=not no_worker)


def _serve(rt: Runtime, host: str | None, port: int | None, *, worker: bool) -> None:
    settings = rt.settings
    if settings.demo_data:
        loaded = load_demo(rt.engine)
        if loaded:
            typer.echo(f"loaded {loaded} demo requests")
    accounts = Accounts(rt.db, rt.engine.clock)
    created = ensure_demo_users(accounts)
    if created:
        typer.echo("demo users (shown once; change them):")
        for username, password in created.items():
            typer.echo(f"  {username} / {password}")
        token = accounts.issue_token("coordinator", "demo")
        typer.echo(f"API token for 'coordinator': {token}")
    host = host or settings.host
    port = port or settings.port
    from web.app import create_app  # only this command needs the web layer (and its import time)

    typer.echo(f"CICIE on http://{host}:{port}  (API docs: /docs, health: /healthz)")
    services = [Worker(rt)] if worker else []
    # our logging set-up formats uvicorn's lines too; the access line, with the request id, is
    # written by web.observability
    uvicorn.run(
        create_app(rt, services=services),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(rt.settings.shutdown_grace) + 5,
    )
