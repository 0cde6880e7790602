"""The container recipe in deploy/container/ (docs/operations.md, "Deploy"): what can be checked
without building it. Building and running it (podman, podman-compose from Debian's packages)
takes minutes and a container runtime, so it is done by hand, as the doc says."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import click
import pytest
import typer.main
import yaml

from cli.main import app
from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CONTAINER = ROOT / "deploy" / "container"


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((CONTAINER / "compose.yaml").read_text("utf-8"))
    return data


def _assert_cicie_command(args: list[str]) -> None:
    assert args[0] == "cicie", args
    root = typer.main.get_command(app)
    command: click.Command = root
    rest = args[1:]
    context = root.make_context("cicie", [*rest], resilient_parsing=True)
    while isinstance(command, click.Group) and rest:
        sub = command.get_command(context, rest[0])
        assert sub is not None, f"{args}: no command {rest[0]!r}"
        command, rest = sub, rest[1:]
    command.make_context(command.name or "", [*rest])


def _cicie_commands(command: list[str]) -> list[list[str]]:
    """The `cicie …` commands a service runs (a `sh -c` script is split on ; && and do)."""
    if command[:2] == ["sh", "-c"]:
        found = []
        for part in re.split(r";|&&|\bdo\b|\bdone\b", command[2]):
            words = shlex.split(part)
            while words and words[0] in ("until", "exec", "then"):
                words = words[1:]
            if words and words[0] == "cicie":
                found.append(words)
        return found
    return [command]


def test_the_image_holds_every_package_of_the_project() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {name.rstrip("*") for name in include}
    recipe = (CONTAINER / "Containerfile").read_text("utf-8")
    copied = set(re.findall(r"^COPY (\w+) /opt/cicie/src/\1$", recipe, re.MULTILINE))
    assert copied == packages
    assert "--require-hashes" in recipe
    assert "-r /opt/cicie/src/requirements-postgres.lock" in recipe
    assert "--no-deps /opt/cicie/src" in recipe
    assert re.search(r"^USER cicie$", recipe, re.MULTILINE)
    assert 'CMD ["cicie", "serve", "--no-worker"]' in recipe


def test_compose_runs_web_worker_and_postgresql_with_commands_that_exist() -> None:
    services = _compose()["services"]
    assert set(services) == {"web", "worker", "db"}
    web, worker = services["web"], services["worker"]
    web_commands = _cicie_commands(web["command"])
    assert web_commands == [["cicie", "db", "upgrade"], ["cicie", "serve", "--no-worker"]]
    assert worker["command"] == ["cicie", "worker"]
    for command in [*web_commands, worker["command"]]:
        _assert_cicie_command(command)
    for service in (web, worker):
        url = service["environment"]["CICIE_DATABASE_URL"]
        assert url.startswith("postgresql://cicie:")
        assert url.endswith("@db:5432/cicie")
        assert "cicie-home:/var/lib/cicie" in service["volumes"]  # one secret key for both
        assert service["env_file"].startswith("${CICIE_ENV_FILE")


@pytest.mark.parametrize("name", ["web", "worker"])
def test_compose_stops_gracefully(name: str) -> None:
    service = _compose()["services"][name]
    assert service["stop_signal"] == "SIGTERM"
    grace = re.fullmatch(r"(\d+)s", service["stop_grace_period"])
    assert grace
    assert int(grace.group(1)) > Settings().shutdown_grace + 5


def test_the_database_container_makes_the_role_and_database_compose_uses() -> None:
    entrypoint = (CONTAINER / "postgres-entrypoint.sh").read_text("utf-8")
    assert "CREATE ROLE cicie LOGIN PASSWORD :'password'" in entrypoint
    assert "CREATE DATABASE cicie OWNER cicie" in entrypoint
    db = _compose()["services"]["db"]
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${CICIE_DB_PASSWORD")
