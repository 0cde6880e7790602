"""`cicie emb …`: the organisations that request programmes, under the name coordinators first
knew them by (electoral management bodies), and `cicie emb import` of many at once.

`add`, `update`, `list`, `deactivate` and `activate` are `cicie org …`'s own commands (one
implementation, made by `cli.org_cmd`'s factories; one validation:
`engine.organisations.check_organisation`), speaking of EMBs; `add` registers an EMB unless
`--kind` says otherwise. `import` reads a CSV file (`engine.organisation_import`)
and writes all of it in one transaction, or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.context import runtime
from cli.org_cmd import EMB_WORDING, register
from cli.output import EXIT_REFUSED, LangOption, chosen_language, domain_errors, emit
from engine.organisation_import import MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, read_organisations_file
from engine.organisations import ImportReport
from i18n import Text

emb_app = typer.Typer(
    help="Electoral management bodies and the other organisations that request programmes "
    "(the same commands as `cicie org`), and `import` of many from a CSV file.",
    no_args_is_help=True,
)

register(emb_app, EMB_WORDING)  # add, update, list, deactivate, activate: `cicie org`'s own

IMPORT_HELP = "\n\n".join(
    [
        "Create or update many organisations from a CSV file, all or nothing.",
        f'The file is UTF-8 (with or without a byte-order mark: "CSV UTF-8" in Excel), at most '
        f"{MAX_IMPORT_BYTES // 1024} KiB and {MAX_IMPORT_ROWS} organisations. Its first line is "
        "the header: code,name,country,language,email and optionally kind, in any order; any "
        "other column is refused. Values are separated by commas (or semicolons, when the "
        "header has no comma).",
        "\b\n  code,name,country,language,email,kind\n"
        "  HN-CNE,Consejo Nacional Electoral,HN,es,info@cne.hn,emb\n"
        "  MX-PARTY,Partido Ejemplo,MX,es,,political_party",
        "country: ISO 3166-1 alpha-2; language: es, en, fr, pt, ar or ru (its mail); email may "
        "be empty (no address); kind: emb, civil_society, political_party, academic or other "
        "(empty, or no kind column: emb for a new organisation).",
        "A code that is already registered is an UPDATE: its name, language and e-mail address "
        "become the row's (its kind too, when the row gives one); its country must be the "
        "same; whether it is active does not change. A new code is CREATED. Each code is "
        "reported as created, updated or unchanged.",
        "Every row is checked before anything is written. A problem is reported as its row, "
        "its field and a message; the row is the LINE NUMBER IN THE FILE, THE HEADER BEING "
        "LINE 1. With any problem nothing is written and the exit status is 1. --dry-run "
        "checks and reports without writing (exit 0 when the file is valid).",
    ]
)


def _summary(report: ImportReport, lang: str) -> str:
    lines = []
    for title, codes in (
        (Text("Created (%(count)s): %(codes)s"), report.created),
        (Text("Updated (%(count)s): %(codes)s"), report.updated),
        (Text("Unchanged (%(count)s): %(codes)s"), report.unchanged),
    ):
        if codes:
            lines.append(Text(title.msgid, count=len(codes), codes=", ".join(codes)).say(lang))
    created, updated, unchanged = len(report.created), len(report.updated), len(report.unchanged)
    if report.dry_run:
        lines.append(
            Text(
                "The file is valid: %(created)s to create, %(updated)s to update, "
                "%(unchanged)s unchanged. Nothing was written (--dry-run).",
                created=created,
                updated=updated,
                unchanged=unchanged,
            ).say(lang)
        )
    else:
        lines.append(
            Text(
                "Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.",
                created=created,
                updated=updated,
                unchanged=unchanged,
            ).say(lang)
        )
    return "\n".join(lines)


def _problem_lines(errors: list[dict[str, Any]], lang: str) -> list[str]:
    lines = []
    for e in errors:
        if e["row"] is None:
            lines.append(Text("File: %(message)s", message=e["message"]).say(lang))
        else:
            lines.append(
                Text(
                    "Line %(row)s, %(field)s: %(message)s",
                    row=e["row"],
                    field=e["field"],
                    message=e["message"],
                ).say(lang)
            )
    lines.append(
        Text(
            "Nothing was written: correct the file and import it again (lines are counted "
            "from 1, the header being line 1)."
        ).say(lang)
    )
    return lines


@emb_app.command("import", help=IMPORT_HELP)
def emb_import(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE.csv",
            exists=True,
            dir_okay=False,
            readable=True,
            help="The CSV file (UTF-8; header code,name,country,language,email[,kind]).",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report; write nothing.")
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"ok", "dry_run", "created", "updated", "unchanged", "errors": '
            '[{"row", "field", "message"}]} on stdout.',
        ),
    ] = False,
    lang: LangOption = None,
) -> None:
    lang = chosen_language(lang)
    parsed = read_organisations_file(file)  # before the database is opened: a bad file is cheap
    if parsed.errors:
        report = ImportReport(dry_run=dry_run, errors=parsed.errors)
    else:
        with domain_errors(as_json, lang), runtime(language=lang) as rt:
            report = rt.engine.organisations.import_rows(parsed.rows, dry_run=dry_run)
    if report.ok:
        emit(report.to_dict(lang), as_json, lambda: _summary(report, lang))
        return
    if as_json:
        emit(report.to_dict(lang), True)
    for line in _problem_lines(report.errors, lang):
        typer.echo(line, err=True)
    raise typer.Exit(EXIT_REFUSED)
