"""`cicie request …`: an operator's tool over the engine's operations (`cicie emb …` is in
`cli.emb_cmd`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cli.context import runtime
from cli.output import LangOption, chosen_language, domain_errors, emit, parse_json_option
from cli.words import (
    history_lines,
    request_line,
    show_text,
    timeline_lines,
    words_for,
    work_lines,
)
from engine.actor import Actor
from engine.views import shown_dict
from i18n import Text

if TYPE_CHECKING:  # the engine is imported when a command runs, not for `--help`
    from engine.bootstrap import Runtime
    from engine.views import RequestView

request_app = typer.Typer(help="Create, inspect and advance requests.", no_args_is_help=True)

# the page a shared link opens (`cicie request revoke-links`)
_PURPOSES = {"report": Text("Final report form"), "status": Text("Status page")}


def _purpose(purpose: str, lang: str) -> str:
    found = _PURPOSES.get(purpose)
    return found.say(lang) if found is not None else purpose


JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
AsOption = Annotated[
    str, typer.Option("--as", help="Who acts: ROLE[:NAME], e.g. coordinator:ana or intern:maria.")
]
ExpectVersion = Annotated[
    int | None,
    typer.Option("--expect-version", help="Refuse (conflict) unless the request is still at N."),
]
DataOption = Annotated[
    str | None, typer.Option("--data", help="JSON object of fields (or @file, or - for stdin).")
]


def _line(rt: Runtime, view: RequestView, lang: str) -> str:
    """One request on one line: its state's label in `lang` (with the state's code, to type
    after `--state`), its programme's title, EMB, title and version."""
    return request_line(view, words_for(rt, view, lang))


def _country(code: str, lang: str) -> str:
    """A country's name in `lang` (ISO 3166-1 alpha-2 code → "Honduras")."""
    from babel import Locale
    from babel.core import UnknownLocaleError

    try:
        name = Locale.parse(lang).territories.get(code.upper())
    except (UnknownLocaleError, ValueError):
        name = None
    return str(name) if name else code


@request_app.command("new")
def request_new(
    programme: Annotated[str, typer.Argument(help="Workflow name, e.g. internship.")],
    emb: Annotated[
        str,
        typer.Option("--org", "--emb", help="Code of the requesting organisation (EMB, party…)."),
    ],
    title: Annotated[str, typer.Option("--title", help="One-line title.")],
    data: DataOption = None,
    actor: AsOption = "coordinator",
    comment: Annotated[str | None, typer.Option(help="Recorded in history.")] = None,
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Open a request at its programme's initial state."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        view = rt.engine.create(
            programme,
            emb_code=emb,
            title=title,
            actor=Actor.parse(actor),
            data=parse_json_option(data),
            comment=comment,
        )
        emit(view.to_dict(lang), as_json, lambda: _line(rt, view, lang))


@request_app.command("show")
def request_show(
    request_id: Annotated[int, typer.Argument(metavar="ID")],
    actor: AsOption = "coordinator",
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """A request, and what can be done with it now (with the reasons what cannot)."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang, read_only=True) as rt:
        view, available = rt.engine.show(request_id, Actor.parse(actor))
        emit(
            shown_dict(view, available, lang),
            as_json,
            lambda: show_text(view, available, words_for(rt, view, lang)),
        )


@request_app.command("advance")
def request_advance(
    request_id: Annotated[int, typer.Argument(metavar="ID")],
    trigger: Annotated[str, typer.Argument(metavar="TRIGGER")],
    data: DataOption = None,
    actor: AsOption = "coordinator",
    expect_version: Annotated[
        int | None,
        typer.Option(
            "--expect-version", help="Refuse (conflict) unless the request is still at N."
        ),
    ] = None,
    comment: Annotated[str | None, typer.Option(help="Recorded in history.")] = None,
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Fire TRIGGER on a request: one transaction, recorded in its history."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        view = rt.engine.advance(
            request_id,
            trigger,
            Actor.parse(actor),
            data=parse_json_option(data),
            expected_version=expect_version,
            comment=comment,
        )
        emit(view.to_dict(lang), as_json, lambda: _line(rt, view, lang))


@request_app.command("update")
def request_update(
    request_id: Annotated[int, typer.Argument(metavar="ID")],
    data: DataOption = None,
    actor: AsOption = "coordinator",
    expect_version: ExpectVersion = None,
    comment: Annotated[str | None, typer.Option(help="Recorded in history.")] = None,
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Change a request's data without moving it (e.g. postpone the event)."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        view = rt.engine.update(
            request_id,
            Actor.parse(actor),
            data=parse_json_option(data),
            expected_version=expect_version,
            comment=comment,
        )
        emit(view.to_dict(lang), as_json, lambda: _line(rt, view, lang))


@request_app.command("timeline")
def request_timeline(
    request_id: Annotated[int, typer.Argument(metavar="ID")],
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Every future reminder, escalation and automatic transition, in local business time."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang, read_only=True) as rt:
        entries = rt.engine.timeline(request_id)
        emit(
            [e.to_dict() for e in entries],
            as_json,
            lambda: (
                "\n".join(timeline_lines(entries, words_for(rt, rt.engine.get(request_id), lang)))
                or Text("No reminder or deadline is pending.").say(lang)
            ),
        )


@request_app.command("history")
def request_history(
    request_id: Annotated[int, typer.Argument(metavar="ID")],
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Every change of a request: who, when, from, to, what changed."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang, read_only=True) as rt:
        entries = rt.engine.history(request_id)
        emit(
            [e.to_dict() for e in entries],
            as_json,
            lambda: "\n".join(
                history_lines(entries, words_for(rt, rt.engine.get(request_id), lang))
            ),
        )


@request_app.command("revoke-links")
def request_revoke_links(
    request_id: Annotated[int, typer.Argument(metavar="ID")],
    actor: AsOption = "coordinator",
    expect_version: ExpectVersion = None,
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Stop every report and status link of a request at once, and print the new links to
    send to the people who still need them."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        from engine.links_ops import revoke_links
        from notifications.links import link_maker
        from notifications.recipients import RecipientResolver

        revoked = revoke_links(
            rt.engine, request_id, Actor.parse(actor), expected_version=expect_version
        )
        view = rt.engine.get(request_id)
        resolver = RecipientResolver(rt.catalogues, rt.settings)
        fresh = link_maker(rt.settings, rt.engine.clock).shared(
            view, rt.engine.emb_row(view.emb), resolver, revoked.links_epoch
        )
        links = [
            {
                "name": link.recipient.name,
                "email": link.recipient.address,
                "purpose": link.purpose,
                "url": link.url,
            }
            for link in fresh
        ]

        def text() -> str:
            lines = [
                Text(
                    "Request #%(id)s: every link sent so far no longer works (version "
                    "%(version)s). Send these new links to the people who still need them:",
                    id=request_id,
                    version=revoked.version,
                ).say(lang)
            ]
            lines.extend(
                f"  {x['name']} <{x['email']}> · {_purpose(x['purpose'], lang)}: {x['url']}"
                for x in links
            )
            return "\n".join(lines)

        emit(revoked.to_dict() | {"links": links}, as_json, text)


@request_app.command("list")
def request_list(
    state: Annotated[str | None, typer.Option(help="Only requests in this state.")] = None,
    programme: Annotated[str | None, typer.Option(help="Only this programme.")] = None,
    emb: Annotated[str | None, typer.Option(help="Only this EMB's requests.")] = None,
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """List requests."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang, read_only=True) as rt:
        views = rt.engine.list_requests(state=state, programme=programme, emb_code=emb)
        emit(
            [v.to_dict(lang) for v in views],
            as_json,
            lambda: (
                "\n".join(_line(rt, v, lang) for v in views)
                or Text("No request matches.").say(lang)
            ),
        )


# issue 15: `cicie request letter` — a delegate's invitation letter or agenda pack as PDF
# (cli/letter_cmd.py; the PDF modules are imported only when the command runs)
from cli.letter_cmd import request_letter  # noqa: E402

request_app.command("letter")(request_letter)


@request_app.command("work")
def request_work(
    actor: AsOption = "coordinator",
    page: Annotated[
        int, typer.Option("--page", min=1, max=100_000, help="Page N (25 a page).")
    ] = 1,
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Needs my action: the requests a role can move forward now, overdue first, with what
    blocks each step and when it is due (the web page /work)."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang, read_only=True) as rt:
        from engine.my_work import load_my_work

        work = load_my_work(rt.engine, Actor.parse(actor), page)
        zone = rt.settings.timezone
        emit(work.to_dict(lang), as_json, lambda: "\n".join(work_lines(work, lang, zone)))
