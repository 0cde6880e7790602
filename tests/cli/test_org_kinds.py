"""Requesting organisations of every kind. The brochure ("To whom are the Center's programs are
addressed to?"): "the spectrum of attention for requests from civil society and political
parties organisms has widened"; internships remain for "the requesting Electoral
Administration Body (OAE)" (§ 2.2). `cicie org add --kind …`, `cicie request new … --org`,
and the refusal when a kind may not request a programme. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_support import Run, command_line, ok_json


@pytest.fixture
def cicie(database_url: str, tmp_path: Path) -> Run:
    return command_line(database_url, tmp_path / "home")


PARTY = (
    "org",
    "add",
    "--code",
    "MX-PARTY",
    "--name",
    "Partido Ejemplo",
    "--country",
    "MX",
    "--language",
    "es",
    "--email",
    "contacto@partido.example",
    "--kind",
    "political_party",
)


def test_a_political_party_requests_a_seminar(cicie: Run) -> None:
    """Seminars are open: a political party's request is taken and recorded."""
    org = ok_json(cicie(*PARTY, "--json"))
    assert org["kind"] == "political_party"
    assert org["code"] == "MX-PARTY"
    result = cicie("request", "new", "seminar", "--org", "MX-PARTY", "--title", "Foro", "--json")
    view = ok_json(result)
    assert view["state"] == "intake"
    listed = ok_json(cicie("org", "list", "--json"))
    assert [(o["code"], o["kind"]) for o in listed] == [("MX-PARTY", "political_party")]


def test_a_political_party_may_not_request_an_internship(cicie: Run) -> None:
    """Internships are for "the requesting Electoral Administration Body (OAE)" (§ 2.2)."""
    ok_json(cicie(*PARTY, "--json"))
    result = cicie(
        "request", "new", "internship", "--org", "MX-PARTY", "--title", "Estancia", "--lang", "en"
    )
    assert result.exit_code == 1, result.output
    assert "Partido Ejemplo" in result.stderr
    assert "Political party" in result.stderr
    assert "Internship" in result.stderr
    spanish = cicie(
        "request", "new", "internship", "--emb", "MX-PARTY", "--title", "Estancia", "--lang", "es"
    )
    assert spanish.exit_code == 1
    assert "Partido político" in spanish.stderr
    assert ok_json(cicie("request", "list", "--json")) == []


def test_an_emb_added_with_emb_add_is_an_emb_and_may_request_an_internship(cicie: Run) -> None:
    emb = ok_json(
        cicie(
            "emb",
            "add",
            "--code",
            "HN-CNE",
            "--name",
            "Consejo Nacional Electoral",
            "--country",
            "HN",
            "--language",
            "es",
            "--json",
        )
    )
    assert emb["kind"] == "emb"
    result = cicie("request", "new", "internship", "--emb", "HN-CNE", "--title", "Estancia")
    assert result.exit_code == 0, result.output + result.stderr


def test_the_human_output_names_the_kind_in_words(cicie: Run) -> None:
    result = cicie(*PARTY, "--lang", "es")
    assert result.exit_code == 0, result.output + result.stderr
    assert "Partido político" in result.stdout


def test_an_unknown_kind_is_bad_usage(cicie: Run) -> None:
    result = cicie(*PARTY[:-1], "church")
    assert result.exit_code == 2, result.output
    assert ok_json(cicie("org", "list", "--json")) == []


def test_org_update_changes_the_kind(cicie: Run) -> None:
    ok_json(cicie(*PARTY, "--json"))
    org = ok_json(cicie("org", "update", "MX-PARTY", "--kind", "civil_society", "--json"))
    assert org["kind"] == "civil_society"
