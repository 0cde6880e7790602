"""What every stage of the loader shares: the document, the problems found so far, and the
small shape checks each stage repeats (unknown keys, labels, name lists, bounded numbers)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from config.catalogues import Label, label_from, label_problem
from config.yaml_reader import LocatedDict, ReadProblem, line_of
from i18n import LANGUAGES
from workflows.errors import DefinitionProblem
from workflows.guard_api import GuardRegistry

LABEL_LANGS = LANGUAGES  # what a label mapping may give; `en` is required
NAME_RE = re.compile(r"[a-z][a-z0-9_]*")
MAX_NAME = 64  # characters of a state, trigger, field or timer name (stored in 80-wide columns)
NAME_RULE = f"a snake_case name (a-z, 0-9 and _, at most {MAX_NAME} characters)"

Where = tuple[Any, ...]


class Problems:
    """Collects problems located in one file.

    A line the YAML reader already complained about (a number too large, a refused tag) gets
    no second, derived message: the value there was dropped, and "'days' must be a whole
    number" on top of "the number … is too large" would only confuse."""

    def __init__(self, path: str, root: Any) -> None:
        self.path = path
        self.root = root
        self.items: list[DefinitionProblem] = []
        self._read_lines: set[int] = set()

    def read(self, problems: list[ReadProblem]) -> None:
        for p in problems:
            self.items.append(DefinitionProblem(self.path, p.line, p.message))
            self._read_lines.add(p.line)

    def at(self, where: Where | int, message: str) -> None:
        line = where if isinstance(where, int) else line_of(self.root, where)
        if line not in self._read_lines:
            self.items.append(DefinitionProblem(self.path, line, message))

    def line(self, where: Where) -> int:
        return line_of(self.root, where)


@dataclass(frozen=True)
class Context:
    """One file being loaded, and the registries its names are checked against."""

    doc: LocatedDict
    p: Problems
    guards: GuardRegistry
    templates: Mapping[str, frozenset[str]]


def is_name(value: Any) -> bool:
    """A snake_case name: lowercase letters, digits and `_`, starting with a letter."""
    return isinstance(value, str) and len(value) <= MAX_NAME and bool(NAME_RE.fullmatch(value))


def is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def unknown_keys(ctx: Context, node: Any, allowed: set[str], where: Where) -> None:
    if isinstance(node, LocatedDict):
        for key in node:
            if key not in allowed:
                ctx.p.at(
                    (*where, key),
                    f"unknown key '{key}' (expected one of: {', '.join(sorted(allowed))})",
                )


def label(ctx: Context, node: Any, where: Where, required: bool = True) -> Label | None:
    """A label: its English text (translated by the catalogues), or the mapping form
    {en: …, es: …} whose other languages are the file's own texts."""
    if node is None and not required:
        return None
    problem = label_problem(node)
    if problem is not None:
        ctx.p.at(where, problem)
        return None
    return label_from(node)


def names(ctx: Context, node: Any, where: Where, what: str) -> tuple[str, ...]:
    """A name or a list of names."""
    if node is None:
        return ()
    if isinstance(node, str):
        return (node,)
    if isinstance(node, list) and all(isinstance(x, str) for x in node):
        return tuple(node)
    ctx.p.at(where, f"{what} must be a name or a list of names")
    return ()
