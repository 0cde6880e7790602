"""`cicie demo load`: setting an installation up (`cicie user …` is in `cli.users_cmd`)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.context import runtime
from cli.output import LangOption, chosen_language, domain_errors, emit
from engine.accounts import Accounts
from engine.demo import load_demo_installation
from engine.errors import NotAllowed
from i18n import Text

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
                Text("Demo data and demo users are refused in production (CICIE_ENVIRONMENT).")
            )
        count, login = load_demo_installation(rt.engine, Accounts(rt.db, rt.engine.clock))
        payload: dict[str, object] = {"requests": count, "users": None, "token": None}
        lines = [Text("Demo requests loaded: %(count)s.", count=count).say(lang)]
        if login is not None:
            payload.update(users=login.passwords, token=login.token)
            lines.append(
                Text("Demo users (shown once; change the passwords with `cicie user passwd`):").say(
                    lang
                )
            )
            lines += [f"  {name} / {password}" for name, password in login.passwords.items()]
            lines.append(
                Text("API token for 'coordinator': %(token)s", token=login.token).say(lang)
            )
        emit(payload, as_json, "\n".join(lines))
