"""Connections and transactions, with each database's specifics kept here.

SQLite: WAL, a busy timeout, foreign keys, and `BEGIN IMMEDIATE` for every write transaction
(SQLAlchemy's documented pysqlite recipe), because SQLAlchemy silently drops `FOR UPDATE` on
SQLite and a deferred transaction that later writes fails with "database is locked" under
contention. Reads use a deferred `BEGIN`, so they never wait for the write lock.
PostgreSQL: psycopg 3; rows are locked with `SELECT … FOR UPDATE`. The driver is the optional
`postgres` extra, imported only when a PostgreSQL URL is opened: a SQLite installation runs
without it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url

from config.drivers import POSTGRES_EXTRA, MissingDriver

READ_OPTION = "cicie_read_only"


def _require_psycopg() -> None:
    try:
        import psycopg  # noqa: F401  (SQLAlchemy imports it again; this only checks)
    except ImportError as exc:
        raise MissingDriver(
            f"a PostgreSQL database needs the psycopg driver, which is not installed: "
            f"{POSTGRES_EXTRA}"
        ) from exc


def normalise_url(url: str | URL) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


PG_CONNECT_DEFAULTS = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


class Database:
    """One SQLAlchemy engine plus the transaction discipline the engine relies on."""

    def __init__(
        self,
        url: str | URL,
        *,
        sqlite_synchronous: str = "NORMAL",
        busy_timeout_ms: int = 30_000,
        pool_size: int = 5,
        pre_ping: bool = False,
    ) -> None:
        self.url = normalise_url(url)
        # how many write transactions this process committed here (`transaction`)
        self._commit_numbers = itertools.count(1)
        self.commits = 0
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.is_postgres = self.url.get_backend_name() == "postgresql"
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            database = self.url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False}
        else:
            if self.url.drivername == "postgresql+psycopg":
                _require_psycopg()
            # no pre-ping by default: it costs a round trip on every checkout (≈ 20 % of the
            # throughput in bench/load.py). A connection that died with the server fails its
            # first statement instead; SQLAlchemy then discards the whole pool, the request
            # answers 503 (retryable) and the next ones connect afresh
            # (tests/faults/test_db_outage.py). Tools that must not see that one failure ask
            # for `pre_ping`.
            kwargs.update(
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=pre_ping,
                pool_recycle=1800,
            )
            # a silent network split must not hang a request: give up connecting after 10 s
            # and let TCP keepalives notice a dead peer (URL query parameters take precedence)
            kwargs["connect_args"] = {
                key: value
                for key, value in PG_CONNECT_DEFAULTS.items()
                if key not in self.url.query
            }
        self.engine = sa.create_engine(self.url, **kwargs)
        if self.is_sqlite:
            self._install_sqlite_recipe(sqlite_synchronous, busy_timeout_ms)

    def _install_sqlite_recipe(self, synchronous: str, busy_timeout_ms: int) -> None:
        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.close()

        @event.listens_for(self.engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            # straight to the driver: SQLAlchemy's statement machinery would cost ~40 µs here
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            if conn.get_execution_options().get(READ_OPTION):
                dbapi.execute("BEGIN")
            else:
                dbapi.execute("BEGIN IMMEDIATE")

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        with self.engine.connect() as conn, conn.begin():
            yield conn
        # after the commit: what a process-local cache of reads keys on (`next` on the
        # counter is atomic, so two threads' commits never leave the same number)
        self.commits = next(self._commit_numbers)

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A read-only snapshot that never takes SQLite's write lock."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{READ_OPTION: True})
            with conn.begin():
                yield conn

    def ping(self) -> bool:
        """Does the database answer? (readiness checks)"""
        try:
            with self.read() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
