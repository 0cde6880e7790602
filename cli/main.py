"""The `cicie` command.

Each command group lives in its own module, imported only when it is asked for: `cicie worker`
must start fast (issue 4), so it does not import the web application, the results reports with
their chart and spreadsheet libraries, or any other group's dependencies. `cicie --help` (or
anything that is not a known command) builds the whole tree, as does `cli.main.app`.
`cicie --version` answers before any of that, from the installed package's metadata.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated, Any

import typer
from pydantic_core import ValidationError

from config.drivers import MissingDriver

HELP = "CICIE request lifecycle engine: workshops, internships, courses, seminars, missions."

# In the order `--help` lists them: (name, module, attribute, kind). "results" is merged into
# the root without a name: it brings the groups `import`, `report` and `export`.
_ENTRIES: tuple[tuple[str, str, str, str], ...] = (
    ("db", "cli.db_cmd", "db_app", "group"),
    ("org", "cli.org_cmd", "org_app", "group"),
    ("emb", "cli.requests_cmd", "emb_app", "group"),
    ("request", "cli.requests_cmd", "request_app", "group"),
    ("workflows", "cli.workflows_cmd", "workflows_app", "group"),
    ("user", "cli.users_cmd", "user_app", "group"),
    ("demo", "cli.admin_cmd", "demo_app", "group"),
    ("secret", "cli.secret_cmd", "secret_app", "group"),
    ("outbox", "cli.mail_cmd", "outbox_app", "group"),
    ("mail", "cli.mail_cmd", "mail_app", "group"),
    ("results", "cli.results_cmd", "results_app", "merged"),
    ("serve", "cli.serve_cmd", "serve", "command"),
    ("worker", "cli.worker_cmd", "worker", "command"),
)
_MERGED_NAMES = {"results": frozenset({"import", "report", "export"})}


def build_app(only: str | None = None) -> typer.Typer:
    """The command tree; with `only`, just the entry that provides that top-level name."""
    app = typer.Typer(
        name="cicie",
        help=HELP,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    # the root's options (`--version`); with a single command and no callback, Typer would
    # also make that command the root one
    app.callback()(_root)
    for name, module, attribute, kind in _ENTRIES:
        if only is not None and only != name and only not in _MERGED_NAMES.get(name, ()):
            continue
        target = getattr(importlib.import_module(module), attribute)
        if kind == "group":
            app.add_typer(target, name=name)
        elif kind == "merged":
            app.add_typer(target)
        else:
            app.command(name)(target)
    return app


def version() -> str:
    """This installation's version, from the package metadata (no import of the application)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("cicie")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"cicie {version()}")
        raise typer.Exit()


def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    """CICIE request lifecycle engine: workshops, internships, courses, seminars, missions."""


def _requested(argv: list[str]) -> str | None:
    """The top-level command named on the command line, if it is a known one."""
    if not argv or argv[0].startswith("-"):
        return None
    known = {name for name, *_ in _ENTRIES if name not in _MERGED_NAMES}
    known.update(*_MERGED_NAMES.values())
    return argv[0] if argv[0] in known else None


_full_app: typer.Typer | None = None


def __getattr__(name: str) -> Any:
    """`cli.main.app`: the whole command tree (built on first use, for tests and tools)."""
    global _full_app
    if name == "app":
        if _full_app is None:
            _full_app = build_app()
        return _full_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    if sys.argv[1:] == ["--version"]:  # the fast path: no command module is imported
        print(f"cicie {version()}")
        return
    try:
        build_app(_requested(sys.argv[1:]))()
    except ValidationError as exc:  # a CICIE_* setting that cannot be used
        sys.exit(_settings_error(exc))
    except MissingDriver as exc:  # a database URL whose driver is not installed
        print(f"error (invalid_setting): CICIE_DATABASE_URL: {exc}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:  # a bug: one line for the operator, the traceback on demand
        if os.environ.get("CICIE_DEBUG"):
            raise
        print(
            f"error (internal_error): {type(exc).__name__}: {str(exc)[:300]}. This is a fault in "
            "CICIE, not in what you typed; run again with CICIE_DEBUG=1 to see where, and "
            "report it.",
            file=sys.stderr,
        )
        sys.exit(70)


def _settings_error(exc: ValidationError) -> int:
    """Say which setting is wrong and why, never its value (it may be a secret); exit 2."""
    for error in exc.errors(include_input=False, include_url=False):
        names = [str(part) for part in error.get("loc", ())]
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if names:
            message = f"CICIE_{names[0].upper()}: {message}"
        print(f"error (invalid_setting): {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    main()
