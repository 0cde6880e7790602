"""A command line that answers at once (issue 16): `cicie --help` loads no database layer, the
commands that only look neither migrate nor take SQLite's write lock nor register workflow
versions, and the checked workflow definitions are kept between processes, rebuilt when a file
they depend on changes. Speed itself is the benchmark's (`bench/cli.py`), not a test's."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner, Result

from cli.main import _SUMMARIES, build_app
from storage import migrate
from storage.db import Database
from workflows.load import cache
from workflows.loader import WORKFLOW_DIR, load_all

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "fastapi", "alembic", "sqlmodel", "pydantic_settings", "jinja2")

Run = Callable[..., Result]


def _loaded_after(code: str) -> list[str]:
    """The heavy modules a fresh interpreter holds after running `code`."""
    probe = f"import sys\n{code}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1].replace("'", '"')))


def test_help_lists_every_command_without_loading_the_database_layer() -> None:
    code = "sys.argv = ['cicie', '--help']\nfrom cli.main import main\nmain()"
    assert _loaded_after(code) == []


def test_a_group_help_loads_no_database_layer_either() -> None:
    code = (
        "sys.argv = ['cicie', 'request', '--help']\n"
        "from cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    assert not {"sqlalchemy", "alembic", "fastapi"} & set(_loaded_after(code))


def test_the_quick_help_says_what_the_command_tree_says() -> None:
    tree = typer.main.get_command(build_app())
    assert isinstance(tree, typer.core.TyperGroup)
    listed = [
        (name, (tree.commands[name].help or "").split("\n\n")[0].replace("\n", " ").strip())
        for name in tree.list_commands(None)  # type: ignore[arg-type]
    ]
    assert list(_SUMMARIES) == listed, "update _SUMMARIES in cli/main.py"


def test_help_alone_prints_usage_and_commands() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("Usage: cicie [OPTIONS] COMMAND [ARGS]...")
    assert "--version" in done.stdout
    for name, _ in _SUMMARIES:
        assert f"\n  {name} " in done.stdout
    alone = subprocess.run(
        [sys.executable, "-m", "cli.main"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert alone.returncode == 2  # no command: a usage error, with the same listing
    assert alone.stdout == done.stdout


# ---------------------------------------------------------------- read-only commands
@pytest.fixture
def sqlite_file(tmp_path: Path, sqlite_template: Path) -> Path:
    path = tmp_path / "cicie.db"
    shutil.copy(sqlite_template, path)
    return path


def _runner(env: dict[str, str]) -> Run:
    runner = CliRunner()

    def run(*args: Any) -> Result:
        return runner.invoke(build_app(), [str(a) for a in args], env=env)

    return run


@pytest.fixture
def env(tmp_path: Path, sqlite_file: Path) -> dict[str, str]:
    return {
        "CICIE_DATABASE_URL": f"sqlite:///{sqlite_file}",
        "CICIE_HOME": str(tmp_path / "home"),
        "CICIE_LANG": "en",
    }


def _revision(path: Path) -> str | None:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    return str(rows[0][0]) if rows else None


def _workflow_versions(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM workflow_version").fetchone()[0])


def _older_database(path: Path) -> str:
    """A database left at an earlier revision, as an installation upgraded without
    `cicie db upgrade` has it; returns that revision."""
    path.unlink()
    older = sorted(migrate.known_revisions())[-3]
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db, older)
    db.dispose()
    return older


def test_a_read_only_command_on_an_older_schema_asks_for_db_upgrade_and_changes_nothing(
    env: dict[str, str], sqlite_file: Path
) -> None:
    older = _older_database(sqlite_file)
    for command in (["request", "list", "--json"], ["request", "show", "1", "--json"]):
        done = _runner(env)(*command)
        assert done.exit_code == 4, done.output
        error = json.loads(done.stdout)["error"]
        assert error["code"] == "schema_behind"
        assert "cicie db upgrade" in error["message"]
        assert older in error["message"]
        assert str(migrate.file_head()) in error["message"]
        assert "Traceback" not in done.stderr
    assert _revision(sqlite_file) == older
    assert _workflow_versions(sqlite_file) == 0


def test_a_database_migrated_by_a_newer_release_is_not_touched(
    env: dict[str, str], sqlite_file: Path
) -> None:
    with sqlite3.connect(sqlite_file) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    done = _runner(env)("request", "list", "--json")
    assert done.exit_code == 4
    assert json.loads(done.stdout)["error"]["code"] == "schema_newer"
    assert _revision(sqlite_file) == "9999_from_the_future"


def test_the_schema_error_speaks_the_chosen_language(
    env: dict[str, str], sqlite_file: Path
) -> None:
    _older_database(sqlite_file)
    done = _runner(env)("request", "list", "--lang", "es")
    assert done.exit_code == 4
    assert "ejecute `cicie db upgrade`" in done.stderr


def test_a_read_only_command_on_a_database_never_set_up_asks_for_db_upgrade(
    tmp_path: Path,
) -> None:
    home = tmp_path / "fresh"
    done = _runner({"CICIE_HOME": str(home), "CICIE_LANG": "en"})("request", "list", "--json")
    assert done.exit_code == 4
    assert json.loads(done.stdout)["error"]["code"] == "schema_behind"
    assert _revision_or_none(home / "cicie.db") is None


def _revision_or_none(path: Path) -> str | None:
    if not path.exists():
        return None
    with sqlite3.connect(path) as conn:
        found = conn.execute(
            "SELECT name FROM sqlite_master WHERE name = 'alembic_version'"
        ).fetchone()
    return _revision(path) if found else None


def test_a_writing_command_still_brings_an_older_schema_up_to_date(
    env: dict[str, str], sqlite_file: Path
) -> None:
    _older_database(sqlite_file)
    done = _runner(env)(
        "org", "add", "--code", "HN-TSE", "--name", "TSE", "--country", "HN", "--language", "es"
    )
    assert done.exit_code == 0, done.output
    assert _revision(sqlite_file) == migrate.file_head()


def test_a_read_only_command_registers_no_workflow_version(
    env: dict[str, str], sqlite_file: Path
) -> None:
    done = _runner(env)("workflows", "list", "--json")
    assert done.exit_code == 0, done.output
    listed = json.loads(done.stdout)
    assert {w["name"] for w in listed} == set(load_all())
    assert {w["version"] for w in listed} == {1}  # what each file will become
    assert _workflow_versions(sqlite_file) == 0


def test_a_read_only_command_answers_while_another_connection_holds_the_write_lock(
    env: dict[str, str], sqlite_file: Path
) -> None:
    run = _runner(env)
    added = run(
        "org", "add", "--code", "HN-TSE", "--name", "TSE", "--country", "HN", "--language", "es"
    )
    assert added.exit_code == 0, added.output
    made = run("request", "new", "seminar", "--org", "HN-TSE", "--title", "Forum", "--json")
    assert made.exit_code == 0, made.output
    request_id = json.loads(made.stdout)["id"]

    writer = sqlite3.connect(sqlite_file, isolation_level=None, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE request SET title = title WHERE id = ?", (request_id,))
        shown = run("request", "show", request_id, "--json")
        listed = run("request", "list", "--json")
        history = run("request", "history", request_id, "--json")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["id"] == request_id
    assert [r["id"] for r in json.loads(listed.stdout)] == [request_id]
    assert history.exit_code == 0, history.output


# ---------------------------------------------------------------- the definition cache
@pytest.fixture
def workflow_copy(tmp_path: Path) -> Path:
    """The shipped programmes (and their bases) in a folder of the test's own."""
    folder = tmp_path / "workflows"
    folder.mkdir()
    for path in WORKFLOW_DIR.glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    shutil.copytree(WORKFLOW_DIR / "base", folder / "base")
    return folder


def _cache_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{cache.PREFIX}*{cache.SUFFIX}"))


def test_the_cache_key_covers_the_template_folder_the_loader_reads() -> None:
    from workflows.template_index import TEMPLATE_DIR

    assert cache.TEMPLATE_DIR == TEMPLATE_DIR
    assert TEMPLATE_DIR / "layout" / "body.html" in cache._data_files(WORKFLOW_DIR)


def test_cached_definitions_equal_freshly_loaded_ones(workflow_copy: Path, tmp_path: Path) -> None:
    kept = tmp_path / "cache"
    first = load_all(workflow_copy, cache_dir=kept)
    assert len(_cache_files(kept)) == 1
    again = load_all(workflow_copy, cache_dir=kept)
    assert again == first == load_all(workflow_copy)
    assert {n: d.checksum for n, d in again.items()} == {n: d.checksum for n, d in first.items()}


def test_the_cache_is_rebuilt_when_a_workflow_file_changes(
    workflow_copy: Path, tmp_path: Path
) -> None:
    kept = tmp_path / "cache"
    before = load_all(workflow_copy, cache_dir=kept)
    [old_file] = _cache_files(kept)
    seminar = workflow_copy / "seminar.yaml"
    text = seminar.read_text(encoding="utf-8")
    assert "title: Seminar or International Forum" in text
    seminar.write_text(
        text.replace("title: Seminar or International Forum", "title: Seminar or Forum"),
        encoding="utf-8",
    )
    after = load_all(workflow_copy, cache_dir=kept)
    assert after["seminar"].title.get("en") == "Seminar or Forum"
    assert after["seminar"].checksum != before["seminar"].checksum
    assert after["internship"] == before["internship"]
    [new_file] = _cache_files(kept)
    assert new_file != old_file  # the stale one is gone


def test_a_changed_base_rebuilds_the_cache_too(workflow_copy: Path, tmp_path: Path) -> None:
    kept = tmp_path / "cache"
    load_all(workflow_copy, cache_dir=kept)
    [old_file] = _cache_files(kept)
    base = next((workflow_copy / "base").glob("*.yaml"))
    base.write_text(base.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    load_all(workflow_copy, cache_dir=kept)
    assert _cache_files(kept) != [old_file]


@pytest.mark.parametrize("content", [b"", b"not a pickle at all", b"\x80\x05K\x01."])
def test_a_corrupt_or_foreign_cache_is_ignored_and_rebuilt(
    workflow_copy: Path, tmp_path: Path, content: bytes
) -> None:
    kept = tmp_path / "cache"
    fresh = load_all(workflow_copy, cache_dir=kept)
    [kept_file] = _cache_files(kept)
    kept_file.write_bytes(content)
    assert load_all(workflow_copy, cache_dir=kept) == fresh
    assert kept_file.read_bytes() != content


def test_two_processes_building_the_cache_at_once_both_succeed(
    workflow_copy: Path, tmp_path: Path
) -> None:
    kept = tmp_path / "cache"
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from workflows.loader import load_all\n"
        "found = load_all(Path(sys.argv[1]), cache_dir=Path(sys.argv[2]))\n"
        "print(json.dumps({n: d.checksum for n, d in sorted(found.items())}))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    both = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(workflow_copy), str(kept)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    answers = [p.communicate(timeout=120) for p in both]
    assert [p.returncode for p in both] == [0, 0], answers
    first, second = (json.loads(out) for out, _err in answers)
    assert first == second == {n: d.checksum for n, d in load_all(workflow_copy).items()}
    assert len(_cache_files(kept)) == 1
    assert not [p for p in kept.iterdir() if p.name.startswith(".")]  # no temporary left


def test_a_command_uses_the_workflow_folder_of_the_settings(
    env: dict[str, str], workflow_copy: Path, tmp_path: Path
) -> None:
    seminar = workflow_copy / "seminar.yaml"
    seminar.write_text(
        seminar.read_text(encoding="utf-8").replace(
            "title: Seminar or International Forum", "title: Seminar or Forum"
        ),
        encoding="utf-8",
    )
    run = _runner({**env, "CICIE_WORKFLOW_DIR": str(workflow_copy)})
    for _ in range(2):  # building the cache, then reading it
        listed = json.loads(run("workflows", "list", "--json").stdout)
        assert {w["name"]: w["title"] for w in listed}["seminar"] == "Seminar or Forum"
    assert len(_cache_files(tmp_path / "home" / "cache")) == 1


def test_an_older_stored_version_is_kept_in_the_cache_too(
    sqlite_url: str, workflow_copy: Path, tmp_path: Path
) -> None:
    from config.catalogues import load_catalogues
    from engine.clock import ManualClock
    from engine.registry import WorkflowRegistry
    from tests.conftest import START

    seminar = workflow_copy / "seminar.yaml"
    seminar.write_text(
        seminar.read_text(encoding="utf-8").replace(
            "title: Seminar or International Forum", "title: Seminar or Forum"
        ),
        encoding="utf-8",
    )
    db = Database(sqlite_url)
    try:
        WorkflowRegistry(load_catalogues(), workflow_copy).sync(db, ManualClock(START))
        kept = tmp_path / "cache"
        for _ in range(2):  # checked and kept, then read back
            registry = WorkflowRegistry(load_catalogues(), WORKFLOW_DIR, cache_dir=kept)
            registry.sync(db, ManualClock(START))
            assert registry.current("seminar").version == 2
            with db.read() as conn:
                older = registry.get(conn, "seminar", 1)
            assert older.definition.title.get("en") == "Seminar or Forum"
        assert len(list(kept.glob(f"stored-*{cache.SUFFIX}"))) == 1
    finally:
        db.dispose()


def test_the_data_catalogues_are_kept_too_and_equal_fresh_ones(tmp_path: Path) -> None:
    from config.catalogues import load_catalogues

    kept = tmp_path / "cache"
    first = cache.cached_catalogues(kept, load_catalogues)
    again = cache.cached_catalogues(kept, lambda: pytest.fail("built again"))
    assert again == first == load_catalogues()
    (kept / f"catalogues{cache.SUFFIX}").write_bytes(b"garbage")
    assert cache.cached_catalogues(kept, load_catalogues) == first
