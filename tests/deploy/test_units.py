"""The systemd units in deploy/ (docs/operations.md, "Deploy"): systemd itself accepts them,
they run commands that exist with options that exist, they carry the hardening and the stop
timeout the operations doc promises, and the commands they run, with the environment they give,
start a working web process and worker that stop cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import pytest
import typer.main

from cli.main import app
from config.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = {
    "web": DEPLOY / "systemd" / "cicie-web.service",
    "worker": DEPLOY / "systemd" / "cicie-worker.service",
}
ENV_EXAMPLE = DEPLOY / "cicie.env.example"
INSTALLED_CICIE = "/opt/cicie/venv/bin/cicie"
HOME = "/var/lib/cicie"
Unit = dict[str, list[tuple[str, str]]]


def parse_unit(path: Path) -> Unit:
    """Sections → their (key, value) lines in order (systemd allows a key several times)."""
    unit: Unit = {}
    section = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            unit.setdefault(section, [])
            continue
        key, _, value = line.partition("=")
        unit[section].append((key.strip(), value.strip()))
    return unit


def values(unit: Unit, section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def one(unit: Unit, section: str, key: str) -> str:
    found = values(unit, section, key)
    assert len(found) == 1, f"[{section}] {key}= appears {len(found)} times"
    return found[0]


def unit_environment(unit: Unit) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in values(unit, "Service", "Environment"):
        for word in shlex.split(line):
            key, _, value = word.partition("=")
            env[key] = value
    return env


def env_file(path: Path) -> dict[str, str]:
    """KEY=value lines as systemd's EnvironmentFile= reads them (comments skipped)."""
    env = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]  # systemd removes the quotes, as a shell does
            env[key.strip()] = value
    return env


def cicie_arguments(command_line: str) -> list[str]:
    words = shlex.split(command_line)
    assert words[0] == INSTALLED_CICIE, command_line
    return words[1:]


# ---------------------------------------------------------------- static checks
@pytest.mark.parametrize("name", sorted(UNITS))
def test_units_run_commands_that_exist_with_options_that_exist(name: str) -> None:
    unit = parse_unit(UNITS[name])
    lines = values(unit, "Service", "ExecStartPre") + values(unit, "Service", "ExecStart")
    assert lines
    root = typer.main.get_command(app)
    for line in lines:
        args = cicie_arguments(line)
        command: click.Command = root
        context = root.make_context("cicie", [*args], resilient_parsing=True)
        while isinstance(command, click.Group) and args:
            sub = command.get_command(context, args[0])
            assert sub is not None, f"{line}: no command {args[0]!r}"
            command, args = sub, args[1:]
        # parses, or raises on an unknown option or a missing argument
        command.make_context(command.name or "", [*args])


def test_the_two_units_are_the_documented_several_process_shape() -> None:
    web, worker = parse_unit(UNITS["web"]), parse_unit(UNITS["worker"])
    assert cicie_arguments(one(web, "Service", "ExecStart")) == ["serve", "--no-worker"]
    assert cicie_arguments(one(web, "Service", "ExecStartPre")) == ["db", "upgrade"]
    assert cicie_arguments(one(worker, "Service", "ExecStart")) == ["worker"]
    assert "cicie-web.service" in one(worker, "Unit", "After")


@pytest.mark.parametrize("name", sorted(UNITS))
def test_units_are_hardened_and_stop_gracefully(name: str) -> None:
    unit = parse_unit(UNITS[name])
    expected = {
        "User": "cicie",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
        "Restart": "on-failure",
        "KillSignal": "SIGTERM",
        "EnvironmentFile": "/etc/cicie/cicie.env",
        "StateDirectory": "cicie",
        "ReadWritePaths": HOME,
        "WorkingDirectory": HOME,
        "CapabilityBoundingSet": "",
    }
    for key, value in expected.items():
        assert one(unit, "Service", key) == value, key
    env = unit_environment(unit)
    assert env["CICIE_HOME"] == HOME  # the one folder it may write
    assert env["CICIE_ENVIRONMENT"] == "production"
    # the web process waits CICIE_SHUTDOWN_GRACE + 5 s for the requests in flight, the worker
    # CICIE_SHUTDOWN_GRACE for its mail batch: systemd must not SIGKILL before either is done
    grace = float(env_file(ENV_EXAMPLE).get("CICIE_SHUTDOWN_GRACE", Settings().shutdown_grace))
    assert float(one(unit, "Service", "TimeoutStopSec")) > grace + 5


def test_the_environment_file_names_only_real_settings() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    named = set(re.findall(r"^#?(CICIE_[A-Z_]+)=", text, re.MULTILINE))
    fields = {f"CICIE_{name.upper()}" for name in Settings.model_fields}
    assert named, "no settings in the example"
    assert named <= fields, f"not settings: {sorted(named - fields)}"
    assert {"CICIE_SECRET_KEY", "CICIE_TRUSTED_PROXIES", "CICIE_DATABASE_URL"} <= named
    assert "0600" in text
    assert env_file(ENV_EXAMPLE)["CICIE_MAIL_FROM"] == "CICIE <cicie@example.org>"
    # and what it sets is valid
    Settings(**{k.removeprefix("CICIE_").lower(): v for k, v in env_file(ENV_EXAMPLE).items()})


def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    # verify checks that the programs exist: point the units at this installation's `cicie`
    cicie = Path(sys.executable).parent / "cicie"
    assert cicie.exists(), f"{cicie}: the package is not installed in this environment"
    rendered = []
    for unit in UNITS.values():
        target = tmp_path / unit.name
        target.write_text(unit.read_text(encoding="utf-8").replace(INSTALLED_CICIE, str(cicie)))
        rendered.append(str(target))
    result = subprocess.run(
        [analyze, "verify", "--man=no", *rendered], capture_output=True, text=True, timeout=60
    )
    # it exits 0 on unknown keys and bad values too, and only warns: no output is the pass
    assert result.returncode == 0, result.stderr
    assert (result.stdout + result.stderr).strip() == ""


# ---------------------------------------------------------------- run as the units run them
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _service_environment(name: str, home: Path) -> dict[str, str]:
    """What systemd would give the process: the unit's Environment=, then the file, with the
    paths, ports and mail relay moved to this test's own (nothing leaves the machine)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CICIE_")}
    env.update(unit_environment(parse_unit(UNITS[name])))
    env.update(env_file(ENV_EXAMPLE))
    env.update(
        CICIE_HOME=str(home),
        CICIE_PORT=str(_free_port()),
        CICIE_CATCHER_PORT=str(_free_port()),
        CICIE_SMTP_HOST="127.0.0.1",
        CICIE_SMTP_PORT=str(_free_port()),  # nothing listens: no mail is sent in these tests
        CICIE_SMTP_SECURITY="none",
        CICIE_SHUTDOWN_GRACE="2",
    )
    return env


def _command(line: str) -> list[str]:
    return [str(Path(sys.executable).parent / "cicie"), *cicie_arguments(line)]


def _stop(process: subprocess.Popen[str], timeout: float) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)  # KillSignal=
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"not stopped within TimeoutStopSec ({timeout} s):\n{output[-3000:]}")
    return process.returncode, output


def test_the_web_unit_commands_migrate_serve_and_stop_on_sigterm(tmp_path: Path) -> None:
    unit = parse_unit(UNITS["web"])
    home = tmp_path / "var-lib-cicie"
    home.mkdir(mode=0o700)
    env = _service_environment("web", home)
    pre = subprocess.run(
        _command(one(unit, "Service", "ExecStartPre")),
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert pre.returncode == 0, pre.stdout + pre.stderr
    assert "database at revision" in pre.stdout
    process = subprocess.Popen(
        _command(one(unit, "Service", "ExecStart")),
        env=env,
        cwd=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{env['CICIE_PORT']}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[0][-3000:]
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the web process never became ready"
            time.sleep(0.2)
    finally:
        code, output = _stop(process, float(one(unit, "Service", "TimeoutStopSec")))
    # uvicorn shuts down gracefully, then re-raises the signal it caught: systemd counts an end
    # by SIGTERM as a clean stop (no restart under Restart=on-failure), as it does exit 0
    assert code in (0, -signal.SIGTERM), output[-3000:]
    assert "Finished server process" in output
    assert (home / "cicie.db").exists()
    assert (home / "secret_key").stat().st_mode & 0o777 == 0o600


def test_the_worker_unit_command_runs_and_stops_on_sigterm(tmp_path: Path) -> None:
    unit = parse_unit(UNITS["worker"])
    home = tmp_path / "var-lib-cicie"
    home.mkdir(mode=0o700)
    env = _service_environment("worker", home)
    process = subprocess.Popen(
        _command(one(unit, "Service", "ExecStart")),
        env=env,
        cwd=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    try:
        deadline = time.monotonic() + 60
        for line in process.stdout:
            lines.append(line)
            if "worker started" in line:
                break
            assert time.monotonic() < deadline, "the worker never started"
    finally:
        code, output = _stop(process, float(one(unit, "Service", "TimeoutStopSec")))
    output = "".join(lines) + output
    assert "worker started" in output, output[-3000:]
    assert code == 0, output[-3000:]
    assert "worker stopped" in output
