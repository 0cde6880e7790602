"""`cicie workflows …`: list, check, draw and walk the programme definitions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.context import runtime
from cli.output import EXIT_REFUSED, LangOption, chosen_language, domain_errors, emit
from config.yaml_reader import ReadRefused, parse, read_text
from engine.actor import Actor
from engine.diagram import mermaid
from engine.diff import diff_versions
from engine.errors import DefinitionProblem, InvalidData, InvalidDefinition, NotFound
from engine.migrate import Migration, MigrationPlan, MigrationReport
from i18n import Text, say
from i18n.formatting import day
from workflows.errors import said
from workflows.loader import WORKFLOW_DIR, load_file, workflow_files
from workflows.schema import schema_text

workflows_app = typer.Typer(
    help="The programme workflows (YAML definitions).", no_args_is_help=True
)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@workflows_app.command("list")
def workflows_list(as_json: JsonFlag = False, lang: LangOption = None) -> None:
    """Every workflow with its current version, states and triggers."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang, read_only=True) as rt:
        out = []
        for name in rt.registry.names():
            wf = rt.registry.current(name)
            d = wf.definition
            out.append(
                {
                    "name": name,
                    "version": wf.version,
                    "title": d.title.get(lang),
                    "initial": d.initial,
                    "states": list(d.states),
                    "final_states": d.final_states(),
                    "triggers": sorted({t.trigger for t in d.transitions}),
                }
            )
        emit(
            out,
            as_json,
            lambda: "\n".join(
                Text(
                    "%(title)s (%(name)s), version %(version)s",
                    title=w["title"],
                    name=w["name"],
                    version=w["version"],
                ).say(lang)
                for w in out
            ),
        )


@workflows_app.command("check")
def workflows_check(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to check (default: every bundled workflow)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Validate definitions; every problem is printed as path:line: message (exit 1 if any).

    Under --json the refusal is `{"error": {"code": "invalid_definition", "details": [{path,
    line, message}]}}`. A folder stands for the `*.yaml` files in it, each of which must be
    named after its workflow; a file named on its own may have any name."""
    files, problems = _files_to_check(paths)
    for path, match_file_name in files:
        try:
            load_file(path, match_file_name=match_file_name)
        except InvalidDefinition as exc:
            problems.extend(exc.problems)
    if problems:
        refusal = InvalidDefinition(problems)
        if as_json:
            typer.echo(json.dumps({"error": refusal.to_dict()}, ensure_ascii=False))
            typer.echo(f"error ({refusal.code}): {refusal.message}", err=True)
        else:
            for problem in refusal.problems:
                typer.echo(str(problem))
            typer.echo(f"{len(refusal.problems)} problem(s) in {len(files)} file(s)", err=True)
        raise typer.Exit(EXIT_REFUSED)
    checked = [str(path) for path, _ in files]
    emit(
        {"ok": True, "files": checked},
        as_json,
        f"ok: {len(files)} workflow file(s) valid",
    )


def _files_to_check(
    paths: list[Path] | None,
) -> tuple[list[tuple[Path, bool]], list[DefinitionProblem]]:
    """(file, whether it must be named after its workflow) for each path; a folder without
    workflow files is a problem of its own."""
    if not paths:
        return [(p, True) for p in workflow_files(WORKFLOW_DIR)], []
    files: list[tuple[Path, bool]] = []
    problems: list[DefinitionProblem] = []
    for path in paths:
        if not path.is_dir():
            files.append((path, False))
            continue
        found = workflow_files(path)
        if not found:
            problems.append(DefinitionProblem(str(path), 1, "no workflow files (*.yaml) here"))
        files.extend((p, True) for p in found)
    return files, problems


@workflows_app.command("diagram")
def workflows_diagram(
    name: Annotated[str, typer.Argument(help="Workflow name.")],
    request_id: Annotated[
        int | None, typer.Option("--request", help="Highlight this request's current state.")
    ] = None,
    lang: LangOption = None,
) -> None:
    """Mermaid stateDiagram-v2 text of a workflow (its labels in --lang)."""
    lang = chosen_language(lang)
    with domain_errors(False, lang), runtime(language=lang, read_only=True) as rt:
        definition = rt.registry.current(name).definition
        current = None
        if request_id is not None:
            view = rt.engine.get(request_id)
            if view.programme != name:
                raise NotFound(
                    Text(
                        "Request %(id)s is a %(programme)s, not a %(name)s.",
                        id=request_id,
                        programme=view.programme,
                        name=name,
                    )
                )
            definition = rt.engine.definition_of(view).definition
            current = view.state
        typer.echo(mermaid(definition, current, lang))


@workflows_app.command("example")
def workflows_example(
    name: Annotated[str, typer.Argument(help="Workflow name.")],
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """A realistic, valid path from intake to closed: [{trigger, data, as}]."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang):
        path = WORKFLOW_DIR / "examples" / f"{name}.yaml"
        if not path.is_file():
            raise NotFound(Text("There is no example for the workflow '%(name)s'.", name=name))
        try:
            steps = parse(read_text(path))[0]["steps"]
        except ReadRefused as exc:
            raise InvalidData(
                "; ".join(f"{path}:{p.line}: {p.message}" for p in exc.problems)
            ) from None
        payload = [
            {"trigger": s["trigger"], "data": s.get("data") or {}, "as": s["as"]} for s in steps
        ]
        emit(
            payload,
            as_json,
            lambda: "\n".join(f"{s['as']:<24} {s['trigger']}" for s in payload),
        )


@workflows_app.command("schema")
def workflows_schema() -> None:
    """The JSON Schema of the workflow format, for editors (yaml-language-server).

    Generated from the tables the loader checks with; `workflows/workflow.schema.json` is a
    copy of this output, named by the modeline at the top of each workflow file."""
    typer.echo(schema_text(), nl=False)


@workflows_app.command("migrate")
def workflows_migrate(
    name: Annotated[str, typer.Argument(help="Workflow name.")],
    to: Annotated[int, typer.Option("--to", help="The stored version to move requests to.")],
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what each request would undergo; change nothing."),
    ] = False,
    actor: Annotated[
        str, typer.Option("--as", help="Who migrates (recorded in history): admin or coordinator.")
    ] = "admin",
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Move the live requests of a workflow to another version, each in its own transaction.

    Each request gets the state the target version's `migrations:` rules give it (or the same
    name), a history row (trigger `migrate`) and re-planned timers; data the new version finds
    invalid is reported, not changed. A request that cannot move is reported and left as it
    is (exit 1; the others still move). With --dry-run nothing is written."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        migration = Migration(rt.engine)
        if dry_run:
            report = migration.dry_run(name, to)
        else:
            report = migration.apply(name, to, Actor.parse(actor))
        emit(
            said(report.to_dict(rt.engine.business_time.localize), lang),
            as_json,
            lambda: _migration_text(report, lang),
        )
    if report.refused:
        raise typer.Exit(EXIT_REFUSED)


def _migration_text(report: MigrationReport, lang: str) -> str:
    if report.dry_run:
        head = Text(
            "%(workflow)s → v%(version)s (dry run)", workflow=report.workflow, version=report.to
        )
    else:
        head = Text("%(workflow)s → v%(version)s", workflow=report.workflow, version=report.to)
    lines = [head.say(lang)]
    for plan in report.plans:
        lines.extend(_plan_lines(plan, lang))
    moved = len(report.plans) - len(report.refused)
    if report.dry_run:
        tally = Text(
            "%(moved)s would move, %(left)s cannot move", moved=moved, left=len(report.refused)
        )
    else:
        tally = Text("%(moved)s moved, %(left)s cannot move", moved=moved, left=len(report.refused))
    lines.append(tally.say(lang))
    return "\n".join(lines)


def _timer_ref(timer: str, occurrence: int) -> str:
    return f"{timer}#{occurrence}"


def _plan_lines(plan: MigrationPlan, lang: str) -> list[str]:
    head = f"#{plan.id} {plan.title} [{plan.state}, v{plan.from_version}]"
    if not plan.movable:
        reasons = "; ".join(say(r, lang) for r in plan.reasons)
        return [
            Text("%(request)s cannot move: %(reasons)s", request=head, reasons=reasons).say(lang)
        ]
    lines = [f"{head} → {plan.to_state}"]
    lines.extend(
        "    "
        + Text("invalid %(field)s: %(message)s", field=d["field"], message=d["message"]).say(lang)
        for d in plan.invalid_data
    )
    t = plan.timers
    lines.extend(
        "    "
        + Text(
            "cancel timer %(timer)s: %(why)s", timer=_timer_ref(c.timer, c.occurrence), why=c.why
        ).say(lang)
        for c in t.cancel
    )
    lines.extend(
        "    "
        + Text(
            "arm timer %(timer)s due %(date)s",
            timer=_timer_ref(c.timer, c.occurrence),
            date=day(c.due_at, lang),
        ).say(lang)
        for c in t.arm
    )
    lines.extend(
        "    "
        + Text(
            "move timer %(timer)s: %(before)s → %(after)s",
            timer=_timer_ref(c.timer, c.occurrence),
            before=day(c.previous, lang),
            after=day(c.due_at, lang),
        ).say(lang)
        for c in t.move
    )
    return lines


@workflows_app.command("diff")
def workflows_diff(
    name: Annotated[str, typer.Argument(help="Workflow name.")],
    old: Annotated[int, typer.Argument(help="The earlier version.", metavar="V1")],
    new: Annotated[int, typer.Argument(help="The later version.", metavar="V2")],
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """States, transitions, guards, timers and fields added, removed or changed between two
    stored versions (and the later one's `migrations:` rules)."""
    lang = chosen_language(lang)
    with domain_errors(as_json, lang), runtime(language=lang) as rt:
        found = diff_versions(rt.db, rt.registry, name, old, new)
        emit(found.to_dict(), as_json, found.text)
