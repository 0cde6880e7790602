"""Request ids and the 503 shape, in-process (the real app, the real PostgreSQL behind the
test's TCP proxy): a caller's sane `X-Request-ID` is kept, anything else replaced; the id is on
the JSON log lines written while the request is handled; a database that is cut off is a 503
`unavailable` with `Retry-After`, and the next request after it is back succeeds."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from cli.logs import configure_logging
from config.settings import Settings
from engine.accounts import Accounts
from engine.bootstrap import Runtime, build_runtime
from tests.faults.conftest import PgDatabases, url_of
from tests.faults.tcp_proxy import TcpProxy
from web.app import create_app

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


@pytest.fixture
def proxied(pg: PgDatabases, pg_proxy: TcpProxy, tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(
        home=tmp_path / "home",
        database_url=url_of(pg.new(), port=pg_proxy.port),
        environment="test",
        log_format="json",
    )
    rt = build_runtime(settings, upgrade=False)
    yield rt
    rt.close()


@pytest.fixture
def logs(proxied: Runtime) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = configure_logging(proxied.settings, stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def test_request_ids_are_kept_or_made_and_logged_and_an_outage_is_a_503(
    proxied: Runtime, pg_proxy: TcpProxy, logs: io.StringIO
) -> None:
    accounts = Accounts(proxied.db)
    accounts.add_user("watcher", "viewer", "watcher-password-long")
    token = accounts.issue_token("watcher")
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(proxied)) as client:
        kept = client.get("/api/requests", headers={**auth, "X-Request-ID": "lb-1234.abc"})
        assert kept.status_code == 200
        assert kept.headers["X-Request-ID"] == "lb-1234.abc"
        made = client.get("/api/requests", headers={**auth, "X-Request-ID": "bad id <script>"})
        assert made.headers["X-Request-ID"] not in ("", "bad id <script>")
        assert len(made.headers["X-Request-ID"]) == 32

        pg_proxy.cut()
        down = client.get("/api/requests", headers={**auth, "X-Request-ID": "during-outage"})
        assert down.status_code == 503
        assert down.headers["Retry-After"] == "2"
        assert down.headers["X-Request-ID"] == "during-outage"
        assert down.json()["error"]["code"] == "unavailable"
        assert client.get("/readyz").status_code == 503

        pg_proxy.restore()
        again = client.get("/api/requests", headers=auth)
        assert again.status_code == 200, "the pool replaces its dead connections by itself"
        assert client.get("/readyz").status_code == 200

    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "cicie.access"]
    assert {"lb-1234.abc", "during-outage"} <= {line.get("request_id") for line in access}
    outage = [line for line in lines if line.get("request_id") == "during-outage"]
    assert any(line["level"] == "WARNING" and line["logger"] == "web.errors" for line in outage)
    assert any(line.get("http", {}).get("status") == 503 for line in outage)
