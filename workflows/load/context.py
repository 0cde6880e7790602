"""What every stage of the loader shares: the document, the problems found so far, and the
small shape checks each stage repeats (unknown keys, labels, name lists, bounded numbers)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from config.catalogues import Label
from config.yaml_reader import LocatedDict, ReadProblem, line_of
from workflows.errors import DefinitionProblem
from workflows.guard_api import GuardRegistry

LABEL_LANGS = ("es", "en", "fr")
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
    if node is None:
        if required:
            ctx.p.at(where, "missing label (give es, en and fr)")
        return None
    if not isinstance(node, dict):
        ctx.p.at(where, "a label is a mapping {es: …, en: …, fr: …}")
        return None
    missing = [lang for lang in LABEL_LANGS if not _text(node.get(lang))]
    if missing:
        ctx.p.at(where, f"label missing language(s): {', '.join(missing)}")
        return None
    return Label(*(_text(node[lang]) for lang in LABEL_LANGS))


def _text(value: Any) -> str:
    """A label's words: text or a number as written; a list or mapping is no label."""
    if isinstance(value, dict | list) or value is None:
        return ""
    return str(value) if str(value).strip() else ""


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
