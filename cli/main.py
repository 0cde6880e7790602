"""The `cicie` command.

Each command group lives in its own module, imported only when it is asked for: `cicie worker`
must start fast (issue 4), so it does not import the web application, the results reports with
their chart and spreadsheet libraries, or any other group's dependencies. `cicie --version` and
`cicie --help` (or `cicie` alone) answer before any of that (issue 16): the version from the
installed package's metadata, the list of commands from `_SUMMARIES` below, without importing
Typer or any group (tests/cli/test_lazy_cli.py keeps that list equal to the tree's). So does
`cicie request show ID` on SQLite (`cli.lean_show`: no Typer, SQLAlchemy or pydantic-settings),
whenever it can answer exactly as the tree would. Anything that is not a known command builds
the whole tree, as does `cli.main.app`.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Annotated, Any

if TYPE_CHECKING:
    import typer
    from pydantic_core import ValidationError

HELP = "CICIE request lifecycle engine: workshops, internships, courses, seminars, missions."

# In the order `--help` lists them: (name, module, attribute, kind). "results" is merged into
# the root without a name: it brings the groups `import`, `report` and `export`.
_ENTRIES: tuple[tuple[str, str, str, str], ...] = (
    ("db", "cli.db_cmd", "db_app", "group"),
    ("org", "cli.org_cmd", "org_app", "group"),
    ("emb", "cli.emb_cmd", "emb_app", "group"),
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

# `cicie --help`, in the order Typer lists them (commands, then groups): each one's help as its
# module gives it (kept equal by tests/cli/test_lazy_cli.py)
_SUMMARIES: tuple[tuple[str, str], ...] = (
    (
        "serve",
        "Run the application (with --demo: demo data and a demo login on an empty database).",
    ),
    ("worker", "Fire due reminders, escalations and deadlines, and deliver the outbox."),
    ("db", "The database: schema, backup and restore."),
    (
        "org",
        "Organisations that request programmes: EMBs, civil society organisations, political "
        "parties, academic and other institutions.",
    ),
    (
        "emb",
        "Electoral management bodies and the other organisations that request programmes (the "
        "same commands as `cicie org`), and `import` of many from a CSV file.",
    ),
    ("request", "Create, inspect and advance requests."),
    ("workflows", "The programme workflows (YAML definitions)."),
    ("user", "People who sign in, and API tokens."),
    ("demo", "Demo data."),
    ("secret", "The site secret that signs sessions and links."),
    ("outbox", "Messages queued for partners, and dead letters."),
    ("mail", "Mail templates."),
    ("import", "Import records kept outside the system."),
    ("report", "Reports computed from the records."),
    ("export", "Export tables as CSV or XLSX."),
)
_ROOT_OPTIONS = (
    ("--version", "Print the version and exit."),
    ("--help", "Show this message and exit."),
)


def build_app(only: str | None = None) -> typer.Typer:
    """The command tree; with `only`, just the entry that provides that top-level name."""
    import typer

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
    import typer

    if value:
        typer.echo(f"cicie {version()}")
        raise typer.Exit()


def _version_option() -> Any:
    import typer

    return typer.Option(
        "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
    )


def _root(show_version: Annotated[bool, _version_option()] = False) -> None:
    """CICIE request lifecycle engine: workshops, internships, courses, seminars, missions."""


def help_text(width: int | None = None) -> str:
    """`cicie --help`: usage, the root options and every command with its one-line help."""
    import shutil
    import textwrap

    width = width or min(shutil.get_terminal_size((80, 24)).columns, 100)
    lines = ["Usage: cicie [OPTIONS] COMMAND [ARGS]...", ""]
    lines += textwrap.wrap(HELP, width, initial_indent="  ", subsequent_indent="  ")

    def listed(title: str, rows: tuple[tuple[str, str], ...]) -> None:
        column = max(len(name) for name, _ in rows) + 4
        lines.extend(["", title])
        for name, text in rows:
            wrapped = textwrap.wrap(text, max(width - column, 20)) or [""]
            lines.append(f"  {name.ljust(column - 2)}{wrapped[0]}")
            lines.extend(" " * column + more for more in wrapped[1:])

    listed("Options:", _ROOT_OPTIONS)
    listed("Commands:", _SUMMARIES)
    lines += ["", "Run `cicie COMMAND --help` for a command's own options."]
    return "\n".join(lines)


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
    # the fast paths: no command module (nor Typer) is imported
    if sys.argv[1:] == ["--version"]:
        print(f"cicie {version()}")
        return
    if sys.argv[1:] in ([], ["--help"]):
        print(help_text())
        if not sys.argv[1:]:  # no command: a usage error, as Click says it
            sys.exit(2)
        return
    if sys.argv[1:3] == ["request", "show"]:
        # one request on SQLite: answered without the command tree when it can be, byte for
        # byte as the tree would (cli/lean_show.py); None: the tree answers
        from cli.lean_show import run

        code = run(sys.argv[1:])
        if code is not None:
            sys.exit(code)
    try:
        build_app(_requested(sys.argv[1:]))()
    except Exception as exc:
        sys.exit(_failed(exc))


def _failed(exc: Exception) -> int:
    """The exit code of a command that raised, said on stderr in one line."""
    from pydantic_core import ValidationError

    from config.drivers import MissingDriver

    if isinstance(exc, ValidationError):  # a CICIE_* setting that cannot be used
        return _settings_error(exc)
    if isinstance(exc, MissingDriver):  # a database URL whose driver is not installed
        print(f"error (invalid_setting): CICIE_DATABASE_URL: {exc}", file=sys.stderr)
        return 2
    # a bug: one line for the operator, the traceback on demand
    if os.environ.get("CICIE_DEBUG"):
        raise exc
    print(
        f"error (internal_error): {type(exc).__name__}: {str(exc)[:300]}. This is a fault in "
        "CICIE, not in what you typed; run again with CICIE_DEBUG=1 to see where, and "
        "report it.",
        file=sys.stderr,
    )
    return 70


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
