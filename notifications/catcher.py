"""The embedded mail server: with no SMTP relay configured, `make run` delivers to this catcher
on loopback, so the real delivery path (outbox, dispatcher, SMTP) always runs and every message
can be read afterwards in a Maildir (any mail client or `mailbox.Maildir` opens it).

Served with `loop.create_server`, not aiosmtpd's `Controller`, which cannot bind port 0 and
runs its own thread (LIBRARY-NOTES).
"""

from __future__ import annotations

import asyncio
import email.policy
import mailbox
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

_PARSER = BytesParser(policy=email.policy.default)


class _StoreInMaildir:
    """aiosmtpd handler: every accepted message goes into the Maildir as it arrived, with the
    envelope recipients (which a Bcc leaves out of the headers) in `X-Envelope-To`."""

    def __init__(self, maildir: mailbox.Maildir) -> None:
        self._maildir = maildir

    async def handle_DATA(  # noqa: N802 (aiosmtpd hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        recipients = ", ".join(envelope.rcpt_tos)
        # Maildir files hold local line endings (LF), as mail clients reading them expect
        stored = f"X-Envelope-To: {recipients}\n".encode() + content.replace(b"\r\n", b"\n")
        try:
            await asyncio.to_thread(self._maildir.add, stored)
        except OSError as exc:  # a full disk is temporary: the sender keeps it and retries
            return f"451 4.3.0 could not store the message ({type(exc).__name__})"
        return "250 Message accepted for delivery"


class MailCatcher:
    """An SMTP server on `host:port` (0 = any free port) that keeps what it receives."""

    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.directory = Path(directory)
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._sessions: set[SMTP] = set()

    async def start(self) -> int:
        """Listen; returns the bound port."""
        handler = _StoreInMaildir(_maildir(self.directory))
        loop = asyncio.get_running_loop()

        def session() -> SMTP:
            return _TrackedSMTP(
                handler,
                hostname="cicie-catcher",
                enable_SMTPUTF8=True,
                loop=loop,
                sessions=self._sessions,
            )

        self._server = await loop.create_server(session, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Stop listening and close the sessions still open."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for smtp in list(self._sessions):
            if smtp.transport is not None:
                smtp.transport.close()
        await server.wait_closed()
        for _ in range(100):  # let the closed sessions run their connection_lost
            if not self._sessions:
                break
            await asyncio.sleep(0.01)

    def messages(self) -> list[EmailMessage]:
        """Everything received so far, oldest first."""
        box = _maildir(self.directory)
        found: list[tuple[float, str, bytes]] = []
        for key in box.iterkeys():
            found.append((box.get_message(key).get_date(), key, box.get_bytes(key)))
        found.sort()
        parsed: list[EmailMessage] = []
        for _date, _key, raw in found:
            message = _PARSER.parsebytes(raw)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed


def _maildir(directory: Path) -> mailbox.Maildir:
    """`Maildir(create=True)` skips tmp/new/cur when the directory already exists."""
    for sub in ("tmp", "new", "cur"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(directory, create=False)


class _TrackedSMTP(SMTP):
    """Remembers open sessions, so `stop()` can close them (asyncio.Server does not)."""

    def __init__(self, handler: Any, *, sessions: set[SMTP], **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._open_sessions = sessions

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._open_sessions.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._open_sessions.discard(self)
        super().connection_lost(error)
