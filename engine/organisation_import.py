"""Reading a file of organisations for `cicie emb import`: CSV in UTF-8 (with or without the
byte-order mark Excel writes), bounded in size before it is read.

The first line is the header: the columns `code,name,country,language,email`, and optionally
`kind`, in any order (case and surrounding spaces do not matter); any other column is refused.
Values are separated by commas, or by semicolons when the header has no comma (the CSV a
Spanish or French Excel saves). Blank lines are skipped. Lines are counted from 1, the header
being line 1: each problem names its line and column. The rows are then checked and written by
`engine.organisations.Organisations.import_rows` (one transaction, all or nothing)."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from i18n import Text

REQUIRED_COLUMNS = ("code", "name", "country", "language", "email")
OPTIONAL_COLUMNS = ("kind",)
MAX_IMPORT_BYTES = 1024 * 1024  # 1 MiB: some 5,000 organisations; the file is not read beyond
MAX_IMPORT_ROWS = 5000
_MAX_LINE_CELLS = 50  # a line with more values is refused without looking at them


@dataclass
class ParsedFile:
    """The rows of a file, each (line, {column: trimmed cell}), or the problems that keep it
    from being read (each `{"row", "field", "message"}`; `row` None: the whole file)."""

    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def _columns_text() -> Text:
    return Text(
        "The columns are code, name, country, language and email, and optionally kind, "
        "in any order."
    )


def read_organisations_file(path: Path, limit: int = MAX_IMPORT_BYTES) -> ParsedFile:
    """The file at `path`, refused without being read when it is larger than `limit` bytes."""
    too_big = {
        "row": None,
        "field": "file",
        "message": Text(
            "The file is larger than %(limit)s KiB; split it into smaller files.",
            limit=limit // 1024,
        ),
    }
    if path.stat().st_size > limit:
        return ParsedFile(errors=[too_big])
    with path.open("rb") as fh:
        data = fh.read(limit + 1)  # a file that grows, or a pipe, is bounded all the same
    if len(data) > limit:
        return ParsedFile(errors=[too_big])
    return parse_organisations(data)


def parse_organisations(data: bytes) -> ParsedFile:
    """The rows of a CSV file's bytes (see the module's docstring)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return ParsedFile(
            errors=[
                {
                    "row": None,
                    "field": "file",
                    "message": Text(
                        "The file is in UTF-16; save it as CSV UTF-8 and import it again."
                    ),
                }
            ]
        )
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ParsedFile(
            errors=[
                {
                    "row": data[: exc.start].count(b"\n") + 1,
                    "field": "file",
                    "message": Text(
                        "This line is not UTF-8 text; save the file as CSV UTF-8 and import "
                        "it again."
                    ),
                }
            ]
        )
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if "," not in first_line and ";" in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    parsed = ParsedFile()
    header: list[str] | None = None
    header_line = 1
    line = 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header_line = start
                header = [c.strip().lower() for c in cells[:_MAX_LINE_CELLS]]
                parsed.errors.extend(_header_problems(header, start))
                if parsed.errors:
                    return parsed
                continue
            if len(parsed.rows) >= MAX_IMPORT_ROWS:
                parsed.errors.append(
                    {
                        "row": start,
                        "field": "file",
                        "message": Text(
                            "A file holds at most %(count)s organisations; split it into "
                            "smaller files.",
                            count=MAX_IMPORT_ROWS,
                        ),
                    }
                )
                return parsed
            if len(cells) != len(header):
                parsed.errors.append(
                    {
                        "row": start,
                        "field": "row",
                        "message": Text(
                            "This line has %(found)s values; the header has %(wanted)s "
                            "columns. A value with a comma needs double quotes around it.",
                            found=len(cells),
                            wanted=len(header),
                        ),
                    }
                )
                continue
            parsed.rows.append((start, {k: c.strip() for k, c in zip(header, cells, strict=True)}))
    except csv.Error:
        parsed.errors.append(
            {
                "row": line,
                "field": "row",
                "message": Text(
                    "This line cannot be read as CSV (a quote that is not closed, or a "
                    "character that is not text)."
                ),
            }
        )
        return parsed
    if header is None:
        parsed.errors.append(
            {
                "row": header_line,
                "field": "header",
                "message": Text(
                    "The file is empty: its first line must be the header "
                    "code,name,country,language,email."
                ),
            }
        )
    return parsed


def _header_problems(header: list[str], line: int) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    seen: set[str] = set()
    for name in header:
        if name not in known:
            problems.append(
                {
                    "row": line,
                    "field": name or "header",
                    "message": Text(
                        "Unknown column %(column)s. %(columns)s",
                        column=repr(name),
                        columns=_columns_text(),
                    ),
                }
            )
        elif name in seen:
            problems.append(
                {
                    "row": line,
                    "field": name,
                    "message": Text("The column %(column)s appears twice.", column=name),
                }
            )
        seen.add(name)
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            problems.append(
                {
                    "row": line,
                    "field": name,
                    "message": Text(
                        "The header lacks the column %(column)s. %(columns)s",
                        column=name,
                        columns=_columns_text(),
                    ),
                }
            )
    return problems
