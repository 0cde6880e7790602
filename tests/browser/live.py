"""The live installation the browser tests drive: `LiveServer` (the running application and
its helpers), `MailSink` (a real aiosmtpd server on loopback) and `Mail` (one message it
accepted, with its links). The fixtures that build them are in conftest.py."""

from __future__ import annotations

import asyncio
import email.policy
import re
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, TypeVar

import uvicorn
from aiosmtpd.smtp import SMTP, Envelope, Session

from cli.background import worker_name
from config.settings import Settings
from engine.account_views import UserView
from engine.accounts import Accounts
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.service import Engine
from engine.sweep import TimerSweep
from notifications.dispatcher import Dispatcher
from notifications.smtp import SmtpConfig

T = TypeVar("T")
PASSWORD = "browser-password-long"  # every user the fixtures create has this password
_MESSAGES = BytesParser(policy=email.policy.default)
_URL = re.compile(r"https?://[^\s\"'<>]+")

# labels and buttons, in English or Spanish (the pages' markup may change; these do not)
LABEL_USERNAME = re.compile(r"^(Username|Usuario|Nombre de usuario)$", re.IGNORECASE)
LABEL_PASSWORD = re.compile(r"^(Password|Contraseña)$", re.IGNORECASE)
LABEL_LANGUAGE = re.compile(r"^(Language|Idioma)$", re.IGNORECASE)
BUTTON_SIGN_IN = re.compile(r"^(Sign in|Iniciar sesión|Entrar|Ingresar)$", re.IGNORECASE)
BUTTON_SIGN_OUT = re.compile(r"^(Sign out|Cerrar sesión|Salir)$", re.IGNORECASE)


# ---------------------------------------------------------------- mail
@dataclass(frozen=True)
class Mail:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = _MESSAGES.parsebytes(self.content)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        """The plain-text body ('' when there is none)."""
        body = self.message.get_body(preferencelist=("plain",))
        return body.get_content() if body is not None else ""

    @property
    def html(self) -> str:
        body = self.message.get_body(preferencelist=("html",))
        return body.get_content() if body is not None else ""

    @property
    def links(self) -> list[str]:
        """Every http(s) URL in the text and HTML bodies, in order, without repeats."""
        found: list[str] = []
        for url in _URL.findall(self.text) + _URL.findall(self.html):
            url = url.rstrip(".,;:)").replace("&amp;", "&")
            if url not in found:
                found.append(url)
        return found


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_DATA(  # noqa: N802 (aiosmtpd hook)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        mail = Mail(
            str(envelope.mail_from),
            tuple(envelope.rcpt_tos),
            bytes(envelope.original_content or b""),
        )
        with self.sink.lock:
            self.sink.messages.append(mail)
        return "250 OK queued"


@dataclass
class MailSink:
    """A real aiosmtpd server on 127.0.0.1 (port 0), in an event loop of its own thread."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[Mail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    async def _listen(self) -> None:
        handler = _Handler(self)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(handler, hostname="browser-tests", loop=loop, timeout=30),
            self.host,
            0,
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def start(self) -> None:
        self._thread.start()
        self._call(self._listen())

    def stop(self) -> None:
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    @property
    def received(self) -> list[Mail]:
        with self.lock:
            return list(self.messages)


def _in_a_thread(coro: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """asyncio.run on a thread of its own: Playwright's sync API owns this thread's loop."""
    result: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(asyncio.run(coro()))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    if errors:
        raise errors[0]
    assert result, "the mail pass did not finish within 120 s"
    return result[0]


# ---------------------------------------------------------------- the server
@dataclass
class LiveServer:
    """The running application. `url` has no trailing slash (`url + "/requests/1"`)."""

    url: str
    runtime: Runtime
    mail: MailSink
    clock: ManualClock
    accounts: Accounts

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def add_user(
        self,
        username: str,
        role: str = "coordinator",
        password: str = PASSWORD,
        *,
        language: str = "en",
    ) -> UserView:
        return self.accounts.add_user(username, role, password, language=language)

    def deliver_mail(self) -> dict[str, int]:
        """One dispatcher pass over the outbox now, as `cicie worker --once` does:
        {"sent", "retrying", "dead"}."""
        settings = self.settings

        async def once() -> dict[str, int]:
            dispatcher = Dispatcher(
                self.runtime.db,
                SmtpConfig.from_settings(settings),
                clock=self.clock,
                worker=worker_name("browser-tests-mail"),
                connections=settings.smtp_connections,
                max_attempts=settings.mail_max_attempts,
                lease_seconds=settings.outbox_lease_seconds,
            )
            async with dispatcher:
                report = await dispatcher.run_once()
            return {"sent": report.sent, "retrying": report.retrying, "dead": report.dead}

        return _in_a_thread(once)

    def worker_once(self) -> dict[str, Any]:
        """Fire due timers, then deliver the outbox: `cicie worker --once` at `clock()`."""
        timers = TimerSweep(self.engine, worker=worker_name("browser-tests")).run_once()
        return {"timers": timers.to_dict(), "mail": self.deliver_mail()}

    def received_mail(self, to: str | None = None) -> list[Mail]:
        """What the SMTP server accepted so far (only that sent to `to`, if given)."""
        return [m for m in self.mail.received if to is None or to in m.rcpt_tos]

    def links_in_mail(self, to: str | None = None) -> list[str]:
        """Every link to this site in the mail received so far, oldest first."""
        return [
            link
            for m in self.received_mail(to)
            for link in m.links
            if link.startswith(self.url + "/")
        ]


class ServerThread(threading.Thread):
    """uvicorn serving `app` on an already bound socket, in a thread of its own."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        super().__init__(name="live-server", daemon=True)
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            ws="none",
            lifespan="on",
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)
        self.sock = sock

    def run(self) -> None:
        self.server.run(sockets=[self.sock])

    def wait_started(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.is_alive():
                raise RuntimeError("the live server stopped while starting")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the live server did not start within {timeout} s")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.join(timeout=30)
        assert not self.is_alive(), "the live server did not stop within 30 s"
