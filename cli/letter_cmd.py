"""`cicie request letter ID --delegate N --out FILE.pdf [--kind letter|agenda]`: one delegate's
invitation letter (for a visa) or agenda pack, as PDF in the delegate's language
(docs/user-guide.md § Delegates' documents).

N counts from 1 in the order of the request's delegates. Refusals exit 1 with the domain's
code: `not_found` (no such request, or no delegate N: the message says how many there are),
`conflict` (the logistics are not confirmed). The PDF modules are imported inside the
command, so every other command starts as fast as before."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.output import LangOption, chosen_language, domain_errors, emit
from i18n import Text
from i18n.vocabulary import language_name


class Kind(StrEnum):
    letter = "letter"
    agenda = "agenda"


_KIND_WORDS = {
    "letter": Text("invitation letter"),
    "agenda": Text("agenda pack"),
}


def request_letter(
    request_id: Annotated[int, typer.Argument(help="The request's number.", min=1)],
    delegate: Annotated[
        int,
        typer.Option(
            "--delegate", min=1, help="The delegate's number, from 1, in the request's order."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Where to write the PDF (FILE.pdf).")],
    kind: Annotated[
        Kind, typer.Option("--kind", help="letter: the invitation letter; agenda: the pack.")
    ] = Kind.letter,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout.")
    ] = False,
    lang: LangOption = None,
) -> None:
    """Write a delegate's invitation letter (visa) or agenda pack as PDF."""
    from cli.context import runtime
    from documents import service

    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        document, data = service.pdf(
            rt.engine, request_id, delegate, kind.value, zone=rt.settings.timezone
        )
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        except OSError as exc:
            message = Text(
                "Cannot write %(path)s: %(reason)s", path=str(out), reason=exc.strerror or ""
            )
            typer.echo(f"error (io): {message.say(lang)}", err=True)
            raise typer.Exit(1) from None
        payload = {
            "request": request_id,
            "delegate": delegate,
            "kind": kind.value,
            "language": document.language,
            "file": str(out),
            "bytes": len(data),
            "filename": document.filename,
        }
        emit(
            payload,
            as_json,
            lambda: Text(
                "Wrote %(path)s: the %(what)s of delegate %(number)s, in %(language)s.",
                path=str(out),
                what=_KIND_WORDS[kind.value],
                number=delegate,
                language=language_name(document.language, lang),
            ).say(lang),
        )
