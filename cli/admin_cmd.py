"""`cicie db …`, `cicie user …`, `cicie demo load`: setting an installation up."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cli.context import runtime
from cli.output import domain_errors, emit
from config.settings import Settings
from engine.accounts import Accounts
from engine.bootstrap import open_database
from engine.demo import load_demo
from storage import migrate

db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
user_app = typer.Typer(help="People who sign in, and API tokens.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply migrations (safe to run from several processes at once)."""
    db = open_database(Settings())
    try:
        current = migrate.upgrade(db, revision)
        typer.echo(f"database at revision {current} ({db.url.render_as_string()})")
    finally:
        db.dispose()


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Sign-in name.")],
    role: Annotated[str, typer.Option(help="admin, coordinator or viewer.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a user (the password is read from stdin, never from the command line)."""
    if not password_stdin:
        raise typer.BadParameter("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    with domain_errors(as_json), runtime() as rt:
        user = Accounts(rt.db, rt.engine.clock).add_user(username, role, password)
        emit(user.to_dict(), as_json, f"user {user.username} ({user.role}) added")


@user_app.command("token")
def user_token(
    username: Annotated[str, typer.Argument(help="Whose token.")],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Issue an API bearer token (shown once; only its hash is stored)."""
    with domain_errors(as_json), runtime() as rt:
        token = Accounts(rt.db, rt.engine.clock).issue_token(username, label)
        emit({"username": username, "token": token}, as_json, token)


@demo_app.command("load")
def demo_load(as_json: JsonFlag = False) -> None:
    """Load the demo EMBs and requests into an empty database."""
    with domain_errors(as_json), runtime() as rt:
        count = load_demo(rt.engine)
        emit({"requests": count}, as_json, f"{count} demo request(s) loaded")
