"""`cicie demo load`: setting an installation up (`cicie user …` is in `cli.users_cmd`)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.context import runtime
from cli.output import LangOption, chosen_language, domain_errors, emit
from engine.accounts import Accounts
from engine.demo import load_demo_installation
from engine.errors import NotAllowed

demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@demo_app.command("load")
def demo_load(as_json: JsonFlag = False, lang: LangOption = None) -> None:
    """Load the demo EMBs and requests into an empty database, and demo users when there are
    none (their passwords are printed once). Refused in production."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        if rt.settings.environment == "production":
            raise NotAllowed(
                "demo data and demo users are refused in production (CICIE_ENVIRONMENT)"
            )
        count, login = load_demo_installation(rt.engine, Accounts(rt.db, rt.engine.clock))
        payload: dict[str, object] = {"requests": count, "users": None, "token": None}
        lines = [f"{count} demo request(s) loaded"]
        if login is not None:
            payload.update(users=login.passwords, token=login.token)
            lines.append("demo users (shown once; change them with `cicie user passwd`):")
            lines += [f"  {name} / {password}" for name, password in login.passwords.items()]
            lines.append(f"API token for 'coordinator': {login.token}")
        emit(payload, as_json, "\n".join(lines))
