"""`cicie org …`: the organisations that request programmes, of every kind.

The brochure ("To whom are the Center's programs addressed to?") says requests come from
electoral management bodies and now also from civil society organisations and political
parties; `--kind` records which (academic and other institutions too). `cicie emb …` stays
(`cli.emb_cmd`): the same commands, made here by the same factories, speaking of EMBs. Which
kinds may request which programme is each workflow's `requesters:`.

An organisation that no longer works with the centre is deactivated (`deactivate`): it keeps
its requests and history but may not open new ones; `activate` undoes it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

import typer

from cli.context import runtime
from cli.output import LangOption, chosen_language, domain_errors, emit
from cli.requests_cmd import JsonFlag, _country
from engine.views import EmbView
from i18n import Text
from i18n.vocabulary import language_name, organisation_kind

Kind = Literal["emb", "civil_society", "political_party", "academic", "other"]
KindOption = Annotated[
    Kind,
    typer.Option(
        help="What the organisation is: emb, civil_society, political_party, academic or other."
    ),
]
CodeArgument = Annotated[str, typer.Argument(metavar="CODE", help="The organisation's code.")]
Command = Callable[..., None]


def _deactivated(line: str, org: EmbView, lang: str) -> str:
    if org.active:
        return line
    return Text("%(organisation)s · deactivated", organisation=line).say(lang)


def org_text(org: EmbView, lang: str) -> str:
    """One organisation on one line, its kind in words (and "deactivated" when it is)."""
    line = Text(
        "%(code)s · %(name)s (%(kind)s) · %(country)s · mail in %(language)s · %(address)s",
        code=org.code,
        name=org.name,
        kind=organisation_kind(org.kind, lang),
        country=_country(org.country, lang),
        language=language_name(org.language, lang),
        address=org.email or Text("no address"),
    ).say(lang)
    return _deactivated(line, org, lang)


def emb_text(org: EmbView, lang: str) -> str:
    """One organisation on one line, as `cicie emb` says it: its kind only when it is no EMB."""
    if org.kind != "emb":
        return org_text(org, lang)
    line = Text(
        "%(code)s · %(name)s · %(country)s · mail in %(language)s · %(address)s",
        code=org.code,
        name=org.name,
        country=_country(org.country, lang),
        language=language_name(org.language, lang),
        address=org.email or Text("no address"),
    ).say(lang)
    return _deactivated(line, org, lang)


@dataclass(frozen=True)
class Wording:
    """How a group of these commands speaks: of organisations (`org`) or of EMBs (`emb`)."""

    line: Callable[[EmbView, str], str]
    added: Text  # %(org)s
    updated: Text  # %(org)s
    none_yet: Text


ORG_WORDING = Wording(
    line=org_text,
    added=Text("Organisation added: %(org)s"),
    updated=Text("Organisation updated: %(org)s"),
    none_yet=Text("No organisation yet."),
)
EMB_WORDING = Wording(
    line=emb_text,
    added=Text("EMB added: %(emb)s"),
    updated=Text("EMB updated: %(emb)s"),
    none_yet=Text("No EMB yet."),
)


def _said(template: Text, line: str, lang: str) -> str:
    """`template` (with %(org)s or %(emb)s) around one organisation's line."""
    return Text(template.msgid, org=line, emb=line).say(lang)


def add_command(wording: Wording) -> Command:
    def add(
        code: Annotated[str, typer.Option(help="Short unique code, e.g. HN-CNE or MX-PARTY.")],
        name: Annotated[str, typer.Option(help="Full name of the organisation.")],
        country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 country code.")],
        language: Annotated[
            str, typer.Option(help="Language for its mail: es, en, fr, pt, ar, ru.")
        ],
        kind: KindOption = "emb",
        email: Annotated[str | None, typer.Option(help="Contact address.")] = None,
        as_json: JsonFlag = False,
        lang: LangOption = None,
    ) -> None:
        """Register an organisation (an EMB unless --kind says otherwise)."""
        lang = chosen_language(lang)
        with domain_errors(as_json, lang), runtime(language=lang) as rt:
            org = rt.engine.add_emb(
                code=code, name=name, country=country, language=language, email=email, kind=kind
            )
            emit(
                org.to_dict(),
                as_json,
                lambda: _said(wording.added, wording.line(org, lang), lang),
            )

    return add


def update_command(wording: Wording) -> Command:
    def update(
        code: CodeArgument,
        name: Annotated[str | None, typer.Option(help="New full name.")] = None,
        email: Annotated[
            str | None, typer.Option(help="New contact address ('' removes the address).")
        ] = None,
        language: Annotated[str | None, typer.Option(help="New language for its mail.")] = None,
        kind: Annotated[
            Kind | None,
            typer.Option(help="New kind: emb, civil_society, political_party, academic or other."),
        ] = None,
        as_json: JsonFlag = False,
        lang: LangOption = None,
    ) -> None:
        """Correct an organisation's name, address, language or kind.

        What is not given stays (e.g. only an address its mail cannot go to)."""
        lang = chosen_language(lang)
        with domain_errors(as_json, lang), runtime(language=lang) as rt:
            org = rt.engine.update_emb(code, name=name, email=email, language=language, kind=kind)
            emit(
                org.to_dict(),
                as_json,
                lambda: _said(wording.updated, wording.line(org, lang), lang),
            )

    return update


def list_command(wording: Wording) -> Command:
    def list_(as_json: JsonFlag = False, lang: LangOption = None) -> None:
        """List the organisations, with their kind."""
        lang = chosen_language(lang)
        with domain_errors(as_json, lang), runtime(language=lang) as rt:
            orgs = rt.engine.list_embs()
            emit(
                [o.to_dict() for o in orgs],
                as_json,
                lambda: (
                    "\n".join(wording.line(o, lang) for o in orgs) or wording.none_yet.say(lang)
                ),
            )

    return list_


def deactivate_command(wording: Wording) -> Command:
    def deactivate(code: CodeArgument, as_json: JsonFlag = False, lang: LangOption = None) -> None:
        """Stop an organisation from opening new requests.

        Its requests and their history stay; `activate` undoes it."""
        lang = chosen_language(lang)
        with domain_errors(as_json, lang), runtime(language=lang) as rt:
            org = rt.engine.organisations.set_active(code, False)
            emit(
                org.to_dict(),
                as_json,
                lambda: Text(
                    "Organisation deactivated (it may not open new requests): %(org)s",
                    org=wording.line(org, lang),
                ).say(lang),
            )

    return deactivate


def activate_command(wording: Wording) -> Command:
    def activate(code: CodeArgument, as_json: JsonFlag = False, lang: LangOption = None) -> None:
        """Let a deactivated organisation open new requests again."""
        lang = chosen_language(lang)
        with domain_errors(as_json, lang), runtime(language=lang) as rt:
            org = rt.engine.organisations.set_active(code, True)
            emit(
                org.to_dict(),
                as_json,
                lambda: Text("Organisation active again: %(org)s", org=wording.line(org, lang)).say(
                    lang
                ),
            )

    return activate


def register(app: typer.Typer, wording: Wording) -> None:
    """The organisation commands on `app`, speaking as `wording` says."""
    app.command("add")(add_command(wording))
    app.command("update")(update_command(wording))
    app.command("list")(list_command(wording))
    app.command("deactivate")(deactivate_command(wording))
    app.command("activate")(activate_command(wording))


org_app = typer.Typer(
    help="Organisations that request programmes: EMBs, civil society organisations, political "
    "parties, academic and other institutions.",
    no_args_is_help=True,
)
register(org_app, ORG_WORDING)
