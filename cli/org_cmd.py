"""`cicie org …`: the organisations that request programmes, of every kind.

The brochure ("To whom are the Center's programs addressed to?") says requests come from
electoral management bodies and now also from civil society organisations and political
parties; `--kind` records which (academic and other institutions too). `cicie emb …` stays: it
is `cicie org …` for kind emb. Which kinds may request which programme is each workflow's
`requesters:`."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from cli.context import runtime
from cli.output import LangOption, chosen_language, domain_errors, emit
from cli.requests_cmd import JsonFlag, _country
from engine.views import EmbView
from i18n import Text
from i18n.vocabulary import language_name, organisation_kind

org_app = typer.Typer(
    help="Organisations that request programmes: EMBs, civil society organisations, political "
    "parties, academic and other institutions.",
    no_args_is_help=True,
)

Kind = Literal["emb", "civil_society", "political_party", "academic", "other"]
KindOption = Annotated[
    Kind,
    typer.Option(
        help="What the organisation is: emb, civil_society, political_party, academic or other."
    ),
]


def org_text(org: EmbView, lang: str) -> str:
    """One organisation on one line, its kind in words."""
    return Text(
        "%(code)s · %(name)s (%(kind)s) · %(country)s · mail in %(language)s · %(address)s",
        code=org.code,
        name=org.name,
        kind=organisation_kind(org.kind, lang),
        country=_country(org.country, lang),
        language=language_name(org.language, lang),
        address=org.email or Text("no address"),
    ).say(lang)


@org_app.command("add")
def org_add(
    code: Annotated[str, typer.Option(help="Short unique code, e.g. MX-PARTY.")],
    name: Annotated[str, typer.Option(help="Full name of the organisation.")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 country code.")],
    language: Annotated[str, typer.Option(help="Language for its mail: es, en, fr, pt, ar, ru.")],
    kind: KindOption = "emb",
    email: Annotated[str | None, typer.Option(help="Contact address.")] = None,
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Register an organisation that requests programmes."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        org = rt.engine.add_emb(
            code=code, name=name, country=country, language=language, email=email, kind=kind
        )
        emit(
            org.to_dict(),
            as_json,
            lambda: Text("Organisation added: %(org)s", org=org_text(org, lang)).say(lang),
        )


@org_app.command("update")
def org_update(
    code: Annotated[str, typer.Argument(metavar="CODE", help="The organisation's code.")],
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
    """Correct an organisation's name, address, language or kind."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        org = rt.engine.update_emb(code, name=name, email=email, language=language, kind=kind)
        emit(
            org.to_dict(),
            as_json,
            lambda: Text("Organisation updated: %(org)s", org=org_text(org, lang)).say(lang),
        )


@org_app.command("list")
def org_list(as_json: JsonFlag = False, lang: LangOption = None) -> None:
    """List the organisations, with their kind."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        orgs = rt.engine.list_embs()
        emit(
            [o.to_dict() for o in orgs],
            as_json,
            lambda: (
                "\n".join(org_text(o, lang) for o in orgs) or Text("No organisation yet.").say(lang)
            ),
        )
