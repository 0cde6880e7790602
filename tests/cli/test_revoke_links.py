"""`cicie request revoke-links ID`: every report and status link of the request stops working,
the history says who did it, and the command prints the new links to send. On SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from config.secret import site_secret
from config.settings import Settings
from engine.actor import Actor
from engine.bootstrap import Runtime, build_runtime
from engine.links import LinkRevoked, LinkSigner
from engine.links_ops import current_epoch
from notifications.links import admit, link_maker
from notifications.recipients import RecipientResolver
from tests.cli_support import ok_json
from tests.conftest import example_steps

Run = Callable[..., Result]
ANA = Actor("coordinator", "ana")
ACCEPT = example_steps("international_workshop")[0]


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"CICIE_DATABASE_URL": database_url, "CICIE_HOME": str(tmp_path / "home")}


@pytest.fixture
def cicie(env: dict[str, str]) -> Run:
    runner = CliRunner()

    def run(*args: Any) -> Result:
        return runner.invoke(app, [str(a) for a in args], env=env)

    return run


@pytest.fixture
def same_site(env: dict[str, str]) -> Iterator[Runtime]:
    """The installation the commands work on (its database and its secret)."""
    settings = Settings(database_url=env["CICIE_DATABASE_URL"], home=Path(env["CICIE_HOME"]))
    rt = build_runtime(settings)
    yield rt
    rt.close()


def honoured(rt: Runtime, url: str) -> bool:
    """Whether the site would open this link now (the check its pages make)."""
    purpose, token = url.split("/")[-2:]
    signer = LinkSigner(site_secret(rt.settings).get_secret_value(), rt.engine.clock)
    claim = signer.verify(token, "report" if purpose == "report" else "status")
    view = rt.engine.get(claim.request_id)
    resolver = RecipientResolver(rt.catalogues, rt.settings)
    epoch = current_epoch(rt.engine, view.id)
    try:
        admit(claim, view, rt.engine.emb_row(view.emb), resolver, epoch)
    except LinkRevoked:
        return False
    return True


def test_revoke_links_stops_the_old_links_and_prints_new_ones(
    cicie: Run, same_site: Runtime
) -> None:
    engine = same_site.engine
    engine.add_emb(code="TSE-HN", name="TSE", country="HN", language="es", email="tse@hn.example")
    view = engine.create("international_workshop", emb_code="TSE-HN", title="Taller", actor=ANA)
    view = engine.advance(view.id, ACCEPT["trigger"], ANA, data=ACCEPT["data"])
    resolver = RecipientResolver(same_site.catalogues, same_site.settings)
    maker = link_maker(same_site.settings, engine.clock)
    shared = maker.shared(view, engine.emb_row("TSE-HN"), resolver)
    old = [link.url for link in shared]
    # the EMB's contact, the request's contact, and each co-organiser's address (issue 14)
    addresses = {link.recipient.address for link in shared}
    assert {"karla.mendez@example.org", "tse@hn.example"} < addresses
    assert all(honoured(same_site, url) for url in old)

    revoked = ok_json(
        cicie("request", "revoke-links", view.id, "--as", "coordinator:ana", "--json")
    )

    assert (revoked["id"], revoked["links_epoch"], revoked["version"]) == (
        view.id,
        1,
        view.version + 1,
    )
    assert {x["email"] for x in revoked["links"]} == {link.recipient.address for link in shared}
    assert {x["purpose"] for x in revoked["links"]} == {"status"}
    assert not any(honoured(same_site, url) for url in old)
    assert all(honoured(same_site, x["url"]) for x in revoked["links"])
    last = ok_json(cicie("request", "history", view.id, "--json"))[-1]
    assert (last["trigger"], last["actor"], last["comment"]) == (
        "revoke_links",
        "coordinator:ana",
        "all report and status links revoked",
    )
    assert (last["from"], last["to"]) == ("needs_assessment", "needs_assessment")


def test_revoke_links_is_for_coordinators_and_existing_requests(
    cicie: Run, same_site: Runtime
) -> None:
    view = same_site.engine.create("seminar", emb_code=None, title="Seminario", actor=ANA)
    result = cicie("request", "revoke-links", view.id, "--as", "viewer:vera", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "not_allowed"
    missing = cicie("request", "revoke-links", 999, "--json")
    assert missing.exit_code == 1
    assert json.loads(missing.stdout)["error"]["code"] == "not_found"
    assert same_site.engine.get(view.id).version == 1
