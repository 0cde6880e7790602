"""`cicie request show` on SQLite answers without the command tree (issue 16, item 5:
`cli/lean_show.py`), and says exactly what the tree says: the same rows read (plain `sqlite3`
against SQLAlchemy, on one seeded database of the five programmes), the same settings
(`config.env` against `Settings()`), the same output and exit code, in English and Spanish,
with warnings and refused actions — while importing none of the heavy libraries."""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import typing
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from babel.support import Translations
from typer.testing import CliRunner

from cli import lean_show
from cli.lean_show import ShowArgs, parse_argv, sqlite_file
from config import env, file_cache
from config.settings import Settings
from engine import calendars
from engine.registry import _stored_versions, stored_versions
from engine.timers import emb_country
from storage import migrate, reads, requests, workflow_versions
from storage.db import Database
from storage.sqlite_read import SqliteReader

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "pydantic_settings",
    "typer",
    "click",
    "holidays",
    "yaml",
    "fastapi",
    "jinja2",
)
PROGRAMMES = (
    "international_workshop",
    "internship",
    "specialization_course",
    "seminar",
    "technical_assistance",
)


# ---------------------------------------------------------------- a seeded home
@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CICIE_HOME on SQLite with requests of every programme in many states, driven by the
    engine over a year (as `bench/cli.py` seeds it), with copies."""
    sys.path.insert(0, str(ROOT))
    from bench.web import seed

    found = tmp_path_factory.mktemp("lean") / "home"
    seed(found, 90, 60, random.Random(2026), None)
    return found


def _clean_env(home: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.lower().startswith("cicie_")}
    out.pop("PYTHONDONTWRITEBYTECODE", None)
    out.update({"CICIE_HOME": str(home), "CICIE_ENVIRONMENT": "test"})
    return out


@pytest.fixture
def in_home(home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """This process's environment pointing at the seeded home (no `.env` in the working
    directory); the lean path's process-wide caches forgotten afterwards."""
    for key in list(os.environ):
        if key.lower().startswith("cicie_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("CICIE_HOME", str(home))
    monkeypatch.setenv("CICIE_ENVIRONMENT", "test")
    monkeypatch.chdir(tmp_path)
    yield home
    file_cache.use_dir(None)
    calendars._store.cache_clear()


def _ids_by_programme(home: Path) -> dict[str, list[tuple[int, str]]]:
    with sqlite3.connect(home / "cicie.db") as conn:
        rows = conn.execute("SELECT id, programme, state FROM request ORDER BY id").fetchall()
    out: dict[str, list[tuple[int, str]]] = {}
    for rid, programme, state in rows:
        out.setdefault(programme, []).append((int(rid), str(state)))
    return out


# ---------------------------------------------------------------- the reads
def test_the_plain_sqlite_reads_return_what_sqlalchemy_returns(home: Path) -> None:
    path = home / "cicie.db"
    db = Database(f"sqlite:///{path}")
    by_programme = _ids_by_programme(home)
    assert set(by_programme) == set(PROGRAMMES)
    ids = [rid for rows in by_programme.values() for rid, _ in rows]
    try:
        with db.read() as conn, SqliteReader(path) as lean:
            for rid in [*ids, max(ids) + 1]:
                # repr: the datetimes' zone and the decoded JSON, not only equal values
                assert repr(lean.get(rid)) == repr(requests.get(conn, rid))
                assert repr(reads.get(lean, rid)) == repr(reads.get(conn, rid))
            some_year = 0
            for programme in PROGRAMMES:
                for year in range(2023, 2030):
                    found = lean.in_year(programme, year)
                    assert repr(found) == repr(requests.in_year(conn, programme, year))
                    assert repr(reads.in_year(lean, programme, year)) == repr(found)
                    some_year += len(found)
            assert some_year > 0
            codes = [c for (c,) in lean.connection.execute("SELECT code FROM emb")]
            for code in [*codes, "NO-SUCH-EMB", None]:
                expected = emb_country(conn, code)
                assert reads.emb_country(lean, code) == expected
                assert reads.emb_country(conn, code) == expected
            stored = _stored_versions(conn)
            assert stored_versions(lean.stored_versions()) == stored
            for (name, _checksum), version in stored.items():
                source = workflow_versions.source_of(conn, name, version)
                assert lean.source_of(name, version) == source
                assert reads.source_of(lean, name, version) == source
            assert lean.source_of("internship", 999) is None
            assert lean.stored_revision() == migrate.stored_revision(db) == migrate.file_head()
    finally:
        db.dispose()


def test_the_cache_names_the_loaders_base_folder() -> None:
    from workflows.load import cache, extends

    assert cache.BASE_DIR == extends.BASE_DIR


# ---------------------------------------------------------------- the settings
SURE = [
    {},
    {"CICIE_HOME": "/srv/cicie"},
    {"CICIE_HOME": "relative/home", "CICIE_DATABASE_URL": "sqlite:///elsewhere.db"},
    {"cicie_timezone": "Europe/Madrid", "CICIE_REMINDER_HOUR": "0", "CICIE_LANGUAGE": "fr"},
    {"CICIE_LANG": "en", "CICIE_REMINDER_HOUR": "23", "CICIE_WORKFLOW_DIR": "/srv/wf"},
    {"CICIE_DATABASE_URL": "", "CICIE_PORT": "8080", "CICIE_SECRET_KEY": "k" * 40},
    {"CICIE_SMTP_TIMEOUT": "2.5", "CICIE_SHUTDOWN_GRACE": "0", "CICIE_LOG_LEVEL": "DEBUG"},
    {"CICIE_DEBUG": "1", "CICIE_SOMETHING_ELSE": "x"},  # not settings: ignored by both
]
UNSURE = [
    {"CICIE_REMINDER_HOUR": "24"},
    {"CICIE_REMINDER_HOUR": " 7"},
    {"CICIE_PORT": "8e3"},
    {"CICIE_SECRET_KEY": "short"},
    {"CICIE_LANG": "pt"},
    {"CICIE_LANG": ""},
    {"CICIE_DISPATCH_INTERVAL": "0"},
    {"CICIE_HOME": "/a", "cicie_home": "/b"},
]


def _set_env(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for key in list(os.environ):
        if key.lower().startswith("cicie_"):
            monkeypatch.delenv(key)
    for key, value in values.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize("values", SURE)
def test_the_read_settings_are_those_of_settings(
    values: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _set_env(monkeypatch, values)
    monkeypatch.chdir(tmp_path)
    lean = env.read_settings()
    full = Settings()
    assert lean is not None
    assert lean.home == full.home
    assert lean.database_url == full.database_url
    assert lean.resolved_database_url == full.resolved_database_url
    assert (lean.timezone, lean.reminder_hour) == (full.timezone, full.reminder_hour)
    assert (lean.language, lean.lang) == (full.language, full.lang)
    assert lean.workflow_dir == full.workflow_dir


@pytest.mark.parametrize("values", UNSURE)
def test_settings_it_cannot_vouch_for_are_left_to_settings(
    values: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _set_env(monkeypatch, values)
    monkeypatch.chdir(tmp_path)
    assert env.read_settings() is None


def test_a_dot_env_file_is_left_to_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _set_env(monkeypatch, {})
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("CICIE_TIMEZONE=Europe/Madrid\n", encoding="utf-8")
    assert env.read_settings() is None
    assert Settings().timezone == "Europe/Madrid"


def test_every_setting_is_listed_with_what_it_accepts() -> None:
    assert set(env.FIELDS) == set(Settings.model_fields)
    for name, kind in env.FIELDS.items():
        if isinstance(kind, tuple) and kind[0] == "choice":
            annotation = Settings.model_fields[name].annotation
            choices = {a for arg in typing.get_args(annotation) for a in typing.get_args(arg)}
            choices |= set(typing.get_args(annotation))
            assert set(kind[1]) <= choices, name


# ---------------------------------------------------------------- the command line
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["request", "show", "7"], ShowArgs(7)),
        (["request", "show", "--json", "7"], ShowArgs(7, as_json=True)),
        (
            ["request", "show", "7", "--as", "intern:maria", "--lang=es", "--json"],
            ShowArgs(7, True, "intern:maria", "es"),
        ),
        (["request", "show", "--as=partner", "12"], ShowArgs(12, actor="partner")),
        (["request", "show"], None),
        (["request", "show", "7", "8"], None),
        (["request", "show", "7", "--help"], None),
        (["request", "show", "7", "--json", "--json"], None),
        (["request", "show", "7", "--as"], None),
        (["request", "show", "7", "--as", "--json"], None),
        (["request", "show", "-7"], None),
        (["request", "show", "07"], None),
        (["request", "show", "7", "--lang", "es", "--lang", "en"], None),
        (["request", "show", "7", "--verbose"], None),
        (["request", "list"], None),
    ],
)
def test_only_this_command_line_is_answered_here(
    argv: list[str], expected: ShowArgs | None
) -> None:
    assert parse_argv(argv) == expected


def test_only_a_plain_sqlite_file_is_opened_here() -> None:
    assert sqlite_file("sqlite:////srv/cicie/cicie.db") == Path("/srv/cicie/cicie.db")
    assert sqlite_file("sqlite:///var/cicie.db") == Path("var/cicie.db")
    for other in (
        "postgresql+psycopg://cicie@db/cicie",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite+pysqlite:///x.db",
        "sqlite:///x.db?timeout=3",
        "sqlite:///my%20home/x.db",
    ):
        assert sqlite_file(other) is None


# ---------------------------------------------------------------- the output
def _full(argv: list[str]) -> tuple[int, str]:
    """The command tree's answer, in this process (`cli.main.app`)."""
    from cli.main import app

    result = CliRunner().invoke(app, argv)
    return result.exit_code, result.stdout


def _chosen(home: Path) -> list[int]:
    """Requests of every programme, in as many states as there are (up to four each)."""
    chosen = []
    for rows in _ids_by_programme(home).values():
        states: dict[str, int] = {}
        for rid, state in rows:
            states.setdefault(state, rid)
        chosen += list(states.values())[:4]
    return chosen


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_lean_answer_is_the_command_trees(in_home: Path, lang: str) -> None:
    seen: dict[str, int] = {"warnings": 0, "refused by a rule": 0, "refused for the role": 0}
    for rid in _chosen(in_home):
        for actor in ("coordinator", "intern:maria"):
            for form in (["--json"], []):
                argv = ["request", "show", str(rid), "--lang", lang, "--as", actor, *form]
                args = parse_argv(argv)
                assert args is not None
                lean = lean_show._answer(args) + "\n"
                assert _full(argv) == (0, lean), argv
                if form:
                    payload = json.loads(lean)
                    seen["warnings"] += bool(payload["warnings"])
                    for action in payload["available"]:
                        if not action["allowed"]:
                            codes = {r["code"] for r in action["reasons"]}
                            role = codes == {"role"}
                            seen["refused for the role" if role else "refused by a rule"] += 1
    assert all(seen.values()), seen


def test_the_language_comes_from_the_settings_without_lang(
    in_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CICIE_LANGUAGE", "es")
    rid = _chosen(in_home)[0]
    argv = ["request", "show", str(rid)]
    args = parse_argv(argv)
    assert args is not None
    lean = lean_show._answer(args) + "\n"
    assert _full(argv) == (0, lean)
    monkeypatch.setenv("CICIE_LANG", "fr")
    assert _full(argv) == (0, lean_show._answer(args) + "\n")


# ---------------------------------------------------------------- in a process of its own
def _cicie(home: Path, *argv: str, lean: bool = True, importtime: bool = False) -> Any:
    environ = _clean_env(home)
    if not lean:
        environ["CICIE_LEAN_SHOW"] = "0"
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run(
        [sys.executable, *flags, "-m", "cli.main", *argv],
        cwd=home.parent,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _imported(stderr: str) -> set[str]:
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


@pytest.mark.parametrize("lang", ["en", "es"])
def test_request_show_imports_none_of_the_heavy_libraries(home: Path, lang: str) -> None:
    rid = _chosen(home)[0]
    argv = ("request", "show", str(rid), "--json", "--lang", lang)
    _cicie(home, *argv)  # warms the caches of this home
    done = _cicie(home, *argv, importtime=True)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = _imported(done.stderr)
    assert "storage.sqlite_read" in imported  # the lean path answered
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert heavy == []
    assert "babel.messages.pofile" not in imported  # the catalogue compiled once, kept
    full = _cicie(home, *argv, lean=False)
    assert (full.returncode, full.stdout) == (0, done.stdout)
    assert json.loads(done.stdout)["id"] == rid


def test_the_kept_translations_are_the_catalogues(tmp_path: Path) -> None:
    import i18n

    try:
        file_cache.use_dir(tmp_path)
        for lang in ("es", "fr", "pt", "ar"):
            expected = dict(Translations(BytesIO(i18n._mo(lang)))._catalog)
            for _ in ("written", "read back"):
                i18n.translations.cache_clear()
                kept = i18n.translations(lang)
                assert dict(kept._catalog) == expected  # type: ignore[attr-defined]
            assert len(list(tmp_path.glob(f"messages-{lang}-*.pickle"))) == 1
    finally:
        file_cache.use_dir(None)
        i18n.translations.cache_clear()


@pytest.mark.parametrize(
    "argv",
    [
        ["request", "show", "999999", "--json"],
        ["request", "show", "999999"],
        ["request", "show", "1", "--as", "nobody", "--json"],
        ["request", "show", "1", "--lang", "xx"],
    ],
)
def test_refusals_are_said_as_the_command_tree_says_them(home: Path, argv: list[str]) -> None:
    lean = _cicie(home, *argv)
    full = _cicie(home, *argv, lean=False)
    assert lean.returncode != 0
    assert (lean.returncode, lean.stdout, lean.stderr) == (
        full.returncode,
        full.stdout,
        full.stderr,
    )


def _older_revision() -> str:
    graph = migrate._revision_graph()
    assert graph is not None
    revisions, _parents = graph
    return sorted(revisions - {migrate.file_head()})[0]


def test_a_schema_behind_is_exit_4_as_in_the_command_tree(home: Path, tmp_path: Path) -> None:
    behind = tmp_path / "home"
    shutil.copytree(home, behind)
    with sqlite3.connect(behind / "cicie.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (_older_revision(),))
    lean = _cicie(behind, "request", "show", "1", "--json")
    full = _cicie(behind, "request", "show", "1", "--json", lean=False)
    assert lean.returncode == 4
    assert (lean.returncode, lean.stdout, lean.stderr) == (
        full.returncode,
        full.stdout,
        full.stderr,
    )
