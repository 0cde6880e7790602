"""Workflow files → immutable definitions, in stages: read → shape → names → graph.

Every problem is collected with its line and reported together (`InvalidDefinition`), so an
author fixes a file in one pass; no content of a file can raise anything else (sizes, depth,
aliases and numbers are bounded when it is read, offsets in days when it is shaped). Nothing
here knows about the database or the state machine library; `engine.compiler` turns a
definition into a machine. The stages live in `workflows.load`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from config.catalogues import Catalogues
from config.yaml_reader import LocatedDict
from workflows import guards as _builtin_guards  # noqa: F401  (fills the default registry)
from workflows.definition import WorkflowDefinition
from workflows.errors import DefinitionProblem, InvalidDefinition
from workflows.guard_api import GUARDS, GuardRegistry
from workflows.load.context import Context, Problems
from workflows.load.extends import BASE_DIR, relocate
from workflows.load.graph import GraphCheck
from workflows.load.read import read_file, read_workflow
from workflows.load.shape import build, checksum

__all__ = ["WORKFLOW_DIR", "checksum", "load_all", "load_file", "load_text", "workflow_files"]

WORKFLOW_DIR = Path(__file__).parent


def workflow_files(directory: Path = WORKFLOW_DIR) -> list[Path]:
    """The programmes in a folder: its own `*.yaml` files. The bases they extend live in the
    sub-folder `base/` and are no programmes: never loaded or registered on their own."""
    return sorted(p for p in directory.glob("*.yaml") if p.is_file())


def base_dirs(path: Path) -> tuple[Path, ...]:
    """Where `extends: NAME` looks for NAME.yaml: the `base/` folder beside the file, then the
    bundled one (so a copy checked elsewhere still finds the shipped bases)."""
    return (path.parent / "base", BASE_DIR)


def load_file(
    path: Path | str,
    *,
    catalogues: Catalogues | None = None,
    guards: GuardRegistry = GUARDS,
    match_file_name: bool = True,
    templates: Mapping[str, frozenset[str]] | None = None,
) -> WorkflowDefinition:
    """One file. In the workflows folder a file must be named after its workflow;
    `match_file_name=False` checks a copy under any name (`cicie workflows check copy.yaml`)."""
    path = Path(path)
    return load_text(
        read_file(path),
        str(path),
        expected_name=path.stem if match_file_name else None,
        catalogues=catalogues,
        guards=guards,
        templates=templates,
        bases=base_dirs(path),
    )


def load_text(
    text: str,
    path: str,
    *,
    expected_name: str | None = None,
    catalogues: Catalogues | None = None,
    guards: GuardRegistry = GUARDS,
    templates: Mapping[str, frozenset[str]] | None = None,
    bases: tuple[Path, ...] = (BASE_DIR,),
) -> WorkflowDefinition:
    """Parse and check one definition; raises InvalidDefinition listing every problem.

    A text that `extends:` a base is checked with the base merged in (looked up in `bases`),
    and the definition's `source` is then the merged text, so a stored version stands alone.
    `catalogues` is accepted for the callers that pass it; no check needs it yet (theme,
    country and partner values are data, checked when a request is validated)."""
    read = read_workflow(text, path, bases)
    doc = read.values
    problems = Problems(path, doc)
    problems.read(read.problems)
    problems.items.extend(read.merge_problems)
    if not isinstance(doc, LocatedDict):
        problems.at(1, "a workflow file must be a mapping (workflow:, states:, transitions: …)")
        raise InvalidDefinition(problems.items)
    if templates is None:  # imported here: the template index needs Jinja, a cached load not
        from workflows.template_index import scan as scan_templates

        templates = scan_templates()
    ctx = Context(doc, problems, guards, templates)
    definition = build(ctx, read.source, path, expected_name)
    if definition is not None:
        # the graph is checked even when other problems were found, so an author sees every
        # problem in one pass; transitions naming unknown states were left out of it
        GraphCheck(definition, problems).run()
    if problems.items or definition is None:
        raise InvalidDefinition(relocate(problems.items))  # a base's part: the base's path
    return definition


def load_all(
    directory: Path = WORKFLOW_DIR, *, cache_dir: Path | None = None
) -> dict[str, WorkflowDefinition]:
    """Every workflow in a folder; problems of all files are reported together. With
    `cache_dir`, the checked definitions are kept there between processes, keyed by the
    contents of every file they depend on (`workflows.load.cache`)."""
    if cache_dir is not None:
        from workflows.load.cache import cached_load

        return cached_load(directory, cache_dir, lambda: _load_all(directory))
    return _load_all(directory)


def _load_all(directory: Path) -> dict[str, WorkflowDefinition]:
    found: dict[str, WorkflowDefinition] = {}
    problems: list[DefinitionProblem] = []
    for path in workflow_files(directory):
        try:
            definition = load_file(path)
        except InvalidDefinition as exc:
            problems.extend(exc.problems)
            continue
        found[definition.name] = definition
    if problems:
        raise InvalidDefinition(problems)
    return found
