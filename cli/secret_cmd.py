"""`cicie secret rotate`: a new site secret, for when the old one may have leaked.

Everything signed with the old key stops working at once: browser sessions (people sign in
again) and every report or status link already mailed (coordinators send or show new ones
from each request's page). Running processes keep the key they read at start: restart them."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.output import EXIT_REFUSED, emit
from config.secret import rotate_secret
from config.settings import Settings

secret_app = typer.Typer(
    help="The site secret that signs sessions and links.", no_args_is_help=True
)


@secret_app.command("rotate")
def secret_rotate(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Replace the secret kept in CICIE_HOME with a new random one (never printed)."""
    settings = Settings()
    if settings.secret_key is not None:
        message = (
            "the secret comes from CICIE_SECRET_KEY, so it is rotated there: set a new value "
            "(python3 -c 'import secrets; print(secrets.token_urlsafe(48))') in the "
            "environment of every process and restart them"
        )
        if as_json:
            emit({"error": {"code": "not_allowed", "message": message, "details": []}}, True)
        typer.echo(f"error (not_allowed): {message}", err=True)
        raise typer.Exit(EXIT_REFUSED)
    path = rotate_secret(settings)
    effects = [
        "every browser session signed with the old key has ended: people sign in again",
        "every report and status link already sent stops working: send or show new ones "
        "from each request's page",
        "restart the web and worker processes so they use the new key",
    ]
    emit(
        {"rotated": True, "path": str(path), "effects": effects},
        as_json,
        lambda: "\n".join([f"new secret key written to {path} (mode 0600)", *effects]),
    )
