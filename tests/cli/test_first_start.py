"""A fresh installation is safe as it starts: no published secret, nobody made behind the
administrator's back, no password in the service log, demo data only when asked for (and never
in production). Driven as an operator would: real `cicie` processes on a fresh CICIE_HOME."""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner
from pydantic import SecretStr
from typer.testing import CliRunner

from cli.main import app
from config.secret import SECRET_FILE, site_secret
from config.settings import Settings
from engine.clock import system_clock
from engine.links import LinkInvalid, LinkSigner

# the constant the code once shipped as its development key, and other obvious guesses
CONSTANTS = ["development-only-secret-change-me", "secret", "changeme", "cicie", ""]
SESSION_COOKIE = "cicie_session"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CICIE_")}
    env.update(
        {
            "CICIE_HOME": str(home),
            "CICIE_ENVIRONMENT": "development",
            "CICIE_LANG": "en",
            **extra,
        }
    )
    return env


def _cicie(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class Server:
    def __init__(self, home: Path, *args: str, env: dict[str, str], merged: bool = False) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.out = home.parent / f"serve-{self.port}.out"
        self.err = home.parent / f"serve-{self.port}.err"
        env = {**env, "CICIE_PORT": str(self.port), "CICIE_CATCHER_PORT": str(_free_port())}
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "serve", *args],
                env=env,
                cwd=home.parent,
                stdout=out,
                # merged: the console as a person sees it, log lines and banner interleaved
                stderr=subprocess.STDOUT if merged else err,
            )

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.stdout():
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"never printed {text!r}:\n{self.stdout()}\n--- stderr ---\n{self.stderr()}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def _users(home: Path) -> int:
    engine = sa.create_engine(f"sqlite:///{home / 'cicie.db'}")
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM user_account")).scalar_one()
    engine.dispose()
    return int(count)


def _forged_session(secret: str, payload: bytes) -> str:
    """A cookie as Starlette's SessionMiddleware signs it, with a key of the forger's choice."""
    import base64

    return TimestampSigner(secret).sign(base64.b64encode(payload)).decode()


def test_plain_serve_on_a_fresh_home_creates_nobody_and_prints_no_password(
    home: Path, servers: list[Server]
) -> None:
    env = _env(home)
    upgraded = _cicie("db", "upgrade", env=env, cwd=home.parent)
    assert upgraded.returncode == 0, upgraded.stderr
    server = Server(home, env=env)
    servers.append(server)
    server.wait_for("Stop with Ctrl+C.")

    assert _users(home) == 0
    assert "Nobody can sign in yet" in server.stdout()
    output = server.stdout() + server.stderr()
    assert not re.search(r"password|token", output.replace("--password-stdin", ""), re.I)
    key_file = home / SECRET_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert output.count("generated a new random secret key") == 1
    assert key_file.read_text().strip() not in output


def test_a_cookie_or_link_signed_with_a_constant_is_refused(
    home: Path, servers: list[Server]
) -> None:
    env = _env(home)
    assert _cicie("db", "upgrade", env=env, cwd=home.parent).returncode == 0
    added = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            "user",
            "add",
            "root",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input="a-long-enough-password\n",
        env=env,
        cwd=home.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    server = Server(home, env=env)
    servers.append(server)
    server.wait_for("Stop with Ctrl+C.")

    for constant in CONSTANTS:
        for payload in (b'{"uid": 1}', b'{"uid": 1, "sid": "x"}'):
            cookie = _forged_session(constant or "x", payload)
            answer = httpx.get(
                f"{server.url}/", cookies={SESSION_COOKIE: cookie}, follow_redirects=False
            )
            assert answer.status_code == 303, (constant, answer.status_code)
            assert answer.headers["location"].startswith("/login")
        link = LinkSigner(constant or "x", system_clock).token(1, "status", "a@example.org")
        assert httpx.get(f"{server.url}/status/{link}").status_code in (403, 404, 410)


def test_demo_login_is_the_last_thing_make_run_prints(home: Path, servers: list[Server]) -> None:
    server = Server(home, "--demo", env=_env(home))
    servers.append(server)
    server.wait_for("Stop with Ctrl+C.")

    lines = [line for line in server.stdout().splitlines() if line.strip()]
    tail = "\n".join(lines[-8:])
    assert f"CICIE is running on {server.url}" in tail
    assert re.search(r"^\s+admin / \S{12,}$", tail, re.M)
    assert "API token for 'coordinator'" in tail
    assert "password" not in server.stderr().lower()  # the log holds no login
    assert _users(home) == 3


def test_make_run_ends_its_console_output_with_the_address_and_the_login(
    home: Path, servers: list[Server]
) -> None:
    server = Server(home, "--demo", env=_env(home), merged=True)
    servers.append(server)
    server.wait_for("API token for 'coordinator'")

    lines = [line for line in server.stdout().splitlines() if line.strip()]
    address = next(i for i, line in enumerate(lines) if "CICIE is running on" in line)
    # after the address: only the login (three users and the token), no log line
    assert len(lines) - address == 6, "\n".join(lines[address:])
    assert all(re.fullmatch(r"\s+\w+ / \S{12,}", line) for line in lines[address + 2 : -1])
    # the demo's mail went to the catcher, whose log is a file under the home, not the console
    assert "Mail is caught under" in "\n".join(lines[:address])
    assert not any("aiosmtpd" in line or "mail.log" in line for line in lines)
    assert (home / "mail-catcher.log").exists()


@pytest.mark.parametrize("command", [["serve", "--demo"], ["demo", "load", "--json"]])
def test_demo_is_refused_in_production(home: Path, command: list[str]) -> None:
    done = _cicie(*command, env=_env(home, CICIE_ENVIRONMENT="production"), cwd=home.parent)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "production" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (home / "cicie.db").exists() or _users(home) == 0


def test_a_short_secret_is_refused_without_showing_it(home: Path) -> None:
    weak = "short-but-secret"
    done = _cicie("request", "list", env=_env(home, CICIE_SECRET_KEY=weak), cwd=home.parent)
    assert done.returncode == 2
    assert "CICIE_SECRET_KEY" in done.stderr
    assert weak not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_the_secret_never_shows_in_a_repr() -> None:
    secret = "a-secret-of-more-than-thirty-two-characters"
    settings = Settings(secret_key=SecretStr(secret), smtp_password=SecretStr("mail-password"))
    assert secret not in repr(settings)
    assert secret not in str(settings)
    assert "mail-password" not in repr(settings)


def test_rotating_the_secret_ends_links_signed_with_the_old_one(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [k for k in os.environ if k.startswith("CICIE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CICIE_HOME", str(home))
    settings = Settings()
    old = site_secret(settings).get_secret_value()
    link = LinkSigner(old, system_clock).token(7, "report", "intern@example.org")

    rotated = CliRunner().invoke(app, ["secret", "rotate", "--lang", "en"])

    assert rotated.exit_code == 0, rotated.output
    assert "session" in rotated.stdout
    assert "link" in rotated.stdout
    new = site_secret(Settings()).get_secret_value()
    assert new != old
    assert new not in rotated.stdout
    assert stat.S_IMODE((home / SECRET_FILE).stat().st_mode) == 0o600
    with pytest.raises(LinkInvalid):
        LinkSigner(new, system_clock).verify(link, "report")


def test_rotate_refuses_a_secret_that_comes_from_the_environment(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CICIE_HOME", str(home))
    monkeypatch.setenv("CICIE_SECRET_KEY", "x" * 40)
    rotated = CliRunner().invoke(app, ["secret", "rotate"])
    assert rotated.exit_code == 1
    assert "CICIE_SECRET_KEY" in rotated.stderr
    assert not (home / SECRET_FILE).exists()


def test_two_processes_starting_at_once_agree_on_one_secret(home: Path) -> None:
    env = _env(home)
    script = (
        "from config.settings import Settings; from config.secret import site_secret;"
        "print(site_secret(Settings()).get_secret_value())"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    keys = {proc.communicate(timeout=60)[0].strip() for proc in procs}
    assert len(keys) == 1
    assert len(keys.pop()) >= 32
