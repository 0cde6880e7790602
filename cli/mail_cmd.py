"""`cicie outbox …` and `cicie mail preview`: what is queued, delivering it, dead letters."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from cli.context import runtime
from cli.output import domain_errors, emit
from engine.errors import NotFound
from i18n import LANGUAGES
from notifications.dispatcher import Dispatcher
from notifications.preview import preview
from storage import outbox
from workflows.definition import RECIPIENT_ROLES

outbox_app = typer.Typer(
    help="Messages queued for partners, and dead letters.", no_args_is_help=True
)
mail_app = typer.Typer(help="Mail templates.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@outbox_app.command("list")
def outbox_list(
    status: Annotated[
        str | None, typer.Option(help="pending, sending, sent or dead (default: all).")
    ] = None,
    request_id: Annotated[int | None, typer.Option("--request", help="Only this request.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Messages in the outbox, newest last."""
    with domain_errors(as_json), runtime() as rt, rt.db.read() as conn:
        rows = outbox.listing(conn, status=status, request_id=request_id)
        payload = [
            {
                "id": r.id,
                "status": r.status,
                "to": r.to_addr,
                "subject": r.subject,
                "language": r.language,
                "wanted_language": r.wanted_language,
                "attempts": r.attempts,
                "key": r.key,
                "template": r.template,
                "request_id": r.request_id,
                "last_reply": r.last_reply,
                "next_attempt_at": r.next_attempt_at.isoformat(),
                "sent_at": r.sent_at.isoformat() if r.sent_at else None,
            }
            for r in rows
        ]
        emit(
            payload,
            as_json,
            lambda: "\n".join(
                f"{p['id']:>5} {p['status']:<8} {p['language']} {p['to']:<32} {p['subject']}"
                for p in payload
            ),
        )


@outbox_app.command("send")
def outbox_send(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between passes (without --once).")] = 5,
    as_json: JsonFlag = False,
) -> None:
    """Deliver due messages over SMTP (the configured relay, or the local catcher)."""
    # imported here: `cli.background` loads the scheduler, which other `outbox` commands skip
    from cli.background import build_dispatcher, worker_name

    with domain_errors(as_json), runtime() as rt:
        dispatcher = build_dispatcher(Dispatcher, rt, worker=worker_name("cli"))

        async def run() -> dict[str, int]:
            async with dispatcher:
                if once:
                    report = await dispatcher.run_once()
                    return report.to_dict()
                await dispatcher.run_until_stopped(asyncio.Event(), interval)
                return {}

        result = asyncio.run(run())
        emit(
            result,
            as_json,
            f"sent {result.get('sent', 0)}, retrying {result.get('retrying', 0)}, "
            f"dead {result.get('dead', 0)}",
        )


@outbox_app.command("retry")
def outbox_retry(
    message_id: Annotated[int, typer.Argument(metavar="ID", help="Outbox id of a dead letter.")],
    as_json: JsonFlag = False,
) -> None:
    """Put a dead letter back in the queue (its attempts start again)."""
    with domain_errors(as_json), runtime() as rt:
        if not outbox.retry(rt.db, message_id, rt.engine.clock()):
            raise NotFound(f"no dead letter with id {message_id}")
        emit({"id": message_id, "status": "pending"}, as_json, f"message {message_id} queued again")


def _mail_language(value: str) -> str:
    if value not in LANGUAGES:
        raise typer.BadParameter(
            f"{value!r} is not a language mail is written in; use one of: " + ", ".join(LANGUAGES)
        )
    return value


@mail_app.command("preview")
def mail_preview(
    template: Annotated[str, typer.Argument(help="Template name, e.g. logistics_confirmed.")],
    lang: Annotated[
        str,
        typer.Option(
            "--lang",
            callback=_mail_language,
            metavar="LANG",
            help="The recipient's language: " + ", ".join(LANGUAGES) + " (Arabic: right to left).",
        ),
    ] = "es",
    request_id: Annotated[
        int | None, typer.Option("--request", help="Render for this request (default: example).")
    ] = None,
    role: Annotated[
        str,
        typer.Option(help="Recipient role the wording is for: " + ", ".join(RECIPIENT_ROLES) + "."),
    ] = "emb_contacts",
    html: Annotated[bool, typer.Option("--html", help="Print the HTML part instead.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Render a template without sending anything."""
    with domain_errors(as_json), runtime() as rt:
        rendered = preview(rt, template, lang, request_id=request_id, role=role)
        emit(
            {
                "template": template,
                "language": rendered.language,
                "wanted_language": rendered.wanted,
                "subject": rendered.subject,
                "text": rendered.text,
                "html": rendered.html,
            },
            as_json,
            f"Subject: {rendered.subject}\nContent-Language: {rendered.language}\n\n"
            + (rendered.html if html else rendered.text),
        )
