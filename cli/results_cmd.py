"""`cicie import history`, `cicie report results`, `cicie export requests|results`: the
programme results (issue 6). Thin: parse, call `results`, present."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.context import runtime
from cli.output import LangOption, chosen_language, domain_errors, emit
from engine.bootstrap import Runtime
from i18n import Text, say
from results.charts import write_charts
from results.export import (
    Labels,
    csv_text,
    requests_table,
    results_tables,
    write_csv,
    write_xlsx,
)
from results.history_format import read_history
from results.importer import ImportResult, brochure_path, import_history
from results.report import ResultsReport, build_report, render_text

# Merged into the root command (added without a name): it brings three groups of its own.
results_app = typer.Typer()
import_app = typer.Typer(help="Import records kept outside the system.", no_args_is_help=True)
report_app = typer.Typer(help="Reports computed from the records.", no_args_is_help=True)
export_app = typer.Typer(help="Export tables as CSV or XLSX.", no_args_is_help=True)
results_app.add_typer(import_app, name="import")
results_app.add_typer(report_app, name="report")
results_app.add_typer(export_app, name="export")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
FromYear = Annotated[int | None, typer.Option("--from", help="First year (included).")]
ToYear = Annotated[int | None, typer.Option("--to", help="Last year (included).")]
TABLES = (
    "workshops",
    "countries",
    "courses",
    "seminars",
    "planned",
    "activities",
    "themes",
    "requests",
    "discrepancies",
    "readings",
)


class ReportFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class FileFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


def _check_years(year_from: int | None, year_to: int | None) -> None:
    if year_from is not None and year_to is not None and year_from > year_to:
        raise typer.BadParameter(f"--from {year_from} is after --to {year_to}")


def _check_table(table: str) -> None:
    if table not in TABLES:
        raise typer.BadParameter(f"--table must be one of {', '.join(TABLES)}")


def _report(rt: Runtime, year_from: int | None, year_to: int | None) -> ResultsReport:
    """The results report for these years, as of the runtime's today."""
    return build_report(
        rt.db,
        year_from=year_from,
        year_to=year_to,
        today=rt.engine.clock().date(),
        catalogues=rt.catalogues,
    )


def _import_text(result: ImportResult, path: Path, lang: str) -> str:
    if result.changed:
        head = Text(
            "%(source)s (%(file)s) — activities: %(activities)s; added: %(inserted)s, changed: "
            "%(updated)s, removed: %(deleted)s, unchanged: %(unchanged)s.",
            source=result.source,
            activities=result.activities,
            file=str(path),
            inserted=result.inserted,
            updated=result.updated,
            deleted=result.deleted,
            unchanged=result.unchanged,
        )
    else:
        head = Text(
            "%(source)s: already up to date (activities: %(activities)s).",
            source=result.source,
            activities=result.activities,
        )
    lines = [head.say(lang)]
    if result.discrepancies:
        lines.append(
            Text(
                "Stated figures that disagree with the entries: %(count)s",
                count=len(result.discrepancies),
            ).say(lang)
        )
        lines += [f"  - {say(d.message, lang)}" for d in result.discrepancies]
    if result.readings:
        lines.append(Text("Ambiguous entries, as read:").say(lang))
        lines += [
            "  - "
            + Text(
                "%(year)s “%(printed)s” counted as %(counted)s",
                year=r["year"],
                printed=r["as_printed"],
                counted=r["counted_as"],
            ).say(lang)
            for r in result.readings
        ]
    return "\n".join(lines)


@import_app.command("history")
def import_history_cmd(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="A history file (.yaml/.yml or .csv; format in docs/results.md).",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
    brochure: Annotated[
        bool, typer.Option("--brochure", help="Import the bundled transcription of the brochure.")
    ] = False,
    as_json: JsonFlag = False,
    lang: LangOption = None,
) -> None:
    """Import past activities; running it again with the same file changes nothing.

    Stated figures that disagree with the entries are reported (and imported as they are);
    a file with an unknown country, a bad date or an unknown field is refused whole."""
    if (file is None) == (not brochure):
        raise typer.BadParameter("give a FILE or --brochure (one of them)")
    path = file if file is not None else brochure_path()
    language = chosen_language(lang)
    with domain_errors(as_json, language), runtime() as rt:
        source = read_history(path, theme_ids=rt.catalogues.themes)
        result = import_history(rt.db, source, rt.engine.clock())
        emit(
            result.to_dict() | {"file": str(path)},
            as_json,
            lambda: _import_text(result, path, language),
        )


@report_app.command("results")
def report_results(
    year_from: FromYear = None,
    year_to: ToYear = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", help="table (text), csv or json.")
    ] = ReportFormat.table,
    table: Annotated[
        str, typer.Option("--table", help=f"With --format csv: {', '.join(TABLES)}.")
    ] = "workshops",
    chart_dir: Annotated[
        Path | None,
        typer.Option(
            "--chart-dir",
            help="Also write the map and the chart there (SVG and PNG).",
            file_okay=False,
        ),
    ] = None,
    lang: LangOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Workshops by year × continent, countries reached, courses, seminars, themes, requests
    this year, and every discrepancy between a source's stated figures and its entries.

    `--format csv` prints one table with its headers and labels in `--lang` (no byte-order
    mark on standard output: `cicie export results` writes a file Excel opens as is); the
    JSON is the same in every language."""
    _check_years(year_from, year_to)
    _check_table(table)
    as_json = as_json or fmt is ReportFormat.json
    language = chosen_language(lang)
    with domain_errors(as_json, language), runtime(read_only=True) as rt:
        report = _report(rt, year_from, year_to)
        written = write_charts(report, chart_dir) if chart_dir is not None else []
        for path in written:
            typer.echo(Text("Written: %(file)s", file=str(path)).say(language), err=True)
        if as_json:
            payload = report.to_dict()
            if written:
                payload = payload | {"charts": [str(p) for p in written]}
            emit(payload, True)
        elif fmt is ReportFormat.csv:
            sys.stdout.write(csv_text(results_tables(report, Labels.of(rt, language))[table]))
        else:
            typer.echo(render_text(report))


def _format_of(fmt: FileFormat | None, output: Path) -> FileFormat:
    if fmt is not None:
        return fmt
    suffix = output.suffix.lower().lstrip(".")
    if suffix in ("csv", "xlsx"):
        return FileFormat(suffix)
    raise typer.BadParameter("give --format csv|xlsx (or an --output ending in .csv/.xlsx)")


Output = Annotated[Path, typer.Option("--output", "-o", help="The file to write.", dir_okay=False)]
FormatOption = Annotated[FileFormat | None, typer.Option("--format", help="csv or xlsx.")]


@export_app.command("requests")
def export_requests(
    output: Output,
    fmt: FormatOption = None,
    programme: Annotated[str | None, typer.Option(help="Only this programme.")] = None,
    state: Annotated[str | None, typer.Option(help="Only requests in this state.")] = None,
    emb: Annotated[str | None, typer.Option(help="Only this EMB's requests.")] = None,
    year_from: FromYear = None,
    year_to: ToYear = None,
    lang: LangOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Requests (with their EMB and country) as CSV or XLSX, headers and labels in `--lang`,
    times in the site's time zone; `year` is the event's year, or the year the request was
    received."""
    _check_years(year_from, year_to)
    kind = _format_of(fmt, output)
    language = chosen_language(lang)
    with domain_errors(as_json, language), runtime(read_only=True) as rt:
        labels = Labels.of(rt, language)
        table = requests_table(
            rt.db,
            programme=programme,
            state=state,
            emb=emb,
            year_from=year_from,
            year_to=year_to,
            labels=labels,
        )
        if kind is FileFormat.csv:
            write_csv(output, table)
        else:
            write_xlsx(output, {"requests": table})
        emit(
            {"output": str(output), "format": kind.value, "rows": len(table.rows)},
            as_json,
            lambda: Text(
                "%(count)s request(s) written to %(file)s", count=len(table.rows), file=str(output)
            ).say(labels.language),
        )


@export_app.command("results")
def export_results(
    output: Output,
    fmt: FormatOption = None,
    year_from: FromYear = None,
    year_to: ToYear = None,
    table: Annotated[
        str, typer.Option("--table", help=f"CSV holds one table: {', '.join(TABLES)}.")
    ] = "workshops",
    lang: LangOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The results tables: one of them as CSV, or all of them as an XLSX workbook, headers,
    sheet names and labels in `--lang`."""
    _check_years(year_from, year_to)
    _check_table(table)
    kind = _format_of(fmt, output)
    language = chosen_language(lang)
    with domain_errors(as_json, language), runtime(read_only=True) as rt:
        report = _report(rt, year_from, year_to)
        labels = Labels.of(rt, language)
        tables = results_tables(report, labels)
        if kind is FileFormat.csv:
            write_csv(output, tables[table])
            written = {table: len(tables[table].rows)}
        else:
            write_xlsx(output, tables)
            written = {name: len(t.rows) for name, t in tables.items()}
        emit(
            {"output": str(output), "format": kind.value, "tables": written},
            as_json,
            lambda: Text(
                "%(tables)s written to %(file)s",
                tables=[tables[name].sheet for name in written],
                file=str(output),
            ).say(labels.language),
        )
