"""Backups, as an operator takes and restores them (docs/operations.md, "Back up and restore").

SQLite: `cicie db backup PATH` / `cicie db restore PATH`. PostgreSQL: the documented recipe,
`pg_dump -Fc` then `pg_restore --clean --if-exists --no-owner`, run here with the real tools.
Each round trip fills a database with what the application really writes (requests driven
through their workflows, so history, outbox and timer rows; users and tokens; a PDF), backs it
up, changes it, restores it, and compares every table row by row with what it held at backup
time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result
from typer.testing import CliRunner

from cli.db_cmd import _script_directory
from cli.main import app
from config.catalogues import load_catalogues
from engine.accounts import Accounts
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.registry import WorkflowRegistry
from engine.service import Engine
from notifications.wiring import install_mail
from storage import migrate, report_drafts
from storage.db import Database
from tests.conftest import PG_ADMIN_URL, PROGRAMMES, example_steps

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
Snapshot = dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


# ---------------------------------------------------------------- helpers
def cicie(url: str, home: Path, *args: Any) -> Result:
    env = {
        "CICIE_DATABASE_URL": url,
        "CICIE_HOME": str(home),
        "CICIE_DEMO_DATA": "false",
        "CICIE_LANG": "en",
    }
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def ok_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def refused(result: Result, code: str) -> str:
    assert result.exit_code == 1, result.output + result.stderr
    error = json.loads(result.stdout)["error"]
    assert error["code"] == code, error
    return str(error["message"])


def snapshot(url: str) -> Snapshot:
    """Every table of the database: its columns, and all its rows in a stable order."""
    eng = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with eng.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
            result: Snapshot = {}
            for table in tables:
                rows = conn.exec_driver_sql(f'SELECT * FROM "{table}"')
                columns = tuple(rows.keys())
                result[table] = (columns, sorted((tuple(r) for r in rows), key=repr))
            return result
    finally:
        eng.dispose()


def assert_same(actual: Snapshot, expected: Snapshot) -> None:
    assert sorted(actual) == sorted(expected), "not the same tables"
    for table, (columns, rows) in expected.items():
        assert actual[table][0] == columns, f"{table}: not the same columns"
        assert len(actual[table][1]) == len(rows), f"{table}: {len(actual[table][1])} rows"
        for got, want in zip(actual[table][1], rows, strict=True):
            assert got == want, f"{table}: row differs"


def populate(rt: Runtime, clock: ManualClock) -> None:
    """What a few weeks of use leave behind, written by the application itself."""
    install_mail(rt)
    engine = rt.engine
    for n, programme in enumerate(PROGRAMMES):
        code = f"EMB-{n}"
        engine.add_emb(
            code=code, name=f"Comisión {n}", country="HN", language="es", email=f"e{n}@x.org"
        )
        steps = example_steps(programme)
        # one request all the way to closed, one halfway (timers armed), one just created
        for upto in (len(steps), len(steps) // 2, 0):
            view = engine.create(
                programme, emb_code=code, title=f"{programme} ({upto})", actor=COORDINATOR
            )
            for step in steps[:upto]:
                clock.advance(timedelta(hours=5))
                view = engine.advance(
                    view.id, step["trigger"], Actor.parse(step["as"]), data=step.get("data") or {}
                )
    accounts = Accounts(rt.db, clock)
    accounts.add_user("ana", "coordinator", "a long enough password")
    accounts.issue_token("ana", "scripts")
    with rt.db.transaction() as conn:
        report_drafts.add_attachment(
            conn,
            request_id=1,
            filename="informe.pdf",
            content_type="application/pdf",
            data=PDF,
            sha256=hashlib.sha256(PDF).hexdigest(),
            uploaded_by="delegate",
            now=clock(),
        )


def change_everything(rt: Runtime, clock: ManualClock) -> None:
    """After the backup: new rows, changed rows and deleted rows."""
    engine = rt.engine
    view = engine.create("seminar", emb_code="EMB-0", title="after the backup", actor=COORDINATOR)
    step = example_steps("seminar")[0]
    clock.advance(timedelta(days=3))
    engine.advance(view.id, step["trigger"], Actor.parse(step["as"]), data=step.get("data") or {})
    Accounts(rt.db, clock).add_user("luis", "viewer", "another long password")
    with rt.db.transaction() as conn:
        conn.exec_driver_sql("DELETE FROM report_attachment")
        conn.exec_driver_sql("UPDATE outbox SET attempts = attempts + 7")
        conn.exec_driver_sql("UPDATE emb SET name = 'renamed'")


def engine_on(url: str, clock: ManualClock) -> Engine:
    db = Database(url)
    catalogues = load_catalogues()
    registry = WorkflowRegistry(catalogues)
    registry.sync(db, clock)
    return Engine(db, registry, catalogues, clock=clock)


COORDINATOR = Actor("coordinator", "ana")
EXPECTED_ROWS = ("request", "history", "outbox", "timer", "emb", "user_account", "api_token")


def assert_realistic(snap: Snapshot) -> None:
    for table in (*EXPECTED_ROWS, "report_attachment", "workflow_version", "alembic_version"):
        assert snap[table][1], f"{table} has no rows: the round trip would prove little"


def sqlite_file(url: str) -> Path:
    database = sa.make_url(url).database
    assert database
    return Path(database)


# ---------------------------------------------------------------- SQLite
@SQLITE_ONLY
def test_sqlite_round_trip_restores_every_table_row_by_row(
    database_url: str, runtime: Runtime, clock: ManualClock, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    live = sqlite_file(database_url)
    populate(runtime, clock)
    at_backup = snapshot(database_url)
    assert_realistic(at_backup)
    with closing(sqlite3.connect(live)) as conn:
        dump_at_backup = list(conn.iterdump())  # schema, indexes and sqlite_sequence too

    # taken while the application still has the database open
    backup = tmp_path / "backups" / "cicie-backup.db"
    taken = ok_json(cicie(database_url, home, "db", "backup", backup, "--json"))
    assert taken["path"] == str(backup.resolve())
    assert taken["bytes"] == backup.stat().st_size > 0
    assert taken["revision"] == migrate.head_revision(runtime.db)
    assert backup.stat().st_mode & 0o777 == 0o600  # password and token hashes inside
    assert not Path(f"{backup}-wal").exists()  # one self-contained file
    assert [p.name for p in backup.parent.iterdir()] == [backup.name]  # no temporary left

    change_everything(runtime, clock)
    changed = snapshot(database_url)
    assert changed != at_backup
    runtime.db.dispose()  # "stop the services first"

    restored = ok_json(cicie(database_url, home, "db", "restore", backup, "--json"))
    assert restored["revision"] == restored["head"] == taken["revision"]
    assert restored["upgrade_needed"] is False
    assert_same(snapshot(database_url), at_backup)
    with closing(sqlite3.connect(live)) as conn:
        assert list(conn.iterdump()) == dump_at_backup
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    # the database it replaced is kept, whole
    previous = Path(restored["previous"])
    assert previous.parent == live.parent
    assert re.fullmatch(rf"{live.name}\.before-restore-\d{{8}}T\d{{6}}Z", previous.name)
    assert_same(snapshot(f"sqlite:///{previous}"), changed)

    # and the application goes on where the backup left it (ids continue, nothing clashes)
    view = runtime.engine.create(
        "seminar", emb_code="EMB-0", title="after the restore", actor=COORDINATOR
    )
    assert view.id == max(row[0] for row in at_backup["request"][1]) + 1


@SQLITE_ONLY
def test_backup_is_a_consistent_snapshot_while_another_process_writes(
    database_url: str, tmp_path: Path
) -> None:
    live = sqlite_file(database_url)
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute(
        "INSERT INTO emb (code, name, country, language, created_at) "
        "VALUES ('EMB-C', 'committed', 'HN', 'es', '2026-01-12 15:00:00')"
    )
    writer.execute("BEGIN IMMEDIATE")  # a write transaction in flight, holding the write lock
    writer.execute(
        "INSERT INTO emb (code, name, country, language, created_at) "
        "VALUES ('EMB-U', 'uncommitted', 'HN', 'es', '2026-01-12 15:00:00')"
    )
    try:
        backup = tmp_path / "while-writing.db"
        ok_json(cicie(database_url, tmp_path / "home", "db", "backup", backup, "--json"))
    finally:
        writer.execute("COMMIT")
        writer.close()
    with closing(sqlite3.connect(backup)) as conn:
        codes = {row[0] for row in conn.execute("SELECT code FROM emb")}
    assert codes == {"EMB-C"}


@SQLITE_ONLY
def test_backup_refuses_to_overwrite_without_force(database_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    backup = tmp_path / "b.db"
    backup.write_bytes(b"precious")
    message = refused(cicie(database_url, home, "db", "backup", backup, "--json"), "already_exists")
    assert "--force" in message
    assert backup.read_bytes() == b"precious"
    result = cicie(database_url, home, "db", "backup", backup, "--force")
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.startswith(f"Backup written to {backup} (")
    assert backup.read_bytes().startswith(b"SQLite format 3\x00")
    refused(cicie(database_url, home, "db", "backup", tmp_path, "--json"), "already_exists")


def test_backup_of_a_missing_database_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    refused(cicie(url, tmp_path, "db", "backup", tmp_path / "b.db", "--json"), "not_found")
    assert not (tmp_path / "none.db").exists()
    assert not (tmp_path / "b.db").exists()


def _foreign_sqlite(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.commit()


def _unknown_revision(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('9f3e2d1c0b')")
        conn.commit()


def _not_sqlite(path: Path) -> None:
    path.write_text("id,total\n1,3.5\n", encoding="utf-8")


def _damaged(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_not_sqlite, "not a SQLite database"),
        (_foreign_sqlite, "not one of CICIE"),
        (_unknown_revision, "does not know"),
        (_damaged, "SQLite"),
    ],
)
def test_restore_refuses_a_file_that_is_not_a_backup_of_this_application(
    database_url: str, tmp_path: Path, make: Callable[[Path], None], words: str
) -> None:
    live = sqlite_file(database_url)
    before = snapshot(database_url)
    candidate = tmp_path / "candidate.db"
    make(candidate)
    result = cicie(database_url, tmp_path / "home", "db", "restore", candidate, "--json")
    message = refused(result, "invalid_backup")
    assert words in message
    assert message in result.stderr
    assert_same(snapshot(database_url), before)
    assert not list(live.parent.glob("*before-restore*"))


@SQLITE_ONLY
def test_restore_refuses_while_another_process_has_the_database_open(
    database_url: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    live = sqlite_file(database_url)
    backup = tmp_path / "b.db"
    ok_json(cicie(database_url, home, "db", "backup", backup, "--json"))
    server = Database(database_url)  # a server that was not stopped: an idle pooled connection
    try:
        assert server.ping()
        result = cicie(database_url, home, "db", "restore", backup, "--json")
        assert "stop the web and worker services" in refused(result, "database_in_use")
        assert not list(live.parent.glob("*before-restore*"))
    finally:
        server.dispose()
    ok_json(cicie(database_url, home, "db", "restore", backup, "--json"))


@SQLITE_ONLY
def test_restore_of_an_older_backup_leaves_its_revision_for_db_upgrade(
    tmp_path: Path, database_url: str
) -> None:
    home = tmp_path / "home"
    script = _script_directory()
    head = script.get_current_head()
    older = script.get_revision(head).down_revision
    assert isinstance(older, str)
    old_db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(old_db, older)
    old_db.dispose()
    backup = tmp_path / "old-backup.db"
    ok_json(cicie(f"sqlite:///{tmp_path / 'old.db'}", home, "db", "backup", backup, "--json"))

    result = cicie(database_url, home, "db", "restore", backup)
    assert result.exit_code == 0, result.output + result.stderr
    assert f"Run `cicie db upgrade` to bring the schema to {head}." in result.stdout
    check = Database(database_url)
    try:
        assert migrate.current_revision(check) == older
    finally:
        check.dispose()
    upgraded = cicie(database_url, home, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert f"database at revision {head}" in upgraded.stdout


def test_restore_into_a_home_without_a_database_creates_it(tmp_path: Path) -> None:
    source = tmp_path / "src.db"
    db = Database(f"sqlite:///{source}")
    migrate.upgrade(db)
    db.dispose()
    backup = tmp_path / "b.db"
    ok_json(cicie(f"sqlite:///{source}", tmp_path, "db", "backup", backup, "--json"))
    target = f"sqlite:///{tmp_path / 'new' / 'cicie.db'}"
    restored = ok_json(cicie(target, tmp_path, "db", "restore", backup, "--json"))
    assert restored["previous"] is None
    assert_same(snapshot(target), snapshot(f"sqlite:///{source}"))


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_postgresql_is_refused_with_the_pg_dump_recipe(tmp_path: Path, command: str) -> None:
    url = "postgresql://cicie@127.0.0.1:1/cicie"  # never contacted
    (tmp_path / "x.db").write_bytes(b"")
    message = refused(
        cicie(url, tmp_path, "db", command, tmp_path / "x.db", "--json"), "unsupported_database"
    )
    assert "pg_dump -Fc" in message
    assert "pg_restore --clean --if-exists --no-owner" in message
    assert "Back up and restore" in message


# ---------------------------------------------------------------- PostgreSQL
def _pg_tools() -> tuple[str, str]:
    """pg_dump and pg_restore, of a major version that can read the server's."""
    pg_dump, pg_restore = shutil.which("pg_dump"), shutil.which("pg_restore")
    problem = None
    if not pg_dump or not pg_restore:
        problem = "pg_dump / pg_restore are not installed (Debian: postgresql-client)"
    else:
        tool = subprocess.run([pg_dump, "--version"], capture_output=True, text=True, check=True)
        match = re.search(r"(\d+)\.\d+", tool.stdout)
        eng = sa.create_engine(PG_ADMIN_URL, poolclass=sa.NullPool)
        with eng.connect() as conn:
            server = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000
        eng.dispose()
        if not match or int(match.group(1)) < server:
            problem = f"{tool.stdout.strip()} cannot dump a PostgreSQL {server} server"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem} (CI=true: the PostgreSQL backup recipe must be tested)")
        pytest.skip(problem)
    assert pg_dump
    assert pg_restore
    return pg_dump, pg_restore


def libpq(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def fresh_postgres_database() -> Iterator[str]:
    name = f"cicie_restore_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@POSTGRES_ONLY
def test_postgresql_round_trip_with_the_documented_pg_dump_and_pg_restore(
    database_url: str, runtime: Runtime, clock: ManualClock, tmp_path: Path, request: Any
) -> None:
    pg_dump, pg_restore = _pg_tools()
    populate(runtime, clock)
    at_backup = snapshot(database_url)
    assert_realistic(at_backup)

    # docs/operations.md, "Back up and restore": taken while the application runs
    dump = tmp_path / "cicie.dump"
    subprocess.run([pg_dump, "-Fc", f"--file={dump}", libpq(database_url)], check=True)
    change_everything(runtime, clock)
    assert snapshot(database_url) != at_backup

    # into a new, empty database …
    target = request.getfixturevalue("fresh_postgres_database")
    restore = [pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    subprocess.run([*restore, f"--dbname={libpq(target)}", str(dump)], check=True)
    assert_same(snapshot(target), at_backup)

    # … and over one that has moved on since (the usual case: the same database, restored)
    later = engine_on(target, clock)
    try:
        later.create("seminar", emb_code="EMB-0", title="lost", actor=COORDINATOR)
        with later.db.transaction() as conn:
            conn.exec_driver_sql("DELETE FROM report_attachment")
    finally:
        later.db.dispose()
    subprocess.run([*restore, f"--dbname={libpq(target)}", str(dump)], check=True)
    assert_same(snapshot(target), at_backup)

    # the sequences came back too: the next request takes the next id
    after = engine_on(target, clock)
    try:
        view = after.create("seminar", emb_code="EMB-0", title="next", actor=COORDINATOR)
        assert view.id == max(row[0] for row in at_backup["request"][1]) + 1
        assert migrate.current_revision(after.db) == migrate.head_revision(after.db)
    finally:
        after.db.dispose()


@SQLITE_ONLY
def test_the_database_itself_is_neither_a_backup_target_nor_a_backup(
    database_url: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    live = sqlite_file(database_url)
    before = snapshot(database_url)
    for target in (live, Path(f"{live}-wal")):
        result = cicie(database_url, home, "db", "backup", target, "--force", "--json")
        assert "the database itself" in refused(result, "already_exists")
    result = cicie(database_url, home, "db", "restore", live, "--json")
    assert "the database itself" in refused(result, "invalid_backup")
    assert_same(snapshot(database_url), before)
    assert not list(live.parent.glob("*before-restore*"))


@SQLITE_ONLY
def test_a_backup_folder_that_cannot_be_made_is_a_clear_refusal(
    database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    target = tmp_path / "a-file" / "b.db"
    result = cicie(database_url, tmp_path / "home", "db", "backup", target, "--json")
    assert "a-file" in refused(result, "file_error")
