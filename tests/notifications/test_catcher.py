"""The embedded catcher that `make run` delivers to when no SMTP relay is configured."""

from __future__ import annotations

import asyncio
import mailbox
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from config.settings import Settings
from notifications.catcher import MailCatcher
from notifications.smtp import SmtpConfig


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "CICIE <cicie@cicie.test>"
    msg["To"] = "partner@example.org"
    msg["Subject"] = "Programme approved"
    msg["Message-ID"] = "<catcher-1@cicie.test>"
    msg.set_content("Your request was approved.\n")
    return msg


def test_a_message_sent_with_aiosmtplib_lands_in_the_maildir(
    tmp_path: Path, smtp_allowed: set[tuple[str, int]]
) -> None:
    catcher = MailCatcher(tmp_path / "mail")

    async def deliver() -> None:
        port = await catcher.start()
        smtp_allowed.add(("127.0.0.1", port))
        try:
            await aiosmtplib.send(
                _message(),
                sender="cicie@cicie.test",
                recipients=["partner@example.org", "hidden@example.org"],
                hostname="127.0.0.1",
                port=port,
                local_hostname="cicie.test",
                start_tls=False,
                timeout=5,
            )
        finally:
            await catcher.stop()

    asyncio.run(deliver())

    (got,) = catcher.messages()
    assert got["Message-ID"] == "<catcher-1@cicie.test>"
    assert got["Subject"] == "Programme approved"
    assert got["X-Envelope-To"] == "partner@example.org, hidden@example.org"
    assert got.get_content() == "Your request was approved.\n"
    assert len(mailbox.Maildir(tmp_path / "mail", create=False)) == 1


def test_the_catcher_listens_again_after_a_restart_and_keeps_what_it_had(
    tmp_path: Path, smtp_allowed: set[tuple[str, int]]
) -> None:
    catcher = MailCatcher(tmp_path / "mail")

    async def deliver_twice() -> None:
        for n in (1, 2):
            port = await catcher.start()
            smtp_allowed.add(("127.0.0.1", port))
            msg = _message()
            msg.replace_header("Message-ID", f"<restart-{n}@cicie.test>")
            try:
                await aiosmtplib.send(
                    msg, hostname="127.0.0.1", port=port, local_hostname="t", start_tls=False
                )
            finally:
                await catcher.stop()

    asyncio.run(deliver_twice())
    assert [m["Message-ID"] for m in catcher.messages()] == [
        "<restart-1@cicie.test>",
        "<restart-2@cicie.test>",
    ]


def test_without_a_relay_mail_goes_to_the_catcher_on_loopback(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, environment="test", mail_from="CICIE <cicie@oas.test>")
    config = SmtpConfig.from_settings(settings, catcher_port=2525)
    assert (config.host, config.port, config.security) == ("127.0.0.1", 2525, "none")
    assert (config.sender, config.local_hostname) == ("cicie@oas.test", "oas.test")

    relay = SmtpConfig.from_settings(
        Settings(
            home=tmp_path,
            environment="test",
            smtp_host="smtp.example.org",
            smtp_port=587,
            smtp_security="starttls",
            smtp_username="cicie",
            smtp_password="s3cret",  # type: ignore[arg-type]
        )
    )
    assert (relay.host, relay.port, relay.security, relay.password) == (
        "smtp.example.org",
        587,
        "starttls",
        "s3cret",
    )
    assert "s3cret" not in repr(relay)
