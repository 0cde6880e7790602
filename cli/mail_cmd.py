"""`cicie outbox …` and `cicie mail preview`: what is queued, delivering it, dead letters."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from cli.context import runtime
from cli.output import LangOption, chosen_language, domain_errors, emit
from cli.words import delivery_text
from engine.errors import NotFound
from i18n import LANGUAGES, Text
from i18n.vocabulary import language_name, term
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
    lang: LangOption = None,
) -> None:
    """Messages in the outbox, newest last."""
    lang = chosen_language(lang)
    with (
        domain_errors(as_json, lang),
        runtime(language=lang, read_only=True) as rt,
        rt.db.read() as conn,
    ):
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
            lambda: (
                "\n".join(
                    f"{p['id']:>5} · {term('mail_status', str(p['status']), lang)} · "
                    f"{language_name(str(p['language']), lang)} · {p['to']} · {p['subject']}"
                    for p in payload
                )
                or Text("No message in the outbox.").say(lang)
            ),
        )


@outbox_app.command("send")
def outbox_send(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between passes (without --once).")] = 5,
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Deliver due messages over SMTP (the configured relay, or the local catcher)."""
    # imported here: `cli.background` loads the scheduler, which other `outbox` commands skip
    from cli.background import build_dispatcher, worker_name

    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
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
            lambda: delivery_text(result, lang),
        )


@outbox_app.command("retry")
def outbox_retry(
    message_id: Annotated[int, typer.Argument(metavar="ID", help="Outbox id of a dead letter.")],
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Put a dead letter back in the queue (its attempts start again)."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        if not outbox.retry(rt.db, message_id, rt.engine.clock()):
            raise NotFound(
                Text("There is no undelivered message with the id %(id)s.", id=message_id)
            )
        emit(
            {"id": message_id, "status": "pending"},
            as_json,
            lambda: Text(
                "Message %(id)s is queued again, with the same Message-ID.", id=message_id
            ).say(lang),
        )


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
    # a preview of a stored request only reads; the bundled example must work on a fresh
    # installation too, so that one sets the database up as any first command does
    with domain_errors(as_json), runtime(read_only=request_id is not None) as rt:
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
