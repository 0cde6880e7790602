"""`cicie emb import FILE.csv`: many organisations at once, from the CSV a spreadsheet saves
(UTF-8, with or without the byte-order mark Excel writes). Every row is checked first; one bad
row and nothing is written (exit 1), the problem named by its line (the header is line 1) and
field. A code already registered is an update. `--dry-run` writes nothing. The file is
bounded before it is read. On SQLite and PostgreSQL."""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from engine.organisation_import import MAX_IMPORT_BYTES
from tests.cli_support import Run, command_line

HEADER = "code,name,country,language,email,kind"
GOOD = [
    "HN-CNE,Consejo Nacional Electoral,HN,es,info@cne.example.org,emb",
    'MX-PARTY,"Partido Ejemplo, A.C.",MX,es,,political_party',
    "SN-CENA,Commission électorale nationale autonome,SN,fr,cena@example.org,emb",
]


@pytest.fixture
def cicie(database_url: str, tmp_path: Path) -> Run:
    return command_line(database_url, tmp_path / "home")


def csv_file(tmp_path: Path, lines: list[str], *, bom: bool = False, name: str = "o.csv") -> Path:
    path = tmp_path / name
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    return path


def listed(cicie: Run) -> list[dict[str, Any]]:
    result = cicie("org", "list", "--json")
    assert result.exit_code == 0, result.output + result.stderr
    return list(json.loads(result.stdout))


def report(result: Result, exit_code: int) -> dict[str, Any]:
    assert result.exit_code == exit_code, result.output + result.stderr
    return dict(json.loads(result.stdout))


@pytest.mark.parametrize("bom", [False, True], ids=["utf8", "utf8-with-bom"])
def test_a_good_file_writes_every_organisation(cicie: Run, tmp_path: Path, bom: bool) -> None:
    path = csv_file(tmp_path, [HEADER, *GOOD], bom=bom)
    answer = report(cicie("emb", "import", path, "--json"), 0)
    assert answer == {
        "ok": True,
        "dry_run": False,
        "created": ["HN-CNE", "MX-PARTY", "SN-CENA"],
        "updated": [],
        "unchanged": [],
        "errors": [],
    }
    orgs = {o["code"]: o for o in listed(cicie)}
    assert set(orgs) == {"HN-CNE", "MX-PARTY", "SN-CENA"}
    assert orgs["MX-PARTY"]["name"] == "Partido Ejemplo, A.C."
    assert orgs["MX-PARTY"]["email"] is None
    assert orgs["MX-PARTY"]["kind"] == "political_party"
    assert orgs["SN-CENA"]["name"] == "Commission électorale nationale autonome"
    assert orgs["HN-CNE"]["code"] == "HN-CNE"  # no byte-order mark glued to the first code


def test_one_bad_row_writes_nothing_and_names_its_line_and_field(
    cicie: Run, tmp_path: Path
) -> None:
    bad = "PE-JNE,Jurado Nacional de Elecciones,PE,es,jne@example,emb"
    path = csv_file(tmp_path, [HEADER, GOOD[0], GOOD[1], bad, GOOD[2]])
    answer = report(cicie("emb", "import", path, "--json"), 1)
    assert answer["ok"] is False
    assert answer["created"] == answer["updated"] == []
    assert [(e["row"], e["field"]) for e in answer["errors"]] == [(4, "email")]
    assert listed(cicie) == []


def test_the_human_report_names_the_line_in_the_chosen_language(cicie: Run, tmp_path: Path) -> None:
    path = csv_file(tmp_path, [HEADER, GOOD[0], "PE-JNE,JNE,PE,xx,,emb"])
    english = cicie("emb", "import", path, "--lang", "en")
    assert english.exit_code == 1
    assert "Line 3, language:" in english.stderr
    assert "Nothing was written" in english.stderr
    spanish = cicie("emb", "import", path, "--lang", "es")
    assert spanish.exit_code == 1
    assert "Línea 3, language:" in spanish.stderr
    assert listed(cicie) == []


def test_every_problem_is_reported_at_once(cicie: Run, tmp_path: Path) -> None:
    lines = [
        HEADER,
        "BAD CODE,,ZZ,xx,nope,church",
        GOOD[0],
        "hn-cne,Otro,HN,es,,emb",  # the same code, in other letters
    ]
    path = csv_file(tmp_path, lines)
    answer = report(cicie("emb", "import", path, "--json", "--lang", "en"), 1)
    assert [(e["row"], e["field"]) for e in answer["errors"]] == [
        (2, "code"),
        (2, "name"),
        (2, "country"),
        (2, "language"),
        (2, "email"),
        (2, "kind"),
        (4, "code"),
    ]
    assert "line 3" in answer["errors"][-1]["message"]


def test_dry_run_checks_and_writes_nothing(cicie: Run, tmp_path: Path) -> None:
    path = csv_file(tmp_path, [HEADER, *GOOD])
    answer = report(cicie("emb", "import", path, "--dry-run", "--json"), 0)
    assert answer["ok"] is True
    assert answer["dry_run"] is True
    assert answer["created"] == ["HN-CNE", "MX-PARTY", "SN-CENA"]
    assert listed(cicie) == []
    bad = csv_file(tmp_path, [HEADER, "X,,HN,es,,emb"], name="bad.csv")
    assert report(cicie("emb", "import", bad, "--dry-run", "--json"), 1)["ok"] is False


def test_an_existing_code_is_updated_and_reported_so(cicie: Run, tmp_path: Path) -> None:
    report(cicie("emb", "import", csv_file(tmp_path, [HEADER, *GOOD]), "--json"), 0)
    again = [
        "code,email,language,name,country",  # any order; no kind column: kinds are kept
        "HN-CNE,nuevo@cne.example.org,es,Consejo Nacional Electoral,HN",
        'MX-PARTY,,es,"Partido Ejemplo, A.C.",MX',
        "GT-TSE,tse@example.org,es,Tribunal Supremo Electoral,GT",
    ]
    path = csv_file(tmp_path, again, name="again.csv")
    answer = report(cicie("emb", "import", path, "--json"), 0)
    assert (answer["created"], answer["updated"], answer["unchanged"]) == (
        ["GT-TSE"],
        ["HN-CNE"],
        ["MX-PARTY"],
    )
    orgs = {o["code"]: o for o in listed(cicie)}
    assert orgs["HN-CNE"]["email"] == "nuevo@cne.example.org"
    assert orgs["MX-PARTY"]["kind"] == "political_party"
    assert orgs["GT-TSE"]["kind"] == "emb"


def test_an_update_may_not_move_an_organisation_to_another_country(
    cicie: Run, tmp_path: Path
) -> None:
    report(cicie("emb", "import", csv_file(tmp_path, [HEADER, GOOD[0]]), "--json"), 0)
    moved = csv_file(tmp_path, [HEADER, "HN-CNE,CNE,GT,es,,emb"], name="moved.csv")
    answer = report(cicie("emb", "import", moved, "--json"), 1)
    assert [(e["row"], e["field"]) for e in answer["errors"]] == [(2, "country")]
    assert listed(cicie)[0]["name"] == "Consejo Nacional Electoral"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("code,name,country,language", "email"),  # a column missing
        ("code,name,country,language,email,phone", "phone"),  # an unknown column
        ("code,name,country,language,email,email", "email"),  # twice
    ],
)
def test_a_header_that_is_not_the_format_is_refused(
    cicie: Run, tmp_path: Path, header: str, field: str
) -> None:
    path = csv_file(tmp_path, [header, "HN-CNE,CNE,HN,es,a@example.org,x"])
    answer = report(cicie("emb", "import", path, "--json"), 1)
    assert [(e["row"], e["field"]) for e in answer["errors"]] == [(1, field)]
    assert listed(cicie) == []


def test_a_file_larger_than_the_limit_is_refused_unread(cicie: Run, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(HEADER.encode() + b"\n" + b"#" * MAX_IMPORT_BYTES)
    answer = report(cicie("emb", "import", path, "--json"), 1)
    assert [(e["row"], e["field"]) for e in answer["errors"]] == [(None, "file")]
    assert listed(cicie) == []


@pytest.mark.parametrize(
    ("data", "row"),
    [
        (codecs.BOM_UTF16_LE + HEADER.encode("utf-16-le"), None),  # "Unicode text" from Excel
        (
            f"{HEADER}\nHN-CNE,Consejo,HN,es,,emb\nPE-JNE,Jurado\xf1,PE,es,,emb\n".encode(
                "latin-1"
            ),
            3,
        ),
        (b"", 1),
    ],
    ids=["utf16", "latin1", "empty"],
)
def test_a_file_that_is_not_utf8_csv_is_refused(
    cicie: Run, tmp_path: Path, data: bytes, row: int | None
) -> None:
    path = tmp_path / "other.csv"
    path.write_bytes(data)
    answer = report(cicie("emb", "import", path, "--json"), 1)
    assert [e["row"] for e in answer["errors"]] == [row]


def test_a_semicolon_separated_file_from_a_spanish_spreadsheet_is_read(
    cicie: Run, tmp_path: Path
) -> None:
    lines = ["code;name;country;language;email", "HN-CNE;Consejo, Honduras;hn;ES;"]
    answer = report(cicie("emb", "import", csv_file(tmp_path, lines), "--json"), 0)
    assert answer["created"] == ["HN-CNE"]
    [org] = listed(cicie)
    assert (org["name"], org["country"], org["language"]) == ("Consejo, Honduras", "HN", "es")
