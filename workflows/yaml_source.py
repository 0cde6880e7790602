"""YAML → plain Python values that remember the line each came from.

PyYAML's composed node tree knows lines; the constructed dicts do not. We build dict/list
subclasses that carry the line of every key and item, so a problem found long after parsing
(an unknown guard three levels down) can still say `file:line`. Duplicate keys, which PyYAML
silently overwrites, are reported.
"""

from __future__ import annotations

from typing import Any

import yaml


class LocatedDict(dict[str, Any]):
    line: int
    key_lines: dict[str, int]


class LocatedList(list[Any]):
    line: int
    item_lines: list[int]


class YamlProblem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def parse(text: str) -> tuple[Any, list[tuple[int, str]]]:
    """Parse one YAML document; returns (value, [(line, problem), ...])."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlProblem(line, f"not valid YAML: {exc.problem or exc}") from exc
    if node is None:
        raise YamlProblem(1, "the file is empty")
    problems: list[tuple[int, str]] = []
    constructor = yaml.SafeLoader("")
    return _build(node, constructor, problems), problems


def _build(node: yaml.Node, constructor: yaml.SafeLoader, problems: list[tuple[int, str]]) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = LocatedDict()
        out.line = line
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                problems.append((key_line, f"key {key!r} must be text"))
                key = str(key)
            if key in out:
                problems.append((key_line, f"duplicate key '{key}'"))
            out[key] = _build(value_node, constructor, problems)
            out.key_lines[key] = key_line
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LocatedList()
        seq.line = line
        seq.item_lines = []
        for item in node.value:
            seq.append(_build(item, constructor, problems))
            seq.item_lines.append(item.start_mark.line + 1)
        return seq
    return constructor.construct_object(node, deep=True)


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
