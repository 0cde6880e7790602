"""`cicie org deactivate` (and `cicie emb deactivate`): a deactivated organisation keeps its
requests but `cicie request new --org` refuses it, naming it and how to reactivate it;
`cicie org activate` undoes that. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import Result

from tests.cli_support import Run, command_line, ok_json


@pytest.fixture
def cicie(database_url: str, tmp_path: Path) -> Run:
    return command_line(database_url, tmp_path / "home")


def new_request(cicie: Run, *extra: str) -> Result:
    return cicie("request", "new", "seminar", "--org", "HN-CNE", "--title", "Foro", *extra)


def test_a_deactivated_organisation_opens_no_request_until_it_is_reactivated(cicie: Run) -> None:
    ok_json(
        cicie(
            "emb", "add", "--code", "HN-CNE", "--name", "Consejo Nacional Electoral",
            "--country", "HN", "--language", "es", "--json",
        )
    )  # fmt: skip
    first = ok_json(new_request(cicie, "--json"))
    org = ok_json(cicie("emb", "deactivate", "HN-CNE", "--json"))
    assert org["active"] is False

    refused = new_request(cicie, "--lang", "en")
    assert refused.exit_code == 1
    assert "Consejo Nacional Electoral" in refused.stderr
    assert "cicie org activate HN-CNE" in refused.stderr
    requests = ok_json(cicie("request", "list", "--json"))
    assert [r["id"] for r in requests] == [first["id"]]  # its request stays
    assert "deactivated" in cicie("org", "list", "--lang", "en").stdout

    assert ok_json(cicie("org", "activate", "HN-CNE", "--json"))["active"] is True
    ok_json(new_request(cicie, "--json"))
    assert len(ok_json(cicie("request", "list", "--json"))) == 2


def test_deactivating_an_unknown_code_is_not_found(cicie: Run) -> None:
    result = cicie("org", "deactivate", "NOPE", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "not_found"
