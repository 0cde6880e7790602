"""The one YAML reader of CICIE's hand-written files: workflows, catalogues, history files.

A file becomes plain values (dict, list, str, int, float, bool, None) whose mappings and lists
remember the line of every key and item, so a problem found long after reading (an unknown
guard three levels down) still says `file:line`. No input can make it raise anything but
`ReadRefused`: the file's size, the nesting depth and the number of values built (aliases
included: a 9-line "alias bomb" would otherwise expand to 10⁹ values) are bounded, bytes must be
UTF-8, scalars follow YAML 1.2 (see `config.yaml_scalars`), and no tag constructs an object.

Values are built from the parser's event stream with an explicit stack — never PyYAML's
recursive composer or constructor — using libyaml (`CSafeLoader`) when it is installed: about
ten times faster than the pure-Python parser, and its events carry the same line marks.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.yaml_scalars import ScalarLimits, ScalarRefused, check_text, resolve

if TYPE_CHECKING:  # PyYAML is imported when a file is parsed, not by the modules that only
    import yaml  # name this one's types (issue 16: `cicie request show` parses no YAML)
BOM = b"\xef\xbb\xbf"
# what YAML accepts in a stream (PyYAML's reader refuses the rest with a traceback); compiled
# when a file is first parsed (≈ 3 ms: not for the modules that only name this one's types)
NOT_YAML = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


@cache
def _not_yaml() -> re.Pattern[str]:
    return re.compile(NOT_YAML)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 1 << 20  # 1 MiB
    max_depth: int = 40
    max_values: int = 100_000  # every value built, counting what aliases repeat
    scalars: ScalarLimits = field(default_factory=ScalarLimits)


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class ReadProblem:
    line: int
    message: str


class ReadRefused(Exception):
    """The file cannot be read at all; `problems` says where and why."""

    def __init__(self, problems: list[ReadProblem]) -> None:
        super().__init__("; ".join(f"line {p.line}: {p.message}" for p in problems))
        self.problems = problems


class LocatedDict(dict[str, Any]):
    line: int
    key_lines: dict[str, int]


class LocatedList(list[Any]):
    line: int
    item_lines: list[int]


def _refuse(line: int, message: str) -> ReadRefused:
    return ReadRefused([ReadProblem(line, message)])


# ------------------------------------------------------------------ bytes → text
def read_text(path: Path | str, limits: Limits = DEFAULT_LIMITS) -> str:
    """A regular file's text, refused before reading when it is larger than the limit."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise _refuse(1, "this is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(1, "this is not a regular file")
        if info.st_size > limits.max_bytes:
            raise _too_big(info.st_size, limits)
        with open(path, "rb") as fh:
            data = fh.read(limits.max_bytes + 1)
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        raise _refuse(1, f"cannot read the file: {reason}") from None
    if len(data) > limits.max_bytes:
        raise _too_big(len(data), limits)
    return decode(data)


def _too_big(size: int, limits: Limits) -> ReadRefused:
    limit = limits.max_bytes
    shown = f"{limit / 2**20:g} MiB" if limit >= 2**20 else f"{limit:,} bytes"
    return _refuse(1, f"the file has {size:,} bytes; the limit is {shown}")


def decode(data: bytes) -> str:
    """UTF-8 (a byte-order mark is dropped); a byte that is not UTF-8 is refused at its line."""
    if data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _refuse(
            line,
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} in column {column} cannot be read; "
            "save the file as UTF-8",
        ) from None


# ------------------------------------------------------------------ text → values
def parse(text: str, limits: Limits = DEFAULT_LIMITS) -> tuple[Any, list[ReadProblem]]:
    """One YAML document → (value, problems that did not stop the reading, such as duplicate
    keys). Raises ReadRefused when nothing usable can be built."""
    if len(text) > limits.max_bytes:
        raise _too_big(len(text.encode("utf-8", "replace")), limits)
    text = text.removeprefix("\ufeff")
    bad = _not_yaml().search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise _refuse(
            line,
            f"the control character U+{ord(bad.group()):04X} is not allowed in a YAML file; "
            "remove it",
        )
    import yaml

    builder = _Builder(limits)
    try:
        for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            builder.feed(event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise _refuse(
            mark.line + 1 if mark else 1, f"not valid YAML: {exc.problem or exc}"
        ) from None
    except yaml.YAMLError as exc:  # a reader error without a mark: the NOT_YAML check above
        raise _refuse(1, f"not valid YAML: {exc}") from None  # keeps this from happening
    if builder.root is None:
        raise _refuse(1, "the file is empty")
    return builder.root.value, builder.problems


def line_of(root: Any, path: tuple[Any, ...]) -> int:
    """The line of the deepest element of `path` (keys and indexes) that exists."""
    current = root
    line = getattr(root, "line", 1)
    for step in path:
        if isinstance(current, LocatedDict) and isinstance(step, str) and step in current:
            line = current.key_lines.get(step, line)
            current = current[step]
        elif (
            isinstance(current, LocatedList) and isinstance(step, int) and 0 <= step < len(current)
        ):
            line = current.item_lines[step]
            current = current[step]
        else:
            break
    return line


# ------------------------------------------------------------------ the event stream
@dataclass
class _Built:
    value: Any
    size: int  # values it stands for, what its aliases repeat included
    key: str | None  # its text, when it can be a mapping key


@dataclass
class _Open:
    """A mapping or list being built."""

    value: LocatedDict | LocatedList
    anchor: str | None
    size: int = 1
    key: str | None = None  # mapping: the key waiting for its value
    key_line: int = 0
    expecting_key: bool = False  # a mapping between two entries
    dropped_key: bool = False  # the waiting key was refused: its value is not stored
    as_key: bool = False  # a mapping or list written where a key belongs


class _Builder:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.stack: list[_Open] = []
        self.anchors: dict[str, _Built] = {}
        self.anchor_lines: dict[str, int] = {}
        self.open_anchors: set[str] = set()
        self.problems: list[ReadProblem] = []
        self.values = 0
        self.documents = 0
        self.root: _Built | None = None

    def feed(self, event: yaml.Event) -> None:
        import yaml

        line = event.start_mark.line + 1 if event.start_mark else 1
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise _refuse(line, "a file holds one YAML document: remove the second '---'")
        elif isinstance(event, yaml.ScalarEvent):
            self._scalar(event, line)
        elif isinstance(event, yaml.AliasEvent):
            self._alias(event, line)
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self._start(event, line)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            self._end()

    def _count(self, size: int, line: int) -> None:
        self.values += size
        if self.values > self.limits.max_values:
            raise _refuse(
                line,
                f"the file holds more than {self.limits.max_values:,} values (counting what its "
                "aliases repeat); write it out more simply",
            )

    def _scalar(self, event: yaml.ScalarEvent, line: int) -> None:
        self._count(1, line)
        plain = event.tag is None and bool(event.implicit and event.implicit[0])
        if self.stack and self.stack[-1].expecting_key and not self.stack[-1].as_key:
            self._key(event.value, event.tag, plain, line)
            built = None
        else:
            try:
                value = resolve(event.value, event.tag, plain, self.limits.scalars)
            except ScalarRefused as exc:
                self.problems.append(ReadProblem(line, str(exc)))
                value = None
            built = _Built(value, 1, event.value if isinstance(value, str) or plain else None)
            self._add(built, line)
        if event.anchor:
            self._anchor(event.anchor, built or _Built(event.value, 1, event.value), line)

    def _key(self, text: str, tag: str | None, plain: bool, line: int) -> None:
        top = self.stack[-1]
        top.expecting_key, top.key, top.key_line, top.dropped_key = False, text, line, False
        message = None
        if plain and text == "<<":
            message = "merge keys (<<) are not supported: write the keys out"
        elif tag not in (None, "!", "tag:yaml.org,2002:str"):
            message = f"a key cannot carry the tag {tag}"
        elif len(text) > self.limits.scalars.max_chars:
            message = f"a key of {len(text):,} characters is too long"
        else:
            try:
                check_text(text)
            except ScalarRefused as exc:
                message = str(exc)
        if message:
            self.problems.append(ReadProblem(line, message))
            top.dropped_key = True

    def _alias(self, event: yaml.AliasEvent, line: int) -> None:
        name = event.anchor or ""
        if name in self.open_anchors:
            raise _refuse(line, f"the alias *{name} refers to the value that contains it (a loop)")
        target = self.anchors.get(name)
        if target is None:
            raise _refuse(line, f"unknown alias *{name}: no anchor &{name} before it")
        self._count(target.size, line)
        top = self.stack[-1] if self.stack else None
        if top is not None and top.expecting_key and not top.as_key:
            if target.key is None:
                self.problems.append(ReadProblem(line, f"*{name} cannot be a key: it is no name"))
                top.expecting_key, top.dropped_key, top.key_line = False, True, line
            else:
                self._key(target.key, None, False, line)
            return
        self._add(target, line)

    def _start(self, event: yaml.MappingStartEvent | yaml.SequenceStartEvent, line: int) -> None:
        if len(self.stack) >= self.limits.max_depth:
            raise _refuse(
                line, f"nested more than {self.limits.max_depth} levels deep; flatten the file"
            )
        self._count(1, line)
        if event.tag not in (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
            self.problems.append(
                ReadProblem(line, f"the tag {event.tag} is not allowed: write plain values")
            )
        import yaml

        value: LocatedDict | LocatedList
        if isinstance(event, yaml.MappingStartEvent):
            value = LocatedDict()
            value.key_lines = {}
        else:
            value = LocatedList()
            value.item_lines = []
        value.line = line
        top = self.stack[-1] if self.stack else None
        as_key = top is not None and (top.as_key or top.expecting_key)
        if as_key and top is not None and not top.as_key:
            self.problems.append(ReadProblem(line, "a key must be a name, not a list or mapping"))
        self.stack.append(
            _Open(value, event.anchor, expecting_key=isinstance(value, dict), as_key=as_key)
        )
        if event.anchor:
            self.open_anchors.add(event.anchor)

    def _end(self) -> None:
        done = self.stack.pop()
        built = _Built(done.value, done.size, None)
        if done.anchor:
            self.open_anchors.discard(done.anchor)
            self._anchor(done.anchor, built, done.value.line)
        top = self.stack[-1] if self.stack else None
        if top is not None and done.as_key:
            top.size += done.size
            if not top.as_key:  # the refused key's value will be read, then dropped
                top.expecting_key, top.dropped_key, top.key_line = False, True, done.value.line
        else:
            self._add(built, done.value.line)

    def _anchor(self, name: str, built: _Built, line: int) -> None:
        if name in self.anchor_lines:
            self.problems.append(
                ReadProblem(
                    line,
                    f"the anchor &{name} is defined twice (first on line "
                    f"{self.anchor_lines[name]})",
                )
            )
        self.anchor_lines[name] = line
        self.anchors[name] = built

    def _add(self, built: _Built, line: int) -> None:
        if not self.stack:
            self.root = built
            return
        top = self.stack[-1]
        top.size += built.size
        if top.as_key:
            return
        if isinstance(top.value, LocatedList):
            top.value.append(built.value)
            top.value.item_lines.append(line)
            return
        top.expecting_key = True
        if top.dropped_key or top.key is None:
            return
        if top.key in top.value:
            self.problems.append(ReadProblem(top.key_line, f"duplicate key '{top.key}'"))
        top.value[top.key] = built.value
        top.value.key_lines[top.key] = top.key_line


class ProblemCollector:
    """Gathers every problem of a parsed file with its line, so a file is refused once with all
    of them (catalogue readers subclass it and add their own checks)."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.problems: list[ReadProblem] = []

    def problem(self, where: tuple[Any, ...], message: str) -> None:
        self.problems.append(ReadProblem(line_of(self.root, where), message))


def problems_text(path: Any, problems: list[ReadProblem]) -> str:
    """`file:line: problem`, one per line."""
    return "\n".join(f"{path}:{p.line}: {p.message}" for p in problems)
