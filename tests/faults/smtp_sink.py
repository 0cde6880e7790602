"""The SMTP relay of the fault tests: a real aiosmtpd server on loopback (port 0, in an event
loop of its own thread) that the `cicie worker` processes deliver to. It records every message
it accepted with its Message-ID and when it arrived, can answer slowly (`delay` seconds before
the final reply of DATA, after the message is kept: the window in which a killed sender leaves
an ambiguous delivery), and can go down and come back on the same port.
"""

from __future__ import annotations

import asyncio
import email.policy
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from email.parser import BytesParser
from typing import Any, TypeVar

from aiosmtpd.smtp import SMTP, Envelope, Session

T = TypeVar("T")
_HEADERS = BytesParser(policy=email.policy.default)


@dataclass(frozen=True)
class Delivery:
    message_id: str
    rcpt_tos: tuple[str, ...]
    at: float  # time.monotonic() when the message was kept
    connection: str = ""  # the client's address: which connection delivered it


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(  # noqa: N802 (aiosmtpd hook)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = bytes(envelope.original_content or b"")
        message_id = str(_HEADERS.parsebytes(content, headersonly=True)["Message-ID"])
        with self.sink.lock:
            self.sink.deliveries.append(
                Delivery(
                    message_id,
                    tuple(envelope.rcpt_tos),
                    time.monotonic(),
                    str(session.peer),
                )
            )
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        return "250 OK queued"


class _Session(SMTP):
    def __init__(self, handler: _Handler, sessions: set[SMTP], **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._sessions = sessions

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._sessions.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._sessions.discard(self)
        super().connection_lost(error)


class SmtpSink:
    host = "127.0.0.1"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.port = 0
        self.lock = threading.Lock()
        self.deliveries: list[Delivery] = []
        self._sessions: set[SMTP] = set()
        self._server: asyncio.Server | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    async def _listen(self) -> None:
        handler = _Handler(self)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Session(handler, self._sessions, hostname="sink", loop=loop, timeout=30),
            self.host,
            self.port,
            reuse_address=True,
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.abort()
        if server is not None:
            await server.wait_closed()

    def start(self) -> None:
        self._call(self._listen())

    def go_down(self) -> None:
        """Nothing listens on the port any more; open sessions are cut."""
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

    # ------------------------------------------------------------ what arrived
    def received(self) -> list[Delivery]:
        with self.lock:
            return list(self.deliveries)
