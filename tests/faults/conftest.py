"""Fault-injection fixtures: databases of the tests' own on the real PostgreSQL (the processes
the tests start must see committed data), `cicie` processes started and killed by the tests,
a real SMTP relay on loopback, and a TCP proxy in front of PostgreSQL to cut it off.

Every test here is marked `faults` and `postgres`: without PostgreSQL it skips with the reason,
and under CI=true it fails instead.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from config.catalogues import load_catalogues
from engine.clock import system_clock
from engine.registry import WorkflowRegistry
from storage import migrate
from storage.db import Database
from tests.conftest import PG_ADMIN_URL, _postgres_available
from tests.faults.smtp_sink import SmtpSink
from tests.faults.tcp_proxy import TcpProxy


def wait_until(
    predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.05
) -> None:
    """Poll a process effect until it shows, or fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout} s: {what}")
        time.sleep(interval)


# ---------------------------------------------------------------- databases
def _admin() -> sa.Engine:
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def url_of(name: str, *, port: int | None = None) -> str:
    url = sa.make_url(PG_ADMIN_URL).set(database=name)
    if port is not None:
        url = url.set(host="127.0.0.1", port=port)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template(worker_id: str) -> Iterator[str]:
    """A migrated database that each test's database is copied from (CREATE … TEMPLATE)."""
    reason = _postgres_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
        pytest.skip(reason)
    name = f"cicie_faults_tmpl_{worker_id}_{uuid.uuid4().hex[:8]}"
    admin = _admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    db = Database(url_of(name))
    migrate.upgrade(db)
    WorkflowRegistry(load_catalogues()).sync(db, system_clock)  # what every process registers
    db.dispose()
    yield name
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@dataclass
class PgDatabases:
    template: str
    names: list[str] = field(default_factory=list)

    def new(self, *, migrated: bool = True) -> str:
        """A database of this test's own: migrated (a copy of the template) or empty."""
        name = f"cicie_faults_{uuid.uuid4().hex[:12]}"
        admin = _admin()
        with admin.connect() as conn:
            if migrated:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
            else:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        self.names.append(name)
        return name

    def drop_all(self) -> None:
        admin = _admin()
        with admin.connect() as conn:
            for name in self.names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def pg(pg_template: str) -> Iterator[PgDatabases]:
    dbs = PgDatabases(pg_template)
    yield dbs
    dbs.drop_all()


@pytest.fixture
def db(pg: PgDatabases) -> Iterator[Database]:
    database = Database(url_of(pg.new()))
    yield database
    database.dispose()


def terminate_backends(database: str) -> int:
    """pg_terminate_backend on every connection to `database` (the application's)."""
    admin = _admin()
    with admin.connect() as conn:
        n = conn.exec_driver_sql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            f"WHERE datname = '{database}' AND pid <> pg_backend_pid()"
        ).scalar_one()
    admin.dispose()
    return int(n)


# ---------------------------------------------------------------- processes
@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    out: Path
    err: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, sig: int) -> None:
        self.popen.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL: no handler, no clean-up, leases left as they are."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout=timeout)

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def output(self) -> str:
        """stdout and stderr, for failure messages."""
        err = self.err.read_text(encoding="utf-8", errors="replace")
        return f"{self.stdout()}\n--- stderr ---\n{err}"

    def json_logs(self) -> list[dict[str, object]]:
        """The process's log lines (CICIE_LOG_FORMAT=json): every stderr line must parse."""
        text = self.err.read_text(encoding="utf-8", errors="replace")
        # a line still being written (no newline yet) is left for the next look
        lines = [line for line in text.splitlines(keepends=True) if line.endswith("\n")]
        return [json.loads(line) for line in lines if line.strip()]


@dataclass
class Spawner:
    tmp: Path
    procs: list[Proc] = field(default_factory=list)
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    def env(self, database_url: str, **settings: object) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CICIE_")}
        env.update(
            CICIE_DATABASE_URL=database_url,
            CICIE_ENVIRONMENT="test",
            CICIE_LOG_FORMAT="json",
            # every instance of one installation shares the key (each has its own home)
            CICIE_SECRET_KEY=self.secret,
        )
        env.update({f"CICIE_{k.upper()}": str(v) for k, v in settings.items()})
        return env

    def start(self, name: str, *args: str, env: dict[str, str]) -> Proc:
        home = self.tmp / f"{name}-{len(self.procs)}"
        home.mkdir(parents=True)
        env = {"CICIE_HOME": str(home / "home"), **env}
        out, err = home / "stdout.log", home / "stderr.log"
        with open(out, "wb") as out_fh, open(err, "wb") as err_fh:
            popen = subprocess.Popen(
                [sys.executable, "-m", "cli.main", *args],
                env=env,
                cwd=home,  # no .env of the repository is read
                stdout=out_fh,
                stderr=err_fh,
            )
        proc = Proc(name, popen, out, err)
        self.procs.append(proc)
        return proc

    def run(self, name: str, *args: str, env: dict[str, str], timeout: float = 60) -> Proc:
        proc = self.start(name, *args, env=env)
        rc = proc.wait(timeout)
        assert rc == 0, f"{name} {args} exited {rc}:\n{proc.output()[-3000:]}"
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.alive():
                proc.popen.kill()
            proc.popen.wait(timeout=10)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawner]:
    spawner = Spawner(tmp_path)
    try:
        yield spawner
    finally:
        spawner.stop_all()


# ---------------------------------------------------------------- network
@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink()
    server.start()
    try:
        yield server
    finally:
        server.shutdown()


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    url = sa.make_url(PG_ADMIN_URL)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.close()
