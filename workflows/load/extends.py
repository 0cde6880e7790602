"""Shared parts: a file that says `extends: NAME` is laid over `base/NAME.yaml`.

The five programmes share most of their rules (the closing states, decline / withdraw / hold,
the final report, the reminders); those live once in `workflows/base/`, and a programme file
holds only what is particular to it. A base is no programme (it has no `workflow:` and is never
registered); it may extend another base. The merge, done before any other stage so that every
later stage sees one document:

- top-level keys: the file's value replaces the base's, except `fields` and `states` (entries
  merged by name), `transitions` (by `trigger`, plus `source` where the base declares a trigger
  more than once) and `timers` (by `id`); `on_change` rules have no name and are replaced whole;
- an entry the file names again is merged key by key: each key it gives replaces the base's
  value whole (a list, a label, an `at:`), the other keys stay as the base has them;
- order: the base's entries first, in the base's order (a changed entry keeps its place), then
  the file's new entries in the file's order;
- deleting: `key: null` removes a top-level key, a field, a state, or a key of an entry; in
  `transitions` and `timers`, an entry `{trigger: …, remove: true}` (`{id: …, remove: true}`)
  removes the base's entry.

Values read from a base keep their lines as `SourceLine`s — a line that knows its file — so a
problem found in a base's part, at any later stage, is reported as `base/NAME.yaml:line`.

What a version stores must not change when a base changes later: `resolved_text` writes the
merged document as JSON (which YAML reads as it is, every text quoted), headed by a comment
naming the files it came from; the loader stores that, and its checksum, as the version's text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from config.yaml_reader import (
    DEFAULT_LIMITS,
    Limits,
    LocatedDict,
    LocatedList,
    ReadRefused,
    parse,
    read_text,
)
from workflows.errors import DefinitionProblem
from workflows.load.context import is_name

BASE_DIR = Path(__file__).resolve().parents[1] / "base"
BASE_KEY = "extends"
NAMED = ("fields", "states")  # mappings whose entries merge by name
KEYED = {"transitions": "trigger", "timers": "id"}  # lists whose entries merge by this key
REMOVE = "remove"
UNCLEAR = -1  # an entry that could change more than one of the base's
MAX_BASES = 8  # bases in one chain; a longer one is surely a mistake
# YAML (1.1 parsers) reads these as line breaks even inside a quoted text; JSON leaves them raw
LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029", "\ufeff": "\\ufeff"}


class SourceLine(int):
    """A line of another file than the one being loaded (a base's): the number, and the file."""

    path: str

    def __new__(cls, line: int, path: str) -> SourceLine:
        made = super().__new__(cls, line)
        made.path = path
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (SourceLine, (int(self), self.path))


@dataclass(frozen=True)
class Resolved:
    """A document with its bases laid under it, and the problems the merge found."""

    doc: LocatedDict
    bases: tuple[Path, ...]  # nearest first
    problems: list[DefinitionProblem]


def relocate(problems: Iterable[DefinitionProblem]) -> list[DefinitionProblem]:
    """Each problem in the file its line belongs to: a base's part names the base."""
    return [
        DefinitionProblem(p.line.path, int(p.line), p.message)
        if isinstance(p.line, SourceLine)
        else p
        for p in problems
    ]


def resolve(
    doc: LocatedDict,
    path: str,
    base_dirs: Sequence[Path] = (BASE_DIR,),
    limits: Limits = DEFAULT_LIMITS,
) -> Resolved:
    """`doc` (read from `path`) merged onto the chain of bases it extends. A base that cannot
    be found or read, or a cycle, is a problem of the line that names it; then `doc` is
    returned as it is and `bases` is empty (the caller stops: later problems would be noise)."""
    chain: list[tuple[Path, LocatedDict]] = []
    problems: list[DefinitionProblem] = []
    current, where, dirs = doc, path, tuple(base_dirs)
    while BASE_KEY in current:
        line = current.key_lines.get(BASE_KEY, current.line)
        found = _next_base(current[BASE_KEY], [p for p, _ in chain], dirs, len(chain))
        if isinstance(found, str):
            problems.append(DefinitionProblem(where, int(line), found))
            break
        base, read_problems = _read_base(found, limits)
        problems.extend(read_problems)
        if base is None:
            break
        chain.append((found, base))
        current, where, dirs = base, str(found), (found.parent, *base_dirs)
    if problems or not chain:  # no usable chain: no bases
        return Resolved(doc, (), problems)
    merged = _without_base_key(chain[-1][1])
    for where, layer in reversed([(path, doc), *((str(p), d) for p, d in chain[:-1])]):
        merged = _Merge(where, problems).document(merged, layer)
    return Resolved(merged, tuple(p for p, _ in chain), problems)


def resolved_text(doc: LocatedDict, path: str, bases: Sequence[Path]) -> str:
    """The self-contained text a version stores: the merged values as JSON, YAML's subset."""
    names = " and ".join(f"{b.parent.name}/{b.name}" for b in bases)
    body = json.dumps(doc, ensure_ascii=False, allow_nan=False, indent=2)
    for char, escape in LINE_BREAKS.items():  # only inside texts: JSON's syntax is ASCII
        body = body.replace(char, escape)
    return (
        f"# {Path(path).name} merged with {names}: the text this version stores,\n"
        "# whole, so that a later change to a base leaves it as it was.\n"
        f"{body}\n"
    )


# ---------------------------------------------------------------- finding and reading bases
def _next_base(name: Any, chain: list[Path], dirs: tuple[Path, ...], depth: int) -> Path | str:
    """The base file `name` stands for, or why there is none."""
    if not is_name(name):
        return f"'{BASE_KEY}' names a base: the name of a file in workflows/base/ without .yaml"
    looked: list[str] = []
    for folder in dirs:
        candidate = folder / f"{name}.yaml"
        if candidate.is_file():
            found = candidate.resolve()
            if found in chain:
                cycle = " → ".join([*(p.stem for p in chain[chain.index(found) :]), name])
                return f"the bases extend each other in a circle: {cycle}"
            if depth >= MAX_BASES:
                return f"more than {MAX_BASES} bases in a row; extend a nearer base"
            return found
        if str(folder) not in looked:
            looked.append(str(folder))
    return f"unknown base '{name}': no {name}.yaml in {' or '.join(looked)}"


def _read_base(path: Path, limits: Limits) -> tuple[LocatedDict | None, list[DefinitionProblem]]:
    where = str(path)
    try:
        return _parsed_base(where, read_text(path, limits), limits)
    except ReadRefused as exc:
        return None, [DefinitionProblem(where, p.line, p.message) for p in exc.problems]


@lru_cache(maxsize=16)
def _parsed_base(
    where: str, text: str, limits: Limits
) -> tuple[LocatedDict | None, list[DefinitionProblem]]:
    """A base's values, parsed once per text: every programme extends the same few bases, and
    nothing after this stage changes the values it reads (a merge builds new mappings)."""
    doc, read_problems = parse(text, limits)
    problems = [DefinitionProblem(where, p.line, p.message) for p in read_problems]
    if not isinstance(doc, LocatedDict):
        problems.append(DefinitionProblem(where, 1, "a base is a mapping (fields:, states: …)"))
        return None, problems
    if "workflow" in doc:
        problems.append(
            DefinitionProblem(
                where,
                doc.key_lines["workflow"],
                "a base is no programme: leave 'workflow:' to the files that extend it",
            )
        )
    _mark(doc, where)
    return (None if problems else doc), problems


def _mark(root: LocatedDict, path: str) -> None:
    """Every line in a base's values becomes a SourceLine of that base (shared values, from
    aliases, once)."""
    stack: list[Any] = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        node.line = SourceLine(node.line, path)
        if isinstance(node, LocatedDict):
            node.key_lines = {k: SourceLine(n, path) for k, n in node.key_lines.items()}
            children = node.values()
        else:
            node.item_lines = [SourceLine(n, path) for n in node.item_lines]
            children = node
        stack.extend(c for c in children if isinstance(c, LocatedDict | LocatedList))


# ---------------------------------------------------------------- merging
def _new_dict(line: int) -> LocatedDict:
    out = LocatedDict()
    out.line, out.key_lines = line, {}
    return out


def _put(out: LocatedDict, key: str, value: Any, line: int) -> None:
    out[key] = value
    out.key_lines[key] = line


def _without_base_key(doc: LocatedDict) -> LocatedDict:
    out = _new_dict(doc.line)
    for key, value in doc.items():
        if key != BASE_KEY:
            _put(out, key, value, doc.key_lines[key])
    return out


class _Merge:
    """One file (`path`) laid over its base; problems are the file's."""

    def __init__(self, path: str, problems: list[DefinitionProblem]) -> None:
        self.path = path
        self.problems = problems

    def problem(self, line: int, message: str) -> None:
        where = line.path if isinstance(line, SourceLine) else self.path
        self.problems.append(DefinitionProblem(where, int(line), message))

    def document(self, base: LocatedDict, doc: LocatedDict) -> LocatedDict:
        out = _new_dict(doc.line)
        for key, value in base.items():
            if key not in doc:
                _put(out, key, value, base.key_lines[key])
                continue
            mine = doc[key]
            if mine is None:  # removed
                continue
            if key in NAMED and isinstance(value, dict) and isinstance(mine, LocatedDict):
                mine = self.named(value, mine)
            elif key in KEYED and isinstance(value, list) and isinstance(mine, LocatedList):
                mine = self.keyed(value, mine, KEYED[key])
            _put(out, key, mine, doc.key_lines[key])
        for key, mine in doc.items():
            if key not in base and key != BASE_KEY:
                _put(out, key, mine, doc.key_lines[key])
        return out

    def named(self, base: dict[str, Any], doc: LocatedDict) -> LocatedDict:
        """`fields` / `states`: entries by name; `name: null` removes the base's entry."""
        assert isinstance(base, LocatedDict)
        out = _new_dict(doc.line)
        for name, value in base.items():
            if name not in doc:
                _put(out, name, value, base.key_lines[name])
            elif doc[name] is not None:
                _put(out, name, _entry(value, doc[name]), doc.key_lines[name])
        for name, mine in doc.items():
            if name not in base:
                _put(out, name, mine, doc.key_lines[name])
        return out

    def keyed(self, base: list[Any], doc: LocatedList, key: str) -> LocatedList:
        """`transitions` / `timers`: entries by `key`; `remove: true` removes the base's."""
        assert isinstance(base, LocatedList)
        merged: list[tuple[Any, int] | None] = list(zip(base, base.item_lines, strict=True))
        changed: dict[int, int] = {}  # base entry → line of the file's entry changing it
        added: list[tuple[Any, int]] = []
        for mine, line in zip(doc, doc.item_lines, strict=True):
            index = self.match(base, mine, key, line)
            if index == UNCLEAR:  # reported; neither a change nor a new entry
                continue
            removing = isinstance(mine, dict) and REMOVE in mine
            if removing and not self.removal(mine, key, index, line):
                continue
            if index is None:
                added.append((mine, line))
            elif index in changed:
                self.problem(
                    line,
                    f"'{mine[key]}' of the base is changed twice (also on line "
                    f"{int(changed[index])}): write the changes in one entry",
                )
            else:
                changed[index] = line
                merged[index] = None if removing else (_entry(base[index], mine), line)
        out = LocatedList()
        out.line, out.item_lines = doc.line, []
        for item in [*merged, *added]:
            if item is not None:
                out.append(item[0])
                out.item_lines.append(item[1])
        return out

    def match(self, base: list[Any], mine: Any, key: str, line: int) -> int | None:
        """The base entry `mine` changes (None: it is a new one): the one with its `key`; where
        the base declares a trigger more than once, the one with its `source` too."""
        if not isinstance(mine, dict) or not isinstance(mine.get(key), str):
            return None
        same = [i for i, b in enumerate(base) if isinstance(b, dict) and b.get(key) == mine[key]]
        if len(same) <= 1:
            return same[0] if same else None
        if key != "trigger" or "source" not in mine:
            self.problem(
                line,
                f"the base declares '{mine[key]}' {len(same)} times; "
                + ("give its 'source' to say which" if key == "trigger" else "rename one"),
            )
            return UNCLEAR
        wanted = _sources(mine["source"])
        return next((i for i in same if _sources(base[i].get("source")) == wanted), None)

    def removal(self, mine: dict[str, Any], key: str, index: int | None, line: int) -> bool:
        """Whether `{key: …, remove: true}` removes a base entry (else a problem was noted)."""
        what = "transition" if key == "trigger" else "timer"
        extra = sorted(set(mine) - {key, REMOVE, "source"})
        if mine[REMOVE] is not True:
            self.problem(line, "'remove' is true (to remove the base's entry) or left out")
        elif extra:
            self.problem(
                line, f"an entry with 'remove: true' names the {what} only (not {', '.join(extra)})"
            )
        elif index is None:
            self.problem(line, f"nothing to remove: the base has no {what} '{mine.get(key)}'")
        else:
            return True
        return False


def _entry(base: Any, mine: Any) -> Any:
    """One entry named again: key by key, each key given replacing the base's value whole;
    `key: null` removes the base's key. Anything but two mappings: the file's value."""
    if not isinstance(base, LocatedDict) or not isinstance(mine, LocatedDict):
        return mine
    out = _new_dict(mine.line)
    for key, value in base.items():
        if key not in mine:
            _put(out, key, value, base.key_lines[key])
        elif mine[key] is not None:
            _put(out, key, mine[key], mine.key_lines[key])
    for key, value in mine.items():
        if key not in base and value is not None and key != REMOVE:
            _put(out, key, value, mine.key_lines[key])
    return out


def _sources(value: Any) -> Any:
    """A transition's `source` as a comparable value (a name and a one-name list are alike)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None
