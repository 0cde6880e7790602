"""Stage 1: a file (or stored text) → located YAML values, or the problems that stop it.

Reading, decoding and parsing are the shared reader's (`config.yaml_reader`); this stage says
where — every refusal becomes a `DefinitionProblem` with the file's path — and lays a file that
`extends:` a base over it (`load.extends`), so every later stage sees one merged document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.yaml_reader import (
    DEFAULT_LIMITS,
    Limits,
    LocatedDict,
    ReadProblem,
    ReadRefused,
    parse,
    read_text,
)
from workflows.errors import DefinitionProblem, InvalidDefinition
from workflows.load.extends import BASE_DIR, BASE_KEY, resolve, resolved_text

LIMITS = DEFAULT_LIMITS


@dataclass(frozen=True)
class Document:
    """What the later stages read: the values, the problems met while reading them, and the
    text a version of this definition stores (the file's own, or with its bases merged in)."""

    values: Any
    problems: list[ReadProblem]  # the file's own, at its lines
    source: str
    merge_problems: list[DefinitionProblem] = field(default_factory=list)  # located in any file


def _refused(path: str, problems: list[ReadProblem]) -> InvalidDefinition:
    return InvalidDefinition([DefinitionProblem(path, p.line, p.message) for p in problems])


def read_file(path: Path, limits: Limits = LIMITS) -> str:
    """The file's text; raises InvalidDefinition (not a file, too large, not UTF-8)."""
    try:
        return read_text(path, limits)
    except ReadRefused as exc:
        raise _refused(str(path), exc.problems) from None


def read_document(text: str, path: str, limits: Limits = LIMITS) -> tuple[Any, list[ReadProblem]]:
    """The text's values and the problems that did not stop reading (e.g. duplicate keys)."""
    try:
        return parse(text, limits)
    except ReadRefused as exc:
        raise _refused(path, exc.problems) from None


def read_workflow(
    text: str, path: str, base_dirs: Sequence[Path] = (BASE_DIR,), limits: Limits = LIMITS
) -> Document:
    """The text's values with the bases it extends merged in (looked up in `base_dirs`, in
    order). A base that cannot be used stops here: without it every later problem is noise."""
    values, problems = read_document(text, path, limits)
    if not isinstance(values, LocatedDict) or BASE_KEY not in values:
        return Document(values, problems, text)
    resolved = resolve(values, path, base_dirs, limits)
    if not resolved.bases:  # the base named was not found or could not be read
        own = [DefinitionProblem(path, p.line, p.message) for p in problems]
        raise InvalidDefinition(own + resolved.problems)
    source = resolved_text(resolved.doc, path, resolved.bases)
    stored = _stored_problem(source, resolved.doc, limits)
    if stored:
        line = values.key_lines[BASE_KEY]
        resolved.problems.append(DefinitionProblem(path, line, stored))
    return Document(resolved.doc, problems, source, resolved.problems)


def _stored_problem(source: str, values: Any, limits: Limits) -> str | None:
    """Why the merged text could not be read back as the same values, if it cannot: a version
    stores it, so it must stay within the reader's limits with its bases included."""
    try:
        again, problems = parse(source, limits)
    except ReadRefused as exc:
        return f"with its bases merged in, this definition cannot be stored: {exc}"
    if problems or again != values:
        return "with its bases merged in, this definition cannot be stored as it reads"
    return None
