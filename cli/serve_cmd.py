"""`cicie serve`: the web application (JSON API, pages) on one process.

A plain `serve` creates nobody and prints no password: the first administrator is made with
`cicie user add NAME --role admin --password-stdin`. `serve --demo` (what `make run` uses)
loads the demo set and, on a database with no user, makes one user per role and prints their
login once, after the server has started, so it is the last thing on the console."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
import uvicorn

from cli.background import Worker
from cli.context import runtime
from cli.logs import configure_logging
from cli.output import EXIT_REFUSED, LangOption, chosen_language
from engine.accounts import Accounts
from engine.bootstrap import Runtime
from engine.demo import DemoLogin, load_demo_installation
from i18n import Text


def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default CICIE_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default CICIE_PORT).")] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Do not run reminders and mail in this process.")
    ] = False,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Load the demo set into an empty database and make demo users "
            "(refused when CICIE_ENVIRONMENT=production).",
        ),
    ] = False,
    lang: LangOption = None,
) -> None:
    """Run the application (with --demo: demo data and a demo login on an empty database)."""
    lang = chosen_language(lang)
    with runtime() as rt:
        configure_logging(rt.settings)
        if demo and rt.settings.environment == "production":
            message = Text(
                "--demo is refused in production (CICIE_ENVIRONMENT=production): demo users "
                "would have known roles and printed passwords."
            ).say(lang)
            typer.echo(f"error (not_allowed): {message}", err=True)
            raise typer.Exit(EXIT_REFUSED)
        _serve(rt, host, port, worker=not no_worker, demo=demo, lang=lang)


WORKER_WAIT_SECONDS = 20.0


class _Banner:
    """Prints the address (and a demo login) once the server listens, after uvicorn's lines."""

    def __init__(self, lines: list[str], worker: Worker | None = None) -> None:
        self.server: uvicorn.Server | None = None
        self._lines = lines
        self._worker = worker
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._print_when_started())

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _print_when_started(self) -> None:
        while self.server is None or not self.server.started:
            await asyncio.sleep(0.05)
        if self._worker is not None:
            # the first mail pass and timer sweep log what they did (the demo's mail): wait for
            # them, a little, so that the address and the login are the last lines on screen
            waited = 0.0
            while not self._worker.first_passes_done.is_set() and waited < WORKER_WAIT_SECONDS:
                await asyncio.sleep(0.05)
                waited += 0.05
        typer.echo("\n".join(self._lines))


def _banner_lines(
    rt: Runtime, url: str, login: DemoLogin | None, has_users: bool, lang: str
) -> list[str]:
    # what matters most comes last, where the eye lands: the address, then the login
    lines = [""]
    if not rt.settings.smtp_host:
        lines.append(
            Text(
                "Mail is caught under %(folder)s (the catcher's log: %(log)s).",
                folder=str(rt.settings.mail_dir),
                log=str(rt.settings.home / "mail-catcher.log"),
            ).say(lang)
        )
    lines.append(Text("Stop with Ctrl+C.").say(lang))
    lines.append(
        Text(
            "CICIE is running on %(url)s  (API docs: %(url)s/docs, health: %(url)s/healthz)",
            url=url,
        ).say(lang)
    )
    if login is not None:
        lines.append(
            Text("Demo login (shown once; change the passwords with `cicie user passwd`):").say(
                lang
            )
        )
        lines += [f"  {name} / {password}" for name, password in login.passwords.items()]
        lines.append(
            Text(
                "API token for 'coordinator' (expires in 90 days): %(token)s", token=login.token
            ).say(lang)
        )
    elif not has_users:
        lines.append(
            Text(
                "Nobody can sign in yet: create an administrator with %(command)s",
                command="`cicie user add NAME --role admin --password-stdin`",
            ).say(lang)
        )
    return lines


def _serve(
    rt: Runtime, host: str | None, port: int | None, *, worker: bool, demo: bool, lang: str
) -> None:
    accounts = Accounts(rt.db, rt.engine.clock)
    login: DemoLogin | None = None
    if demo:
        loaded, login = load_demo_installation(rt.engine, accounts)
        if loaded:
            typer.echo(Text("Demo requests loaded: %(count)s.", count=loaded).say(lang))
    host = host or rt.settings.host
    port = port or rt.settings.port
    from web.app import create_app  # only this command needs the web layer (and its import time)

    the_worker = Worker(rt) if worker else None
    services: list[Worker | _Banner] = [the_worker] if the_worker is not None else []
    # our logging set-up formats uvicorn's lines too; the access line, with the request id, is
    # written by web.observability. X-Forwarded-For is believed only from CICIE_TRUSTED_PROXIES.
    banner = _Banner(
        _banner_lines(rt, f"http://{host}:{port}", login, accounts.has_users(), lang), the_worker
    )
    config = uvicorn.Config(
        create_app(rt, services=[*services, banner]),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(rt.settings.shutdown_grace) + 5,
        proxy_headers=bool(rt.settings.trusted_proxy_list),
        forwarded_allow_ips=rt.settings.trusted_proxy_list or [],
    )
    banner.server = uvicorn.Server(config)
    banner.server.run()
