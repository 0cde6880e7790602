"""`cicie mail preview` shows every shipped mail, in every language, without a request: the
bundled example of the programme that sends it, in the state it is sent from (a reminder
names its timer, a change of dates shows a sample move)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from i18n import LANGUAGES

TEMPLATES = sorted(
    p.name
    for p in (Path(__file__).parents[2] / "notifications" / "templates").iterdir()
    if p.is_dir() and p.name != "layout"
)
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_mail_previews_in_every_language(template: str, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"CICIE_HOME": str(tmp_path / "home")}
    for language in LANGUAGES:
        result = runner.invoke(
            app, ["mail", "preview", template, "--lang", language, "--json"], env=env
        )
        assert result.exit_code == 0, f"{template}/{language}: {result.output}"
        shown = json.loads(result.stdout)
        assert shown["language"] == language
        assert not SNAKE.search(shown["subject"]), shown["subject"]
        assert "T00:00" not in shown["text"]
