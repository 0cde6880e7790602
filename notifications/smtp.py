"""Talking to the SMTP server: configuration, a few reused connections, and what each failure
means for the message.

Reusing connections matters (LIBRARY-NOTES: ~325 msg/s with a connection per message, ~740 on
one reused connection with pre-rendered bytes). Every failure is sorted into one of four
outcomes; the dispatcher decides what to do with the row:

- ``sent``: 250 after the message data.
- ``temporary``: a 4xx reply (and 552 on RCPT, RFC 5321 § 4.5.3.1.10), a refused, dropped or
  silent connection before the message data went out, any failure while connecting.
- ``permanent``: a 5xx reply, every recipient refused, an address that cannot be sent.
- ``ambiguous``: the message data was written but no final reply came (read timeout or
  disconnect): the server may have queued it.

To tell "dropped before the data" from "dropped after the data", each connection watches what
aiosmtplib writes: the write that follows ``DATA\\r\\n`` is the message itself.

`send` can hold a message back just before its DATA command until the caller is ready (the
dispatcher waits there until the outcome of the connection's previous message is recorded): the
envelope of the next message goes out while the previous outcome is being committed, but the
server never has two messages of one connection that the database does not know about.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any, Literal

import aiosmtplib
from aiosmtplib import (
    SMTPHeloError,
    SMTPNotSupported,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPServerDisconnected,
)

from config.settings import Settings

log = logging.getLogger(__name__)

Security = Literal["none", "starttls", "tls"]
Outcome = Literal["sent", "temporary", "permanent", "ambiguous"]
Gate = Callable[[], Awaitable[bool]]
_DATA_COMMAND = b"DATA\r\n"


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to deliver. `sender` is the envelope MAIL FROM (an addr-spec)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    security: Security = "none"
    timeout: float = 30.0
    local_hostname: str = "localhost"
    sender: str = "cicie@localhost"
    validate_certs: bool = True

    @classmethod
    def from_settings(cls, settings: Settings, *, catcher_port: int | None = None) -> SmtpConfig:
        """The configured relay, or the embedded catcher on loopback when none is configured.

        `local_hostname` is the domain of `mail_from`, so aiosmtplib never calls `getfqdn()`
        (a DNS lookup) on every connection."""
        sender = parseaddr(settings.mail_from)[1] or "cicie@localhost"
        domain = sender.rpartition("@")[2] or "localhost"
        if settings.smtp_host is None:
            return cls(
                host="127.0.0.1",
                port=catcher_port if catcher_port is not None else settings.catcher_port,
                timeout=settings.smtp_timeout,
                local_hostname=domain,
                sender=sender,
            )
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            security=settings.smtp_security,
            timeout=settings.smtp_timeout,
            local_hostname=domain,
            sender=sender,
        )


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    reply: str  # the SMTP code and text, or what went wrong on the connection


def _reply(code: int, text: str) -> str:
    return f"{code} {' '.join(text.split())}".strip()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SMTPResponseException):
        return _reply(exc.code, exc.message)
    return f"{type(exc).__name__}: {exc}"


class _HeldBack(Exception):
    """The gate before DATA said no: the message is not sent."""


class _Client(aiosmtplib.SMTP):
    """aiosmtplib's client, whose DATA command first waits for `gate` (when one is set)."""

    gate: Gate | None = None

    async def data(self, message: str | bytes, /, **kwargs: Any) -> aiosmtplib.SMTPResponse:
        gate = self.gate
        if gate is not None and not await gate():
            raise _HeldBack
        return await super().data(message, **kwargs)


class Connection:
    """One SMTP session, opened on first use and reopened after a drop."""

    def __init__(self, config: SmtpConfig, pool: SmtpPool) -> None:
        self._config = config
        self.pool = pool
        self.smtp: _Client | None = None
        self.payload_written = False
        self._last_write = b""

    @property
    def is_open(self) -> bool:
        return self.smtp is not None and self.smtp.is_connected

    async def open(self) -> None:
        c = self._config
        smtp = _Client(
            hostname=c.host,
            port=c.port,
            username=c.username,
            password=c.password,
            use_tls=c.security == "tls",
            start_tls=c.security == "starttls",
            validate_certs=c.validate_certs,
            timeout=c.timeout,
            local_hostname=c.local_hostname,
        )
        try:
            await smtp.connect()
            if smtp.is_ehlo_or_helo_needed:
                try:
                    await smtp.ehlo()
                except SMTPHeloError:
                    await smtp.helo()
        except BaseException:
            smtp.close()
            raise
        self._watch_writes(smtp)
        self.smtp = smtp

    def _watch_writes(self, smtp: aiosmtplib.SMTP) -> None:
        protocol = smtp.protocol
        assert protocol is not None
        write = protocol.write

        def watching_write(data: bytes) -> None:
            write(data)
            if self._last_write == _DATA_COMMAND:
                self.payload_written = True
            self._last_write = data

        protocol.write = watching_write  # type: ignore[method-assign]

    def discard(self) -> None:
        """Drop the session without QUIT (its state is unknown)."""
        if self.smtp is not None:
            self.smtp.close()
        self.smtp = None

    async def close(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is None:
            return
        if smtp.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await smtp.quit(timeout=min(self._config.timeout, 5.0))
        smtp.close()


class SmtpPool:
    """N reused connections. When opening a connection fails, the others stop trying until
    `new_round()` — so a server that is down costs one connection attempt per pass, not one
    per message."""

    def __init__(self, config: SmtpConfig, size: int) -> None:
        if size < 1:
            raise ValueError("an SMTP pool needs at least one connection")
        self.config = config
        self.connections = [Connection(config, self) for _ in range(size)]
        self.down: str | None = None

    def new_round(self) -> None:
        self.down = None

    async def aclose(self) -> None:
        await asyncio.gather(*(c.close() for c in self.connections))


async def send(
    conn: Connection,
    sender: str,
    recipient: str,
    message: bytes,
    *,
    before_data: Gate | None = None,
) -> Result | None:
    """Deliver `message` to one recipient over `conn` and say what happened. Never raises for
    an SMTP or network failure; a session left in an unknown state is discarded.

    `before_data` is awaited after the envelope is accepted, just before DATA: when it returns
    False the message is not sent (the session is dropped) and the result is None."""
    for attempt in (1, 2):
        conn.payload_written = False
        conn._last_write = b""
        reused = conn.is_open
        if not reused:
            if conn.pool.down is not None:
                return Result("temporary", conn.pool.down)
            try:
                await conn.open()
            except Exception as exc:  # any way of failing to connect: try again later
                conn.pool.down = _describe(exc)
                return Result("temporary", conn.pool.down)
        smtp = conn.smtp
        assert smtp is not None
        options = []
        if not message.isascii() and smtp.supports_extension("8bitmime"):
            options.append("BODY=8BITMIME")
        smtp.gate = before_data
        try:
            errors, text = await smtp.sendmail(sender, [recipient], message, mail_options=options)
        except _HeldBack:
            conn.discard()
            return None
        except SMTPRecipientsRefused as exc:
            return _refused([(r.code, r.message) for r in exc.recipients])
        except SMTPResponseException as exc:
            if not smtp.is_connected:
                conn.discard()
            reply = _describe(exc)
            if 400 <= exc.code < 500:
                return Result("temporary", reply)
            if 500 <= exc.code < 600:
                return Result("permanent", reply)
            conn.discard()  # a malformed reply: the session cannot be trusted
            return Result("ambiguous" if conn.payload_written else "temporary", reply)
        except (ValueError, SMTPNotSupported) as exc:  # e.g. an address that cannot be sent
            return Result("permanent", _describe(exc))
        except (aiosmtplib.SMTPException, OSError) as exc:  # timeouts, disconnects
            written = conn.payload_written
            conn.discard()
            if written:
                return Result("ambiguous", _describe(exc))
            stale = isinstance(exc, SMTPServerDisconnected | ConnectionError)
            if reused and stale and attempt == 1:
                continue  # the server closed an idle session: reconnect once, right away
            return Result("temporary", _describe(exc))
        except BaseException:  # cancelled (the lease ran out) or a bug: the session is unknown
            conn.discard()
            raise
        finally:
            smtp.gate = None
        if errors:  # a partial refusal is a refusal
            return _refused([(r.code, r.message) for r in errors.values()])
        return Result("sent", _reply(250, text))
    raise AssertionError("unreachable")


def _refused(replies: list[tuple[int, str]]) -> Result:
    """RCPT refused: permanent on 5xx, except 552, which RFC 5321 says to treat as 4xx."""
    reply = "; ".join(_reply(code, text) for code, text in replies)
    permanent = any(500 <= code < 600 and code != 552 for code, _ in replies)
    return Result("permanent" if permanent else "temporary", reply)
