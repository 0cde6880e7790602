"""The one YAML reader of hand-written files: YAML 1.2 values, lines kept, everything bounded,
and nothing but `ReadRefused` raised whatever the text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config.yaml_reader import (
    Limits,
    LocatedDict,
    ReadProblem,
    ReadRefused,
    decode,
    line_of,
    parse,
    read_text,
)


def value(text: str) -> Any:
    found, problems = parse(f"v: {text}\n")
    assert problems == []
    return found["v"]


def refusal(text: str, limits: Limits = Limits()) -> ReadProblem:
    with pytest.raises(ReadRefused) as caught:
        parse(text, limits)
    (problem,) = caught.value.problems
    return problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("False", False),
        ("TRUE", True),
        ("yes", "yes"),
        ("no", "no"),
        ("NO", "NO"),
        ("on", "on"),
        ("Off", "Off"),
        ("y", "y"),
        ("~", None),
        ("null", None),
        ("", None),
        ("'true'", "true"),
        ("12", 12),
        ("-3650", -3650),
        ("010", 10),
        ("0o17", 15),
        ("0x1F", 31),
        ("1_000", "1_000"),
        ("1:30", "1:30"),
        ("0b101", "0b101"),
        ("1.5", 1.5),
        ("2016-02-01", "2016-02-01"),
        ("2016-02-30", "2016-02-30"),
        ("!!str 12", "12"),
        ("!!int '12'", 12),
        ("! yes", "yes"),
    ],
)
def test_scalars_follow_yaml_1_2(text: str, expected: Any) -> None:
    found = value(text)
    assert found == expected
    assert type(found) is type(expected)


def test_keys_are_the_text_written() -> None:
    found, problems = parse("NO: 1\ntrue: 2\n12: 3\n~: 4\n")
    assert problems == []
    assert list(found) == ["NO", "true", "12", "~"]


def test_lines_of_keys_and_items_are_kept() -> None:
    found, _ = parse("a:\n  b:\n    - x\n    - y\n")
    assert isinstance(found, LocatedDict)
    assert line_of(found, ("a", "b", 1)) == 4
    assert line_of(found, ("a", "missing")) == 1


def test_an_alias_repeats_its_anchor() -> None:
    found, problems = parse("label: &l {es: A, en: A, fr: A}\nother: *l\n")
    assert problems == []
    assert found["other"] == {"es": "A", "en": "A", "fr": "A"}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: 1\na: 2\n", 2, "duplicate key 'a'"),
        (
            "a: 99999999999\n",
            1,
            "the number 99999999999 is too large (the limit is ±1,000,000,000)",
        ),
        ("a: 1e400\n", 1, "the number 1e400 is too large (the limit is ±1,000,000,000)"),
        ("a: .nan\n", 1, ".nan is not a usable number; write a number or quote the text"),
        ("a: !!int x\n", 1, "'x' is not a int as its tag !!int says"),
        ("? [a]\n: 1\n", 1, "a key must be a name, not a list or mapping"),
        ("a: &x 1\nb: &x 2\n", 2, "the anchor &x is defined twice (first on line 1)"),
    ],
)
def test_problems_that_leave_the_rest_readable(text: str, line: int, message: str) -> None:
    _, problems = parse(text)
    assert problems == [ReadProblem(line, message)]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "the file is empty"),
        ("a: [1,\n", 2, "not valid YAML: did not find expected node content"),
        ("a: *b\n", 1, "unknown alias *b: no anchor &b before it"),
        ("a: 1\n---\nb: 2\n", 2, "a file holds one YAML document: remove the second '---'"),
        (
            "a:\n  b: \x1b\n",
            2,
            "the control character U+001B is not allowed in a YAML file; remove it",
        ),
    ],
)
def test_problems_that_stop_the_reading(text: str, line: int, message: str) -> None:
    assert refusal(text) == ReadProblem(line, message)


def test_limits_are_the_callers_to_choose() -> None:
    text = "a: [1, 2, 3]\nb: [4, 5, 6]\n"
    assert refusal(text, Limits(max_values=6)).line == 2
    assert refusal("a: {b: {c: 1}}\n", Limits(max_depth=2)).message == (
        "nested more than 2 levels deep; flatten the file"
    )
    assert refusal(text, Limits(max_bytes=10)).message == (
        "the file has 26 bytes; the limit is 10 bytes"
    )


def test_a_byte_order_mark_is_dropped_and_bad_bytes_are_located() -> None:
    assert decode(b"\xef\xbb\xbfa: 1\n") == "a: 1\n"
    with pytest.raises(ReadRefused) as caught:
        decode(b"a: 1\nb: \xc3(\n")
    assert caught.value.problems == [
        ReadProblem(
            2, "not UTF-8 text: byte 0xc3 in column 4 cannot be read; save the file as UTF-8"
        )
    ]


def test_read_text_refuses_what_is_not_a_small_regular_file(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: 1\n" * 10)
    with pytest.raises(ReadRefused) as caught:
        read_text(big, Limits(max_bytes=20))
    assert caught.value.problems[0].message.startswith("the file has 50 bytes")
    with pytest.raises(ReadRefused) as caught:
        read_text(tmp_path)
    assert caught.value.problems == [ReadProblem(1, "this is a folder, not a file")]
