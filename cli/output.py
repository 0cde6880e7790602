"""How every command answers: one JSON document under `--json`, readable text otherwise, and
the exit codes of the contract (0 done, 1 refused by the domain, 2 bad usage, 3 the database
did not answer, 4 the database's schema is not this version's: run `cicie db upgrade`).

`--lang LANG` (or `CICIE_LANG`) chooses the language of what a command says to people — labels,
refusals, the domain's error messages, the operator's sentences (`Text`, translated in the
catalogue; `i18n/fragments/cli/` while in progress) — among `i18n.UI_LANGUAGES`. The text form
shows labels, with a code beside one only where the reader types it next (`cli.words`); the
JSON form keeps every code. Without
either, the site's language (`CICIE_LANGUAGE`, Spanish by default: CICIE's coordinators work
in Spanish), so the command and the web interface speak alike. An unknown language is a usage
error (exit 2)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from engine.errors import CicieError, InvalidData
from i18n import SOURCE_LANGUAGE, UI_LANGUAGES, Text, pick

EXIT_REFUSED = 1
EXIT_UNAVAILABLE = 3  # the database did not answer: nothing was done, try again
# the schema is behind this code (or ahead of it); a command that only reads never migrates
EXIT_SCHEMA = 4


def _check_language(value: str | None) -> str | None:
    if value is None:
        return None
    if value not in UI_LANGUAGES:
        raise typer.BadParameter(
            f"{value!r} is not a language of the CICIE interface; use one of: "
            + ", ".join(UI_LANGUAGES)
        )
    return value


LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang",
        envvar="CICIE_LANG",
        callback=_check_language,
        metavar="LANG",
        help="Language of labels and messages: " + ", ".join(UI_LANGUAGES) + " (default: "
        "CICIE_LANG, else CICIE_LANGUAGE). Codes stay codes.",
    ),
]


def chosen_language(chosen: str | None) -> str:
    """The language a command speaks: `--lang` (or CICIE_LANG, already checked by the
    option), else the `lang` setting (CICIE_LANG in a .env file), else the site's language
    (`language`, CICIE_LANGUAGE), else English."""
    if chosen:
        return chosen
    from config.settings import Settings

    settings = Settings()
    return pick(settings.lang, settings.language, available=UI_LANGUAGES) or SOURCE_LANGUAGE


def said(text: Text | str, lang: str) -> str:
    """A sentence of the domain (or a plain string) in `lang`."""
    return text.say(lang) if isinstance(text, Text) else text


def emit(payload: Any, as_json: bool, text: Callable[[], str] | str | None = None) -> None:
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    elif text is not None:
        typer.echo(text() if callable(text) else text)
    else:
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


@contextmanager
def domain_errors(as_json: bool, lang: str = SOURCE_LANGUAGE) -> Iterator[None]:
    """Turn a domain refusal into exit 1 with the error on stdout (JSON) and stderr (text),
    its messages in `lang`."""
    try:
        yield
    except CicieError as exc:
        error = exc.to_dict(lang)
        if as_json:
            typer.echo(json.dumps({"error": error}, ensure_ascii=False, default=str))
        typer.echo(f"error ({exc.code}): {error['message']}", err=True)
        raise typer.Exit(EXIT_REFUSED) from None
    except Exception as exc:
        # imported here: a command's `--help` must not load the database layer
        import sqlalchemy as sa

        from storage.migrate import SchemaBehind

        if isinstance(exc, SchemaBehind):
            _schema_error(exc, as_json, lang)
        if not isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
            raise
        message = Text("The database does not answer; nothing was changed, try again.").say(lang)
        error = {"code": "unavailable", "message": message, "details": []}
        if as_json:
            typer.echo(json.dumps({"error": error}, ensure_ascii=False))
        typer.echo(f"error (unavailable): {message} ({type(exc.orig).__name__})", err=True)
        raise typer.Exit(EXIT_UNAVAILABLE) from None


def _schema_error(exc: Any, as_json: bool, lang: str) -> None:
    """A read-only command found the schema behind (or ahead of) this code: exit 4, nothing
    read, nothing changed."""
    if exc.current is None:
        code = "schema_behind"
        text = Text("The database is not set up yet: run `cicie db upgrade`, then try again.")
    elif exc.ahead:
        code = "schema_newer"
        text = Text(
            "The database was upgraded by a newer version of CICIE (schema %(current)s; this "
            "version knows up to %(head)s): use the newer version. Nothing was changed.",
            current=exc.current,
            head=exc.head,
        )
    else:
        code = "schema_behind"
        text = Text(
            "The database's schema (%(current)s) is older than this version of CICIE expects "
            "(%(head)s): run `cicie db upgrade`, then try again. Nothing was changed.",
            current=exc.current,
            head=exc.head,
        )
    message = text.say(lang)
    error = {"code": code, "message": message, "details": []}
    if as_json:
        typer.echo(json.dumps({"error": error}, ensure_ascii=False))
    typer.echo(f"error ({code}): {message}", err=True)
    raise typer.Exit(EXIT_SCHEMA) from None


def parse_json_option(raw: str | None, option: str = "--data") -> dict[str, Any]:
    """`--data` JSON (or @file, or - for stdin) → dict; malformed input is invalid_data."""
    if raw is None or raw == "":
        return {}
    text = raw
    if raw == "-":
        text = sys.stdin.read()
    elif raw.startswith("@"):
        with open(raw[1:], encoding="utf-8") as fh:
            text = fh.read()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidData(
            f"{option} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            [{"field": option.lstrip("-"), "message": exc.msg}],
        ) from None
    if not isinstance(value, dict):
        raise InvalidData(
            f"{option} must be a JSON object",
            [{"field": option.lstrip("-"), "message": "not an object"}],
        )
    return value
