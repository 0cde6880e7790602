"""How every command answers: one JSON document under `--json`, readable text otherwise, and
the exit codes of the contract (0 done, 1 refused by the domain, 2 bad usage)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
import typer

from engine.errors import CicieError, InvalidData

EXIT_REFUSED = 1
EXIT_UNAVAILABLE = 3  # the database did not answer: nothing was done, try again


def emit(payload: Any, as_json: bool, text: Callable[[], str] | str | None = None) -> None:
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    elif text is not None:
        typer.echo(text() if callable(text) else text)
    else:
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


@contextmanager
def domain_errors(as_json: bool) -> Iterator[None]:
    """Turn a domain refusal into exit 1 with the error on stdout (JSON) and stderr (text)."""
    try:
        yield
    except CicieError as exc:
        if as_json:
            typer.echo(json.dumps({"error": exc.to_dict()}, ensure_ascii=False, default=str))
        typer.echo(f"error ({exc.code}): {exc.message}", err=True)
        raise typer.Exit(EXIT_REFUSED) from None
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        message = "the database does not answer; nothing was changed, try again"
        error = {"code": "unavailable", "message": message, "details": []}
        if as_json:
            typer.echo(json.dumps({"error": error}, ensure_ascii=False))
        typer.echo(f"error (unavailable): {message} ({type(exc.orig).__name__})", err=True)
        raise typer.Exit(EXIT_UNAVAILABLE) from None


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
