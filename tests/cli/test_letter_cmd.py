"""`cicie request letter ID --delegate N --out FILE.pdf [--kind letter|agenda]` writes one
delegate's invitation letter or agenda pack as PDF, in the delegate's language; an unknown
request, a delegate number out of range and an event not confirmed are refused (exit 1) with
their own codes, and nothing is written. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from config.settings import Settings
from engine.service import Engine
from tests.documents.helpers import pdf_text, workshop

Run = Callable[..., Result]


@pytest.fixture
def cicie(settings: Settings, database_url: str) -> Run:
    env = {
        "CICIE_DATABASE_URL": database_url,
        "CICIE_HOME": str(settings.home),
        "CICIE_LANG": "en",
    }
    runner = CliRunner()

    def run(*args: Any) -> Result:
        return runner.invoke(app, [str(a) for a in args], env=env)

    return run


@pytest.fixture
def emb(make_emb: Callable[..., str]) -> str:
    return make_emb("TSE-HN", country="HN", language="es", name="Tribunal Supremo Electoral")


def test_the_command_writes_the_french_delegates_letter(
    cicie: Run, engine: Engine, emb: str, tmp_path: Path
) -> None:
    view = workshop(engine, emb)
    out = tmp_path / "letters" / "aminata.pdf"
    result = cicie("request", "letter", view.id, "--delegate", 2, "--out", out)
    assert result.exit_code == 0, result.output
    assert "invitation letter of delegate 2, in French" in result.stdout
    text = pdf_text(out.read_bytes())
    assert "Aminata Traoré" in text
    assert "du 6 juin 2016 au 10 juin 2016" in text


def test_the_agenda_pack_in_json(cicie: Run, engine: Engine, emb: str, tmp_path: Path) -> None:
    view = workshop(engine, emb)
    out = tmp_path / "agenda.pdf"
    result = cicie(
        "request", "letter", view.id, "--delegate", 1, "--kind", "agenda", "--out", out, "--json"
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["language"] == "es"
    assert shown["kind"] == "agenda"
    assert shown["bytes"] == out.stat().st_size
    assert "del 6 de junio de 2016 al 10 de junio de 2016" in pdf_text(out.read_bytes())


def _refused(result: Result, code: str) -> str:
    assert result.exit_code == 1, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == code, error
    return str(error["message"])


def test_a_delegate_out_of_range_is_refused_and_nothing_is_written(
    cicie: Run, engine: Engine, emb: str, tmp_path: Path
) -> None:
    view = workshop(engine, emb)
    out = tmp_path / "nobody.pdf"
    for n in (4, 99):
        result = cicie("request", "letter", view.id, "--delegate", n, "--out", out, "--json")
        message = _refused(result, "not_found")
        assert f"has no delegate {n} (its delegation has 3)" in message
    assert not out.exists()
    zero = cicie("request", "letter", view.id, "--delegate", 0, "--out", out)
    assert zero.exit_code == 2  # counted from 1: a usage error


def test_an_unknown_request_and_an_unconfirmed_event_are_refused(
    cicie: Run, engine: Engine, emb: str, tmp_path: Path
) -> None:
    out = tmp_path / "x.pdf"
    _refused(cicie("request", "letter", 999, "--delegate", 1, "--out", out, "--json"), "not_found")
    early = workshop(engine, emb, state="logistics")
    result = cicie("request", "letter", early.id, "--delegate", 1, "--out", out, "--json")
    assert "once its logistics are confirmed" in _refused(result, "conflict")
    assert not out.exists()


def test_other_commands_do_not_import_the_pdf_library() -> None:
    import subprocess
    import sys

    probe = (
        "import sys; from cli.main import app; from typer.testing import CliRunner; "
        "CliRunner().invoke(app, ['request', '--help']); "
        "print('fpdf' in sys.modules, 'documents.pdf' in sys.modules)"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert found.stdout.split() == ["False", "False"]
