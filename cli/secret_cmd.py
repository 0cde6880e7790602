"""`cicie secret rotate`: a new site secret, for when the old one may have leaked.

Everything signed with the old key stops working at once: browser sessions (people sign in
again) and every report or status link already mailed (coordinators send or show new ones
from each request's page). Running processes keep the key they read at start: restart them."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.output import EXIT_REFUSED, LangOption, chosen_language, emit
from config.secret import rotate_secret
from config.settings import Settings
from i18n import Text

secret_app = typer.Typer(
    help="The site secret that signs sessions and links.", no_args_is_help=True
)


@secret_app.command("rotate")
def secret_rotate(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    lang: LangOption = None,
) -> None:
    """Replace the secret kept in CICIE_HOME with a new random one (never printed)."""
    lang = chosen_language(lang)
    settings = Settings()
    if settings.secret_key is not None:
        message = Text(
            "The secret comes from CICIE_SECRET_KEY, so it is rotated there: set a new value "
            "(%(command)s) in the environment of every process and restart them.",
            command="python3 -c 'import secrets; print(secrets.token_urlsafe(48))'",
        ).say(lang)
        if as_json:
            emit({"error": {"code": "not_allowed", "message": message, "details": []}}, True)
        typer.echo(f"error (not_allowed): {message}", err=True)
        raise typer.Exit(EXIT_REFUSED)
    path = rotate_secret(settings)
    effects = [
        Text("Every browser session signed with the old key has ended: people sign in again."),
        Text(
            "Every report and status link already sent stops working: send or show new ones "
            "from each request's page."
        ),
        Text("Restart the web and worker processes so they use the new key."),
    ]
    emit(
        {"rotated": True, "path": str(path), "effects": [e.say(lang) for e in effects]},
        as_json,
        lambda: "\n".join(
            [
                Text("New secret key written to %(file)s (mode 0600).", file=str(path)).say(lang),
                *(e.say(lang) for e in effects),
            ]
        ),
    )
