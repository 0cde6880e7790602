"""`cicie user …`: the people who sign in and their API tokens.

Passwords are read from standard input, never from the command line (where `ps` and the
shell history would show them); a token is printed once, on stdout of the command that issues
it. Disabling a user ends their sessions and revokes their tokens at once; the last active
admin can be neither disabled nor demoted.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cli.context import runtime
from cli.output import LangOption, chosen_language, domain_errors, emit
from cli.words import date_or_never
from engine.account_views import MAX_TOKEN_DAYS, TOKEN_DAYS, AccountView
from engine.accounts import Accounts
from engine.bootstrap import Runtime
from i18n import Text
from i18n.vocabulary import term

user_app = typer.Typer(help="People who sign in, and API tokens.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
Username = Annotated[str, typer.Argument(help="Sign-in name.")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


def _accounts(rt: Runtime) -> Accounts:
    return Accounts(rt.db, rt.engine.clock)


def _read_password(password_stdin: bool) -> str:
    if not password_stdin:
        raise typer.BadParameter("give the password on standard input with --password-stdin")
    return sys.stdin.readline().rstrip("\r\n")


def _role(role: str, lang: str) -> str:
    """A role in words, with the code `--role` and `set-role` take."""
    return f"{term('role', role, lang)} ({role})"


def _describe(account: AccountView, lang: str, zone: str) -> str:
    state = Text("active") if account.active else Text("disabled")
    last = Text("last sign-in: %(when)s", when=date_or_never(account.last_login, lang, zone)).say(
        lang
    )
    return f"{account.username}\t{_role(account.role, lang)}\t{state.say(lang)}\t{last}"


@user_app.command("add")
def user_add(
    username: Username,
    role: Annotated[str, typer.Option(help="admin, coordinator or viewer.")],
    password_stdin: PasswordStdin = False,
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Create a user (the password is read from stdin, never from the command line)."""
    password = _read_password(password_stdin)
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        user = _accounts(rt).add_user(username, role, password)
        emit(
            user.to_dict(),
            as_json,
            lambda: Text(
                "User %(name)s added, with the role %(role)s.",
                name=user.username,
                role=_role(user.role, lang),
            ).say(lang),
        )


@user_app.command("list")
def user_list(as_json: JsonFlag = False, lang: LangOption = None) -> None:
    """Every user: role, active or disabled, created, last sign-in."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        accounts = _accounts(rt).list_accounts()
        emit(
            [a.to_dict() for a in accounts],
            as_json,
            lambda: (
                "\n".join(_describe(a, lang, rt.settings.timezone) for a in accounts)
                or Text("No user yet.").say(lang)
            ),
        )


@user_app.command("set-role")
def user_set_role(
    username: Username,
    role: Annotated[str, typer.Argument(help="admin, coordinator or viewer.")],
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Change a user's role (refused for the last active admin)."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        account = _accounts(rt).set_role(username, role)
        emit(
            account.to_dict(),
            as_json,
            lambda: Text(
                "User %(name)s now has the role %(role)s.",
                name=account.username,
                role=_role(account.role, lang),
            ).say(lang),
        )


@user_app.command("disable")
def user_disable(username: Username, as_json: JsonFlag = False, lang: LangOption = None) -> None:
    """Stop a user signing in; their sessions end and their API tokens are revoked now."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        account = _accounts(rt).disable(username)
        emit(
            account.to_dict(),
            as_json,
            lambda: Text(
                "User %(name)s disabled: their sessions and API tokens no longer work.",
                name=account.username,
            ).say(lang),
        )


@user_app.command("enable")
def user_enable(username: Username, as_json: JsonFlag = False, lang: LangOption = None) -> None:
    """Let a disabled user sign in again (their old tokens stay revoked)."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        account = _accounts(rt).enable(username)
        emit(
            account.to_dict(),
            as_json,
            lambda: Text("User %(name)s can sign in again.", name=account.username).say(lang),
        )


@user_app.command("passwd")
def user_passwd(
    username: Username,
    password_stdin: PasswordStdin = False,
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Set a user's password (read from stdin); every session of theirs ends."""
    password = _read_password(password_stdin)
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        ended = _accounts(rt).set_password(username, password)
        emit(
            {"username": username, "sessions_ended": ended},
            as_json,
            lambda: Text(
                "Password of %(name)s changed; sessions ended: %(count)s.",
                name=username,
                count=ended,
            ).say(lang),
        )


@user_app.command("token")
def user_token(
    username: Annotated[str, typer.Argument(help="Whose token.")],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
    expires_days: Annotated[
        int,
        typer.Option(
            "--expires-days",
            min=1,
            max=MAX_TOKEN_DAYS,
            help=f"Days until the token stops working (1–{MAX_TOKEN_DAYS}).",
        ),
    ] = TOKEN_DAYS,
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Issue an API bearer token (shown once; only its hash is stored)."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        issued = _accounts(rt).new_token(username, label, expires_days=expires_days)
        emit(issued.to_dict(), as_json, issued.token)


@user_app.command("tokens")
def user_tokens(username: Username, as_json: JsonFlag = False, lang: LangOption = None) -> None:
    """A user's API tokens that still work (never the tokens themselves)."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        tokens = _accounts(rt).tokens(username)
        emit(
            [t.to_dict() for t in tokens],
            as_json,
            lambda: (
                "\n".join(
                    Text(
                        "%(id)s\t%(label)s\texpires on %(expires)s\tlast used: %(used)s",
                        id=t.id,
                        label=t.label or "—",
                        expires=date_or_never(t.expires_at, lang, rt.settings.timezone),
                        used=date_or_never(t.last_used, lang, rt.settings.timezone),
                    ).say(lang)
                    for t in tokens
                )
                or Text("%(name)s has no API token that still works.", name=username).say(lang)
            ),
        )


@user_app.command("revoke-token")
def user_revoke_token(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="As `cicie user tokens` lists.")],
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Revoke an API token at once."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        _accounts(rt).revoke_token_id(token_id)
        emit(
            {"id": token_id, "revoked": True},
            as_json,
            lambda: Text("API token %(id)s revoked.", id=token_id).say(lang),
        )
