"""`cicie workflows check` answers for any file an officer points it at: `path:line: message`
per problem and exit 1, or the `invalid_definition` error document under --json — never a
traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from cli.main import app
from workflows.loader import WORKFLOW_DIR

Check = Callable[..., Result]


@pytest.fixture
def check(tmp_path: Path) -> Check:
    runner = CliRunner()
    env = {"CICIE_HOME": str(tmp_path / "home")}

    def run(*args: object) -> Result:
        return runner.invoke(app, ["workflows", "check", *map(str, args)], env=env)

    return run


def broken_copy(tmp_path: Path) -> tuple[Path, int]:
    text = (WORKFLOW_DIR / "internship.yaml").read_text(encoding="utf-8")
    text = text.replace(  # the file's own change to a timer its base declares
        "  - id: final_report_due_soon\n",
        "  - id: final_report_due_soon\n    at: {entered: 3000000}\n",
        1,
    )
    path = tmp_path / "copy.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if "entered: 3000000" in ln)
    return path, line


def test_each_problem_is_printed_as_path_line_message(check: Check, tmp_path: Path) -> None:
    path, line = broken_copy(tmp_path)
    result = check(path)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:{line}: 'entered' is a whole number of days from 0 to 3,650 (ten years)"
    ]
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_json_gives_the_invalid_definition_error(check: Check, tmp_path: Path) -> None:
    path, line = broken_copy(tmp_path)
    result = check(path, "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "invalid_definition"
    assert error["details"] == [
        {
            "path": str(path),
            "line": line,
            "message": "'entered' is a whole number of days from 0 to 3,650 (ten years)",
        }
    ]
    assert error["message"] in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"workflow: x\n\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8 text: byte 0x89 in column 1"),
        (b"\x00\x01\x02", "the control character U+0000 is not allowed"),
        (b"a: &a [x, x]\nb: &b [*a, *a]\n" + b"c: *b\n" * 20_000, "more than 100,000 values"),
    ],
    ids=["binary", "nul", "many-aliases"],
)
def test_any_content_is_refused_in_words(
    check: Check, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "odd.yaml"
    path.write_bytes(content)
    result = check(path)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{path}:")
    assert message in result.stdout
    assert "Traceback" not in result.output


def test_a_folder_is_its_workflow_files(check: Check, tmp_path: Path) -> None:
    result = check(WORKFLOW_DIR, "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["files"]) == 5
    empty = check(tmp_path)
    assert empty.exit_code == 1
    assert empty.stdout == f"{tmp_path}:1: no workflow files (*.yaml) here\n"


def test_a_missing_file_is_a_problem_not_a_crash(check: Check, tmp_path: Path) -> None:
    result = check(tmp_path / "nowhere.yaml")
    assert result.exit_code == 1
    assert result.stdout == (
        f"{tmp_path / 'nowhere.yaml'}:1: cannot read the file: No such file or directory\n"
    )
