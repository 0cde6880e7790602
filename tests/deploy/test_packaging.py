"""How CICIE is installed: `cicie --version`, the lock files `make install` and CI install from,
and a SQLite installation without the `postgres` extra (no psycopg at all)."""

from __future__ import annotations

import importlib.metadata
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from typer.testing import CliRunner

from cli.main import app

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {
    "requirements.lock": (),
    "requirements-postgres.lock": ("postgres",),
    "requirements-dev.lock": ("dev", "postgres"),
}


# ---------------------------------------------------------------- --version
def test_version_is_the_installed_package_version_and_imports_nothing_heavy() -> None:
    probe = (
        "import sys; from cli.main import main; main(); "
        "print(sorted(m for m in ('sqlalchemy', 'fastapi', 'uvicorn', 'engine', 'storage', "
        "'cli.db_cmd', 'cli.serve_cmd') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"cicie {importlib.metadata.version('cicie')}", "[]"]


def test_version_on_the_whole_command_tree() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"cicie {importlib.metadata.version('cicie')}\n"
    assert "--version" in CliRunner().invoke(app, ["--help"]).stdout


# ---------------------------------------------------------------- the lock files
def _pins(lock: Path) -> dict[str, str]:
    text = lock.read_text(encoding="utf-8")
    pins = {}
    for block in re.split(r"\n(?=\S)", text):
        match = re.match(r"([A-Za-z0-9._-]+)==(\S+)", block)
        if match:
            assert "--hash=sha256:" in block, f"{lock.name}: {match.group(1)} has no hash"
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_lock_pins_with_hashes_everything_pyproject_asks_for(lock: str) -> None:
    """Fails when a dependency was added to pyproject.toml without `make lock`."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for extra in LOCKS[lock]:
        wanted += project["optional-dependencies"][extra]
    pins = _pins(ROOT / lock)
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{lock} lacks {requirement}: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {name}=={pins[name]}, outside {requirement.specifier}: run `make lock`"
        )
        for extra in requirement.extras:  # psycopg[binary] → psycopg-binary
            assert canonicalize_name(f"{name}-{extra}") in pins, f"{lock} lacks {line}"
    if "postgres" not in LOCKS[lock]:
        assert not any(name.startswith("psycopg") for name in pins), "SQLite installs need none"


def test_the_locks_agree_on_every_version_they_share() -> None:
    dev = _pins(ROOT / "requirements-dev.lock")
    for lock in ("requirements.lock", "requirements-postgres.lock"):
        for name, version in _pins(ROOT / lock).items():
            assert dev.get(name) == version, f"{lock}: {name}=={version}, dev has {dev.get(name)}"


def test_make_install_and_ci_install_from_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    rule = re.search(r"^\$\(VENV\)/\.installed:(.*?)\n\n", makefile, re.MULTILINE | re.DOTALL)
    assert rule, "no $(VENV)/.installed rule"
    assert "requirements-dev.lock" in rule.group(1).splitlines()[0]  # reinstalls when it changes
    assert "--require-hashes -r requirements-dev.lock" in rule.group(1)
    assert "--no-deps -e ." in rule.group(1)
    assert re.search(r"^lock:", makefile, re.MULTILINE)
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


# ---------------------------------------------------------------- SQLite without psycopg
# as on an installation without the `postgres` extra: `import psycopg` fails
WITHOUT_PSYCOPG = (
    "import sys; sys.modules['psycopg'] = None; sys.modules['psycopg_binary'] = None; "
    "sys.argv[0] = 'cicie'; from cli.main import main; main()"
)


def _cicie_without_psycopg(*args: str) -> list[str]:
    return [sys.executable, "-c", WITHOUT_PSYCOPG, *args]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CICIE_")}
    env.update(CICIE_HOME=str(home), **extra)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_a_sqlite_installation_runs_without_psycopg(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = _env(home, CICIE_PORT=str(_free_port()), CICIE_CATCHER_PORT=str(_free_port()))
    for args in (["--version"], ["db", "upgrade"], ["db", "backup", str(tmp_path / "b.db")]):
        result = subprocess.run(
            _cicie_without_psycopg(*args), env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
    server = subprocess.Popen(
        _cicie_without_psycopg("serve"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[0][-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{env['CICIE_PORT']}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server never became ready"
            time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert "psycopg" not in output


def test_a_postgresql_url_without_psycopg_says_which_extra_to_install(tmp_path: Path) -> None:
    env = _env(tmp_path, CICIE_DATABASE_URL="postgresql://cicie@127.0.0.1:1/cicie")
    result = subprocess.run(
        _cicie_without_psycopg("db", "upgrade"), env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "pip install 'cicie[postgres]'" in result.stderr
