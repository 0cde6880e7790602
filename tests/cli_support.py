"""Running `cicie` in-process the way the command-line tests do: one home and one database per
test, the JSON a command printed when it succeeded."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from cli.main import app

Run = Callable[..., Result]


def command_line(database_url: str, home: Path, **env: str) -> Run:
    """`run(*args, input=None)` invokes `cicie ARGS` on `database_url` with `CICIE_HOME=home`
    and any further environment (`CICIE_LANG="en"`, …)."""
    environment = {"CICIE_DATABASE_URL": database_url, "CICIE_HOME": str(home), **env}
    runner = CliRunner()

    def run(*args: Any, input: str | None = None) -> Result:
        return runner.invoke(app, [str(a) for a in args], env=environment, input=input)

    return run


def ok_json(result: Result) -> Any:
    """The document a successful command printed (the failure's output when it did not)."""
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)
