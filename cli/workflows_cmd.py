"""`cicie workflows …`: list, check, draw and walk the programme definitions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from cli.context import runtime
from cli.output import EXIT_REFUSED, domain_errors, emit
from engine.diagram import mermaid
from engine.errors import InvalidDefinition, NotFound
from workflows.loader import WORKFLOW_DIR, load_file, workflow_files

workflows_app = typer.Typer(
    help="The programme workflows (YAML definitions).", no_args_is_help=True
)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@workflows_app.command("list")
def workflows_list(as_json: JsonFlag = False) -> None:
    """Every workflow with its current version, states and triggers."""
    with domain_errors(as_json), runtime() as rt:
        out = []
        for name in rt.registry.names():
            wf = rt.registry.current(name)
            d = wf.definition
            out.append(
                {
                    "name": name,
                    "version": wf.version,
                    "title": d.title.get("en"),
                    "initial": d.initial,
                    "states": list(d.states),
                    "final_states": d.final_states(),
                    "triggers": sorted({t.trigger for t in d.transitions}),
                }
            )
        emit(
            out,
            as_json,
            lambda: "\n".join(f"{w['name']} v{w['version']}: {w['title']}" for w in out),
        )


@workflows_app.command("check")
def workflows_check(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files to check (default: every bundled workflow).")
    ] = None,
) -> None:
    """Validate definitions; every problem is printed as path:line: message (exit 1 if any)."""
    explicit = bool(paths)
    files = list(paths) if paths else workflow_files(WORKFLOW_DIR)
    problems = []
    for path in files:
        try:
            load_file(path, match_file_name=not explicit)
        except InvalidDefinition as exc:
            problems.extend(exc.problems)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        typer.echo(f"{len(problems)} problem(s) in {len(files)} file(s)", err=True)
        raise typer.Exit(EXIT_REFUSED)
    typer.echo(f"ok: {len(files)} workflow file(s) valid")


@workflows_app.command("diagram")
def workflows_diagram(
    name: Annotated[str, typer.Argument(help="Workflow name.")],
    request_id: Annotated[
        int | None, typer.Option("--request", help="Highlight this request's current state.")
    ] = None,
    language: Annotated[str, typer.Option("--lang", help="Label language: es, en, fr.")] = "en",
) -> None:
    """Mermaid stateDiagram-v2 text of a workflow."""
    with domain_errors(False), runtime() as rt:
        definition = rt.registry.current(name).definition
        current = None
        if request_id is not None:
            view = rt.engine.get(request_id)
            if view.programme != name:
                raise NotFound(f"request {request_id} is a {view.programme}, not a {name}")
            definition = rt.engine.definition_of(view).definition
            current = view.state
        typer.echo(mermaid(definition, current, language))


@workflows_app.command("example")
def workflows_example(
    name: Annotated[str, typer.Argument(help="Workflow name.")], as_json: JsonFlag = False
) -> None:
    """A realistic, valid path from intake to closed: [{trigger, data, as}]."""
    with domain_errors(as_json):
        path = WORKFLOW_DIR / "examples" / f"{name}.yaml"
        if not path.is_file():
            raise NotFound(f"no example for workflow '{name}'")
        steps = yaml.safe_load(path.read_text(encoding="utf-8"))["steps"]
        payload = [
            {"trigger": s["trigger"], "data": s.get("data") or {}, "as": s["as"]} for s in steps
        ]
        emit(
            payload,
            as_json,
            lambda: "\n".join(f"{s['as']:<24} {s['trigger']}" for s in payload),
        )
