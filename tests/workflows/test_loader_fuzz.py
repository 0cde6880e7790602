"""No content of a workflow file can crash the loader, and whatever it accepts can run.

Hypothesis mutates the shipped files — flipped bytes, control characters, invalid UTF-8, cut
files, scalars replaced by huge numbers, impossible dates, tags, aliases, deep nesting, alias
bombs, repeated or missing lines — and checks that the loader either refuses with problems that
are all `path:line: message`, or returns a definition that the real engine can create a request
of, walk along its example, and sweep the timers of with the clock twelve years on (on SQLite and
PostgreSQL, mail listener installed). Derandomized and bounded: the same cases on every run.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from config.catalogues import Catalogues, load_catalogues
from config.settings import Settings
from config.yaml_reader import parse, read_text
from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.errors import CicieError, InvalidDefinition
from engine.registry import WorkflowRegistry
from engine.service import Engine
from engine.sweep import TimerSweep
from notifications.wiring import install_mail
from storage import timers
from storage.db import Database
from workflows.definition import WorkflowDefinition
from workflows.load.extends import BASE_DIR
from workflows.loader import WORKFLOW_DIR, load_file, workflow_files
from workflows.template_index import scan

SHIPPED = {p.stem: p.read_bytes() for p in workflow_files()}
BASES = {str(p): len(p.read_text().splitlines()) + 1 for p in BASE_DIR.glob("*.yaml")}
EXAMPLES: dict[str, list[dict[str, Any]]] = {
    name: parse(read_text(WORKFLOW_DIR / "examples" / f"{name}.yaml"))[0]["steps"]
    for name in SHIPPED
}
TEMPLATES = scan()
START = datetime(2026, 1, 12, 15, 0, tzinfo=UTC)
LATER = START + timedelta(days=4400)  # past every offset a file may declare (≤ 3,650 days)
COORDINATOR = Actor("coordinator", "fuzz")
VALUE_LINE = re.compile(rb"^(\s*(?:- )?[A-Za-z_][\w]*: )(\S.*)$")
NUMBER = re.compile(rb"-?\d+")
OFFSET = re.compile(rb"\b(days|entered|every|times): (-?\d+)")
BOMB = b"".join(
    b"bomb_%d: &b%d [%s]\n" % (i, i, b", ".join([b"*b%d" % (i - 1) if i else b"x"] * 9))
    for i in range(9)
)
ODD_VALUES = [
    b"99999999999999999999",
    b"9" * 5000,
    b"3000000",
    b"3651",
    b"-3651",
    b"3650",
    b"0",
    b"-1",
    b"1.5",
    b"1e400",
    b".nan",
    b"0x10",
    b"2016-02-30",
    b"NO",
    b"yes",
    b"off",
    b"~",
    b"''",
    b"[]",
    b"{}",
    b"[yes, no]",
    b"{a: 1}",
    b"!custom x",
    b"!!python/name:os.system",
    b"!!binary aGk=",
    b"!!int x",
    b"*nowhere",
    b'"\\u0000"',
    b'"\\x07 bell"',
    b"x" * 30_000,
    b"[" * 45 + b"x" + b"]" * 45,
    b"{<<: {a: 1}}",
    b"&here [1, 2]",
]
GENTLE_VALUES = [
    b"0",
    b"1",
    b"30",
    b"-30",
    b"3650",
    b"-3650",
    b"true",
    b"false",
    b"[]",
    b"{es: " + b"L" * 5000 + b", en: 'E: e', fr: F}",  # a long label reaches mail and pages
]


# ---------------------------------------------------------------- mutations
Draw = Callable[[st.SearchStrategy[Any]], Any]


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _value_lines(lines: list[bytes]) -> list[int]:
    return [i for i, line in enumerate(lines) if VALUE_LINE.match(line)]


def flip_byte(draw: Draw, data: bytes) -> bytes:
    i = draw(st.integers(0, len(data) - 1))
    return data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1 :]


def insert_bytes(draw: Draw, data: bytes) -> bytes:
    i = draw(st.integers(0, len(data)))
    odd = draw(
        st.sampled_from([b"\x00", b"\x07", b"\x1b", b"\x7f", b"\xff", b"\xc3", b"\xed\xa0\x80"])
    )
    return data[:i] + odd + data[i:]


def truncate(draw: Draw, data: bytes) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def replace_value(draw: Draw, data: bytes, values: list[bytes] = ODD_VALUES) -> bytes:
    lines = _lines(data)
    candidates = _value_lines(lines)
    if not candidates:
        return data
    i = draw(st.sampled_from(candidates))
    match = VALUE_LINE.match(lines[i])
    assert match is not None
    lines[i] = match.group(1) + draw(st.sampled_from(values))
    return b"\n".join(lines)


def tweak_number(draw: Draw, data: bytes) -> bytes:
    lines = _lines(data)
    numbered = [i for i, line in enumerate(lines) if NUMBER.search(line)]
    if not numbered:
        return data
    i = draw(st.sampled_from(numbered))
    number = draw(st.integers(-5000, 5000) | st.sampled_from([10**20, -(10**12), 3_000_000]))
    lines[i] = NUMBER.sub(str(number).encode(), lines[i], count=1)
    return b"\n".join(lines)


def stretch_timer(draw: Draw, data: bytes) -> bytes:
    """A timer's or a message's offset in days (or its repeat) moved, often to an edge."""
    lines = _lines(data)
    offsets = [i for i, line in enumerate(lines) if OFFSET.search(line)]
    if not offsets:
        return data
    i = draw(st.sampled_from(offsets))
    edges = [0, 1, 100, 3650, -3650, 3651, -3651, 3_000_000, 10**9, -(10**9)]
    number = draw(st.sampled_from(edges) | st.integers(-4000, 4000))
    lines[i] = OFFSET.sub(rb"\1: " + str(number).encode(), lines[i], count=1)
    return b"\n".join(lines)


def duplicate_line(draw: Draw, data: bytes) -> bytes:
    lines = _lines(data)
    i = draw(st.integers(0, len(lines) - 1))
    return b"\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])


def delete_line(draw: Draw, data: bytes) -> bytes:
    lines = _lines(data)
    i = draw(st.integers(0, len(lines) - 1))
    return b"\n".join(lines[:i] + lines[i + 1 :])


def shift_line(draw: Draw, data: bytes) -> bytes:
    lines = _lines(data)
    i = draw(st.integers(0, len(lines) - 1))
    lines[i] = b"  " + lines[i] if draw(st.booleans()) else lines[i][2:]
    return b"\n".join(lines)


def alias(draw: Draw, data: bytes) -> bytes:
    """Anchor one value and repeat it, with an alias, in place of a later one."""
    lines = _lines(data)
    candidates = _value_lines(lines)
    if len(candidates) < 2:
        return data
    i, j = sorted(draw(st.lists(st.sampled_from(candidates), min_size=2, max_size=2)))
    first, later = VALUE_LINE.match(lines[i]), VALUE_LINE.match(lines[j])
    assert first is not None
    assert later is not None
    lines[i] = first.group(1) + b"&shared " + first.group(2)
    lines[j] = later.group(1) + b"*shared"
    return b"\n".join(lines)


def append_bomb(draw: Draw, data: bytes) -> bytes:
    return data + b"\n" + BOMB


def gentle_value(draw: Draw, data: bytes) -> bytes:
    return replace_value(draw, data, GENTLE_VALUES)


ANY_MUTATION = [
    flip_byte,
    insert_bytes,
    truncate,
    replace_value,
    tweak_number,
    duplicate_line,
    delete_line,
    shift_line,
    alias,
    append_bomb,
    stretch_timer,
]
GENTLE_MUTATIONS = [stretch_timer, stretch_timer, tweak_number, gentle_value, delete_line]


@st.composite
def mutated(draw: Draw, mutations: list[Any], most: int) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(SHIPPED)))
    data = SHIPPED[name]
    for _ in range(draw(st.integers(1, most))):
        if not data.strip():
            break
        mutation = draw(st.sampled_from(mutations))
        event(mutation.__name__)
        data = mutation(draw, data)
    return name, data


# ---------------------------------------------------------------- what must hold
def _load(tmp_path: Path, name: str, data: bytes) -> tuple[Path, WorkflowDefinition | None]:
    """Load the mutated file; a refusal must be `path:line: message`, every problem of it."""
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(data)
    try:
        return path, load_file(path, templates=TEMPLATES)
    except InvalidDefinition as exc:
        refusal = exc
    event("refused")
    assert refusal.problems
    assert refusal.to_dict()["code"] == "invalid_definition"
    text = data.decode("utf-8", "replace")
    last = max(data.count(b"\n"), len(text.splitlines())) + 1
    for problem in refusal.problems:
        # a base's part the file broke (e.g. a timer left without the recipients the file gives
        # it) is reported at the base's line
        where = problem.path if problem.path in BASES else str(path)
        assert problem.path == where
        assert 1 <= problem.line <= BASES.get(where, last), (problem, last)
        assert re.fullmatch(rf"{re.escape(where)}:\d+: [^\r\n]+", str(problem)), problem
    return path, None


@dataclass
class Bench:
    settings: Settings
    db: Database
    catalogues: Catalogues
    embs: Iterator[int]


@pytest.fixture
def bench(settings: Settings) -> Iterator[Bench]:
    db = Database(settings.resolved_database_url)
    yield Bench(settings, db, load_catalogues(), itertools.count(1))
    db.dispose()


def _run(bench: Bench, definition: WorkflowDefinition, steps: int) -> None:
    """Create a request, take up to `steps` steps of the example (a refusal ends the walk),
    then sweep with the clock past every timer; no timer may fail."""
    clock = ManualClock(START)
    registry = WorkflowRegistry(bench.catalogues, definitions={definition.name: definition})
    registry.sync(bench.db, clock)
    engine = Engine(bench.db, registry, bench.catalogues, clock=clock)
    install_mail(Runtime(bench.settings, bench.db, bench.catalogues, registry, engine))
    code = f"FUZZ-{next(bench.embs)}"
    engine.add_emb(code=code, name="Fuzzing EMB", country="KE", language="en")
    view = engine.create(definition.name, emb_code=code, title="Fuzzed", actor=COORDINATOR)
    for step in EXAMPLES[definition.name][:steps]:
        try:
            view = engine.advance(
                view.id, step["trigger"], Actor.parse(step["as"]), data=step.get("data") or {}
            )
        except CicieError:
            event("a step was refused")
            break
    clock.set(LATER)
    sweep = TimerSweep(engine, worker="fuzz", reminder_grace=timedelta(days=10**5))
    for _ in range(3):  # a deadline that moves the request may arm timers due at once
        report = sweep.run_once()
        if report.errors:
            with bench.db.read() as conn:
                failed = [t.outcome for t in timers.for_request(conn, view.id) if t.outcome]
            pytest.fail(f"{report.errors} timer(s) of an accepted file failed: {failed}")
        event(f"timers fired: {bool(report.fired)}")
        if not report.fired:
            break


FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@settings(FUZZ, max_examples=300)
@given(case=mutated(ANY_MUTATION, most=3))
def test_no_mutation_of_a_shipped_file_escapes_as_an_exception(
    tmp_path: Path, case: tuple[str, bytes]
) -> None:
    _load(tmp_path, *case)


@settings(FUZZ, max_examples=60)
@given(case=mutated(GENTLE_MUTATIONS, most=2), steps=st.integers(0, 12))
def test_what_the_loader_accepts_creates_requests_and_fires_timers(
    tmp_path: Path, bench: Bench, case: tuple[str, bytes], steps: int
) -> None:
    _path, definition = _load(tmp_path, *case)
    if definition is not None:
        event("accepted")
        _run(bench, definition, steps)
