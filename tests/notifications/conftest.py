"""Mail fixtures: a real aiosmtpd server per test (on 127.0.0.1, port 0, in an event loop of
its own thread) whose faults a test scripts; pre-rendered messages put into the outbox; and a
guard that fails any aiosmtplib connection to a server the test did not start.

Faults are consumed one per SMTP transaction, in order, at the step they apply to:
`reply_rcpt("550 …")`, `reply_data("451 …")` (instead of accepting), `drop_before_data()`
(the connection closes at MAIL), `stall_before_data(s)` (no 354 for s seconds),
`stall_after_data(s)` (the message is kept, the final reply comes s seconds late) and
`drop_after_data()` (the message is kept, the connection closes without a reply).
`go_down()` closes the listening socket and every session; `come_back()` listens again on the
same port.
"""

from __future__ import annotations

import asyncio
import email.policy
import threading
import uuid
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from typing import Any, TypeVar

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from engine.bootstrap import Runtime
from engine.clock import ManualClock
from notifications.dispatcher import Dispatcher, DispatchReport
from notifications.smtp import SmtpConfig
from storage import outbox
from storage.db import Database

T = TypeVar("T")
SENDER = "cicie@cicie.test"
_DATE = datetime(2026, 1, 12, 15, 0, tzinfo=UTC)
_HEADERS = BytesParser(policy=email.policy.default)


# ---------------------------------------------------------------- the SMTP server
@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @property
    def message_id(self) -> str:
        return str(_HEADERS.parsebytes(self.content, headersonly=True)["Message-ID"])


@dataclass(frozen=True)
class Fault:
    step: str  # mail | data_command | rcpt | data
    action: str  # reply | drop | stall | drop_kept | stall_kept
    reply: str = ""
    seconds: float = 0.0


@dataclass
class _State:
    faults: deque[Fault] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, step: str) -> Fault | None:
        with self.lock:
            if self.faults and self.faults[0].step == step:
                return self.faults.popleft()
        return None

    def keep(self, envelope: Envelope) -> None:
        with self.lock:
            self.received.append(
                Received(
                    str(envelope.mail_from),
                    tuple(envelope.rcpt_tos),
                    bytes(envelope.original_content or b""),
                )
            )


class _Handler:
    def __init__(self, state: _State) -> None:
        self.state = state

    async def handle_RCPT(  # noqa: N802 (aiosmtpd hook)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        fault = self.state.take("rcpt")
        if fault is not None:
            return fault.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd hook)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        fault = self.state.take("data")
        if fault is not None and fault.action == "reply":
            return fault.reply
        self.state.keep(envelope)
        if fault is not None and fault.action == "stall_kept":
            await asyncio.sleep(fault.seconds)
        elif fault is not None and fault.action == "drop_kept":
            assert server.transport is not None
            server.transport.close()
            await asyncio.sleep(3600)  # cancelled when the connection is lost
        return "250 OK queued"


class _ScriptedSMTP(SMTP):
    """aiosmtpd has no hook before MAIL is answered or before 354: override those two."""

    def __init__(self, handler: _Handler, sessions: set[SMTP], **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._state = handler.state
        self._sessions = sessions

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._sessions.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._sessions.discard(self)
        super().connection_lost(error)

    async def smtp_MAIL(self, arg: str) -> None:  # noqa: N802 (aiosmtpd command)
        if self._state.take("mail") is not None:
            assert self.transport is not None
            self.transport.close()
            await asyncio.sleep(3600)  # cancelled when the connection is lost
        await super().smtp_MAIL(arg)

    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802 (aiosmtpd command)
        fault = self._state.take("data_command")
        if fault is not None:
            await asyncio.sleep(fault.seconds)
        await super().smtp_DATA(arg)


class SmtpServer:
    """The test's SMTP server; every method is called from the test's thread."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port = 0
        self._state = _State()
        self._sessions: set[SMTP] = set()
        self._server: asyncio.Server | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    # -------------------------------------------------------- listening
    async def _listen(self) -> None:
        handler = _Handler(self._state)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _ScriptedSMTP(
                handler, self._sessions, hostname="test-server", loop=loop, timeout=30
            ),
            self.host,
            self.port,
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.close()
        if server is not None:
            await server.wait_closed()
        for _ in range(200):
            if not self._sessions:
                break
            await asyncio.sleep(0.01)

    def start(self) -> None:
        self._call(self._listen())

    def go_down(self) -> None:
        """The server is gone: nothing listens on the port and open sessions are cut."""
        self._call(self._close())

    def come_back(self) -> None:
        self._call(self._listen())

    def shutdown(self) -> None:
        self._call(self._close())

        async def rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self._call(rest())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    # -------------------------------------------------------- scripting
    def _script(self, fault: Fault) -> None:
        with self._state.lock:
            self._state.faults.append(fault)

    def reply_rcpt(self, reply: str) -> None:
        self._script(Fault("rcpt", "reply", reply))

    def reply_data(self, reply: str) -> None:
        self._script(Fault("data", "reply", reply))

    def drop_before_data(self) -> None:
        self._script(Fault("mail", "drop"))

    def stall_before_data(self, seconds: float) -> None:
        self._script(Fault("data_command", "stall", seconds=seconds))

    def stall_after_data(self, seconds: float) -> None:
        self._script(Fault("data", "stall_kept", seconds=seconds))

    def drop_after_data(self) -> None:
        self._script(Fault("data", "drop_kept"))

    # -------------------------------------------------------- what arrived
    @property
    def received(self) -> list[Received]:
        with self._state.lock:
            return list(self._state.received)

    def message_ids(self) -> list[str]:
        return [r.message_id for r in self.received]


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def smtp_allowed() -> set[tuple[str, int]]:
    """(host, port) pairs this test may open SMTP connections to."""
    return set()


@pytest.fixture(autouse=True)
def _only_the_tests_own_smtp_servers(
    monkeypatch: pytest.MonkeyPatch, smtp_allowed: set[tuple[str, int]]
) -> Iterator[None]:
    """A guard, not a mock: the real connect runs, but only to a server the test started."""
    refused: list[tuple[object, object]] = []
    real_connect = aiosmtplib.SMTP.connect

    async def guarded_connect(self: aiosmtplib.SMTP, *args: Any, **kwargs: Any) -> Any:
        target = (kwargs.get("hostname", self.hostname), kwargs.get("port", self.port))
        if target not in smtp_allowed:
            refused.append(target)
            pytest.fail(f"SMTP connection to {target} outside the test's servers {smtp_allowed}")
        return await real_connect(self, *args, **kwargs)

    monkeypatch.setattr(aiosmtplib.SMTP, "connect", guarded_connect)
    yield
    assert not refused, f"unexpected SMTP connections: {refused}"


@pytest.fixture
def smtp_server(smtp_allowed: set[tuple[str, int]]) -> Iterator[SmtpServer]:
    server = SmtpServer()
    try:
        server.start()
        smtp_allowed.add((server.host, server.port))
        yield server
    finally:
        server.shutdown()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


def render(n: int, to_addr: str, message_id: str) -> bytes:
    """A small RFC 5322 message, as the rendering side would store it."""
    msg = EmailMessage()
    msg["From"] = f"CICIE <{SENDER}>"
    msg["To"] = to_addr
    msg["Subject"] = f"Test message {n}"
    msg["Date"] = format_datetime(_DATE)
    msg["Message-ID"] = message_id
    msg.set_content(f"Hello, this is message {n}.\n")
    return msg.as_bytes(policy=email.policy.SMTP)


@dataclass(frozen=True)
class Queued:
    id: int
    message_id: str


@pytest.fixture
def enqueue(clock: ManualClock) -> Callable[..., list[Queued]]:
    """Put `count` pre-rendered messages, each with its own Message-ID, into the outbox."""
    counter = iter(range(1, 1_000_000))

    def put(
        db: Database,
        count: int = 1,
        *,
        to_addr: str = "partner@example.org",
        request_id: int | None = None,
        history_id: int | None = None,
    ) -> list[Queued]:
        queued: list[Queued] = []
        with db.transaction() as conn:
            for _ in range(count):
                n = next(counter)
                message_id = f"<{uuid.uuid4().hex}@cicie.test>"
                row_id = outbox.insert(
                    conn,
                    key=f"test:{n}:{to_addr}",
                    request_id=request_id,
                    history_id=history_id,
                    template="test",
                    language="en",
                    to_addr=to_addr,
                    to_name="",
                    subject=f"Test message {n}",
                    message_id=message_id,
                    body=render(n, to_addr, message_id),
                    now=clock(),
                )
                assert row_id is not None
                queued.append(Queued(row_id, message_id))
        return queued

    return put


@pytest.fixture
def make_dispatcher(smtp_server: SmtpServer, clock: ManualClock) -> Callable[..., Dispatcher]:
    def make(
        db: Database,
        *,
        worker: str = "test-worker",
        connections: int = 2,
        max_attempts: int = 5,
        lease_seconds: int = 120,
        batch: int = 200,
        timeout: float = 5.0,
        clock_: Any = None,
    ) -> Dispatcher:
        config = SmtpConfig(
            host=smtp_server.host,
            port=smtp_server.port,
            timeout=timeout,
            local_hostname="cicie.test",
            sender=SENDER,
        )
        return Dispatcher(
            db,
            config,
            clock=clock_ or clock,
            worker=worker,
            connections=connections,
            max_attempts=max_attempts,
            lease_seconds=lease_seconds,
            batch=batch,
        )

    return make


def _one_pass(dispatcher: Dispatcher) -> DispatchReport:
    async def one_pass() -> DispatchReport:
        async with dispatcher:
            return await dispatcher.run_once()

    return asyncio.run(one_pass())


@pytest.fixture
def dispatch() -> Callable[[Dispatcher], DispatchReport]:
    """One pass in an event loop of its own, closing the dispatcher's connections after."""
    return _one_pass


@pytest.fixture
def emb(runtime: Runtime) -> str:
    """Honduras' electoral body, which corresponds in Spanish (the workshop examples')."""
    runtime.engine.add_emb(
        code="TSE-HN", name="Tribunal Supremo Electoral", country="HN", language="es"
    )
    return "TSE-HN"
