"""Inputs that used to crash the loader (or pass it and crash the first request) are refused
with `path:line: message`; YAML is read by the 1.2 rules, so `NO` and `yes` stay words."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import DefinitionProblem, InvalidDefinition
from workflows.loader import load_file, load_text

LABEL = "{es: X, en: X, fr: X}"
TINY = f"""\
workflow: tiny
title: {LABEL}
initial: a
fields:
  event_start: {{type: date, label: {LABEL}}}
  answer: {{type: enum, values: [yes, no], label: {LABEL}}}
  country: {{type: enum, values: [MX, NO, ON], label: {LABEL}}}
states:
  a: {{label: {LABEL}}}
  done: {{label: {LABEL}, final: true}}
transitions:
  - {{trigger: finish, source: a, dest: done, label: {LABEL}}}
timers:
  - id: nudge
    label: {LABEL}
    kind: reminder
    states: [a]
    at: {{entered: 14}}
    repeat: {{every: 7, times: 3}}
    notify: [{{template: reminder, to: [coordinator]}}]
  - id: before_start
    label: {LABEL}
    kind: reminder
    states: [a]
    at: {{field: event_start, days: -30}}
    notify: [{{template: reminder, to: [coordinator], due: {{field: event_start, days: -7}}}}]
"""
BOMB = "".join(f"b{i}: &b{i} [{', '.join([f'*b{i - 1}' if i else 'x'] * 9)}]\n" for i in range(9))


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def refused(tmp_path: Path, content: str | bytes, name: str = "tiny") -> list[DefinitionProblem]:
    path = tmp_path / f"{name}.yaml"
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    with pytest.raises(InvalidDefinition) as caught:
        load_file(path)
    problems = list(caught.value.problems)
    assert all(str(p) == f"{path}:{p.line}: {p.message}" for p in problems)
    return problems


def only(problems: list[DefinitionProblem]) -> tuple[int, str]:
    (problem,) = problems
    return problem.line, problem.message


# ---------------------------------------------------------------- YAML 1.2
def test_yes_no_and_country_codes_stay_words() -> None:
    definition = load_text(TINY, "tiny.yaml", expected_name="tiny")
    assert definition.fields["answer"].values == ("yes", "no")
    assert definition.fields["country"].values == ("MX", "NO", "ON")


def test_yes_is_not_true_for_a_flag(tmp_path: Path) -> None:
    text = TINY.replace("final: true}", "final: yes}")
    problems = refused(tmp_path, text)
    assert (line_of(text, "final: yes"), "'final' is true or false, not 'yes'") in {
        (p.line, p.message) for p in problems
    }


def test_true_in_an_enum_is_refused_with_a_hint(tmp_path: Path) -> None:
    text = TINY.replace("values: [yes, no]", "values: [true, false]")
    line, message = only(refused(tmp_path, text))
    assert line == line_of(text, "values: [true, false]")
    assert message.startswith("enum field 'answer': True is not a value name")


# ---------------------------------------------------------------- numbers and days
@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "days: -30}",
            "days: 99999999999999999999}",
            "the number 99999999999999999999 is too large (the limit is ±1,000,000,000)",
        ),
        (
            "days: -30}",
            f"days: {'9' * 5000}}}",
            "the number 99999999999999999999… (5,000 characters) is too large "
            "(the limit is ±1,000,000,000)",
        ),
        (
            "{entered: 14}",
            "{entered: 3000000}",
            "'entered' is a whole number of days from 0 to 3,650 (ten years)",
        ),
        (
            "days: -30}",
            "days: -3651}",
            "'days' is a whole number from -3,650 to 3,650 (negative: before the date)",
        ),
        (
            "days: -7}",
            "days: 4000}",
            "'due: days' must be a whole number of days from -3,650 to 3,650",
        ),
        (
            "{every: 7, times: 3}",
            "{every: 365, times: 100}",
            "timer 'nudge' would fall due 36,149 days from its start; keep every occurrence "
            "within 3,650 days (ten years)",
        ),
    ],
    ids=["twenty-digits", "5000-digits", "entered", "days", "due", "repeat-span"],
)
def test_days_and_numbers_out_of_bounds_are_refused_at_their_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert TINY.count(old) == 1
    text = TINY.replace(old, new)
    assert only(refused(tmp_path, text)) == (line_of(text, new[:12]), message)


def test_offsets_at_the_bound_are_accepted() -> None:
    text = (
        TINY.replace("{entered: 14}", "{entered: 3650}")
        .replace("    repeat: {every: 7, times: 3}\n", "")
        .replace("days: -30}", "days: -3650}")
        .replace("days: -7}", "days: 3650}")
    )
    definition = load_text(text, "tiny.yaml", expected_name="tiny")
    assert [t.days for t in definition.timers] == [3650, -3650]
    assert definition.timers[1].notify[0].due_days == 3650


# ---------------------------------------------------------------- what PyYAML crashed on
def test_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    text = TINY + BOMB
    started = time.perf_counter()
    line, message = only(refused(tmp_path, text))
    assert time.perf_counter() - started < 5
    assert TINY.count("\n") < line <= text.count("\n")
    assert "more than 100,000 values (counting what its aliases repeat)" in message


def test_invalid_utf8_is_refused_at_its_line(tmp_path: Path) -> None:
    data = TINY.encode().replace(b"initial: a", b"initial: \xff", 1)
    assert only(refused(tmp_path, data)) == (
        3,
        "not UTF-8 text: byte 0xff in column 10 cannot be read; save the file as UTF-8",
    )


def test_a_control_character_is_refused_at_its_line(tmp_path: Path) -> None:
    text = TINY.replace("initial: a", "initial: a\x07")
    assert only(refused(tmp_path, text)) == (
        3,
        "the control character U+0007 is not allowed in a YAML file; remove it",
    )


def test_an_escaped_control_character_is_refused_at_its_line(tmp_path: Path) -> None:
    text = TINY.replace("title: {es: X,", 'title: {es: "X\\u0000",')
    assert only(refused(tmp_path, text)) == (
        2,
        "the text contains the control character U+0000; remove it",
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("!!python/name:os.system", "the tag !!python/name:os.system is not allowed"),
        ("!custom a", "the tag !custom is not allowed"),
        ("!!binary aGk=", "the tag !!binary is not allowed"),
    ],
)
def test_tags_are_refused_not_constructed(tmp_path: Path, value: str, message: str) -> None:
    text = TINY.replace("initial: a", f"initial: {value}")
    line, found = only(refused(tmp_path, text))
    assert line == 3
    assert found.startswith(message)


def test_merge_keys_are_refused(tmp_path: Path) -> None:
    text = TINY.replace("  a: {label:", "  a: {<<: {final: false}, label:")
    assert only(refused(tmp_path, text)) == (
        line_of(text, "<<"),
        "merge keys (<<) are not supported: write the keys out",
    )


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    text = TINY + "description: " + "[" * 60 + "x" + "]" * 60 + "\n"
    assert only(refused(tmp_path, text)) == (
        line_of(text, "description:"),
        "nested more than 40 levels deep; flatten the file",
    )


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    text = TINY + "description: &loop [*loop]\n"
    assert only(refused(tmp_path, text)) == (
        line_of(text, "description:"),
        "the alias *loop refers to the value that contains it (a loop)",
    )


def test_an_impossible_date_is_text_not_a_crash(tmp_path: Path) -> None:
    text = TINY.replace("title: {es: X,", "title: {es: 2016-02-30,")
    assert load_text(text, "tiny.yaml").title.es == "2016-02-30"


def test_a_second_document_is_refused(tmp_path: Path) -> None:
    text = TINY + "---\nworkflow: other\n"
    assert only(refused(tmp_path, text)) == (
        line_of(text, "---"),
        "a file holds one YAML document: remove the second '---'",
    )


# ---------------------------------------------------------------- files that are no workflow
def test_a_huge_file_is_refused_without_being_read(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    with open(path, "wb") as fh:
        fh.truncate(50 * 2**20)  # 50 MiB, sparse: nothing to read if it is not read
    with pytest.raises(InvalidDefinition) as caught:
        load_file(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:1: the file has 52,428,800 bytes; the limit is 1 MiB"
    ]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "this is a folder, not a file"),
        (lambda p: None, "cannot read the file: No such file or directory"),
    ],
    ids=["folder", "missing"],
)
def test_a_path_that_is_no_file_is_a_problem_of_line_one(
    tmp_path: Path, make: Callable[[Path], object], message: str
) -> None:
    path = tmp_path / "tiny.yaml"
    make(path)
    with pytest.raises(InvalidDefinition) as caught:
        load_file(path)
    assert [str(p) for p in caught.value.problems] == [f"{path}:1: {message}"]


def test_stored_text_is_held_to_the_same_limits() -> None:
    with pytest.raises(InvalidDefinition) as caught:
        load_text("x" * (2**20 + 1), "tiny.yaml (stored version 3)")
    (problem,) = caught.value.problems
    assert problem.path == "tiny.yaml (stored version 3)"
    assert problem.line == 1
