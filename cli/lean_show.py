"""`cicie request show ID [--json] [--as ROLE[:NAME]] [--lang L]` on a SQLite database, in a
tenth of the time the command tree takes to start (issue 16, item 5).

The command tree (`cli.requests_cmd.request_show`) imports Typer, pydantic-settings,
SQLAlchemy with the schema's models, Alembic's neighbours, the `holidays` package and PyYAML
before it reads one row: some 600 ms, against 20 for the bare interpreter. This path answers
the same command with none of them: the settings from `config.env`, the rows with the standard
library's `sqlite3` opened read-only (`storage.sqlite_read`), the schema's head from the
revision files (`storage.migrate.file_head`), the definitions, catalogues, planning files,
closures and public holidays from the definition cache in `$CICIE_HOME/cache`. What it shows
is computed by the very code `Engine.show` runs (`engine.operations.request_view.shown`: the
same registry, labels, rules, guards and warning rules); only the reading of rows differs, and
tests/cli/test_lean_show.py holds both paths' reads and output equal.

It answers only when it is sure to answer as the command tree would, byte for byte: this
exact command line (any other option, `--help`, a second ID… goes to the tree), settings that
`config.env` can vouch for, a SQLite database file that exists and whose schema is at this
code's head, and a request that is found and shown without any error. Anything else — a
PostgreSQL URL, a refusal (no such request, an unknown role), a schema to upgrade, a fault —
returns None before anything is printed, and the caller runs the command tree, which says it
as it always has (with the same exit code). `CICIE_LEAN_SHOW=0` turns this path off.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

COMMAND = ("request", "show")
_ID = re.compile(r"0|[1-9][0-9]{0,17}")  # Click's INT, within SQLite's integers
_OPTIONS = {"--as": "actor", "--lang": "lang"}


@dataclass(frozen=True)
class ShowArgs:
    request_id: int
    as_json: bool = False
    actor: str = "coordinator"  # AsOption's default
    lang: str | None = None


def parse_argv(argv: list[str]) -> ShowArgs | None:
    """`request show ID [--json] [--as A] [--lang L]` in any order, each at most once; None for
    any other command line (the command tree parses it, and says what is wrong)."""
    if tuple(argv[:2]) != COMMAND:
        return None
    rest = argv[2:]
    found: dict[str, Any] = {}
    ids: list[int] = []
    i = 0
    while i < len(rest):
        token = rest[i]
        i += 1
        if token == "--json":
            if "as_json" in found:
                return None
            found["as_json"] = True
            continue
        name, eq, value = token.partition("=")
        if name in _OPTIONS:
            if not eq:
                if i >= len(rest):
                    return None
                value = rest[i]
                i += 1
            key = _OPTIONS[name]
            if key in found or not value or value.startswith("-"):
                return None
            found[key] = value
            continue
        if _ID.fullmatch(token) and not ids:
            ids.append(int(token))
            continue
        return None
    if len(ids) != 1:
        return None
    return ShowArgs(ids[0], **found)


def sqlite_file(url: str) -> Path | None:
    """The file of a plain `sqlite:///PATH` URL as SQLAlchemy opens it; None for any other
    URL (another database, a driver or query options, an in-memory database)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :]
    if not path or path == ":memory:" or any(c in path for c in "?#%"):
        return None
    return Path(path)


class _NotSure(Exception):
    """This path cannot vouch for the answer: the command tree gives it."""


def run(argv: list[str]) -> int | None:
    """Answer the command (its exit code), or None when the command tree must."""
    if os.environ.get("CICIE_LEAN_SHOW") == "0":
        return None
    args = parse_argv(argv)
    if args is None or (sys.stdout.encoding or "").lower().replace("-", "") != "utf8":
        return None  # (Click re-encodes what it prints to a stream of another encoding)
    try:
        out = _answer(args)
    except Exception:  # a refusal or a fault: the command tree says it as it always has
        return None
    try:
        sys.stdout.write(out + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`| head`): as Click, quietly, exit 1
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def _language(args: ShowArgs, settings_lang: str | None, site: str) -> str:
    """`cli.output.chosen_language`: `--lang`, else CICIE_LANG (as the option reads it), else
    the `lang` setting, else the site's language, else English."""
    from i18n import SOURCE_LANGUAGE, UI_LANGUAGES, pick

    chosen = args.lang or os.environ.get("CICIE_LANG") or None
    if chosen is not None:
        if chosen not in UI_LANGUAGES:
            raise _NotSure("not a language of the interface")  # the option's usage error
        return chosen
    return pick(settings_lang, site, available=UI_LANGUAGES) or SOURCE_LANGUAGE


def _answer(args: ShowArgs) -> str:
    """What the command prints on stdout (without the final newline)."""
    from config.env import read_settings

    settings = read_settings()
    if settings is None:
        raise _NotSure("settings only Settings() can read")
    path = sqlite_file(settings.resolved_database_url)
    if path is None or not path.is_file():
        raise _NotSure("not an existing SQLite database")
    lang = _language(args, settings.lang, settings.language)

    from config import file_cache
    from config.catalogues import load_catalogues
    from config.planning import load_planning
    from engine.actor import Actor
    from engine.business_time import BusinessTime
    from engine.clock import system_clock
    from engine.operations.core import EngineReader
    from engine.operations.request_view import shown
    from engine.registry import WORKFLOW_DIR, WorkflowRegistry, stored_versions
    from storage import reads
    from storage.migrate import file_head
    from storage.sqlite_read import SqliteReader
    from workflows.load.cache import cached_catalogues

    # what `engine.bootstrap.build_runtime(read_only=True)` does, on the plain connection
    settings.home.mkdir(parents=True, exist_ok=True)
    with SqliteReader(path) as conn:
        if conn.stored_revision() != file_head():
            raise _NotSure("the schema is not at this code's head")  # exit 4, said there
        cache_dir = settings.home / "cache"  # engine.bootstrap.definition_cache_dir
        file_cache.use_dir(cache_dir)
        catalogues = cached_catalogues(cache_dir, load_catalogues)
        registry = WorkflowRegistry(
            catalogues, settings.workflow_dir or WORKFLOW_DIR, cache_dir=cache_dir
        )
        load_planning()
        registry.attach_stored(stored_versions(conn.stored_versions()))
        engine = EngineReader(
            registry,
            catalogues,
            clock=system_clock,
            language=lang,
            business_time=BusinessTime(settings.timezone, settings.reminder_hour),
        )
        # `cli.requests_cmd.request_show`
        actor = Actor.parse(args.actor)
        row = reads.get(conn, args.request_id)
        if row is None:
            raise _NotSure("no such request")  # NotFound, said there
        view, available = shown(engine, conn, row, actor)
        if args.as_json:
            from engine.views import shown_dict

            payload = shown_dict(view, available, lang)
            return json.dumps(payload, ensure_ascii=False, indent=2, default=str)
        from cli.words import Words, show_text

        definition = registry.get(conn, view.programme, view.workflow_version).definition
        text = show_text(view, available, Words(definition, lang, settings.timezone))
    if "\x1b" in text:  # Click strips terminal escapes from what it prints to a pipe
        raise _NotSure("text with terminal escapes")
    return text
