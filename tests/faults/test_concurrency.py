"""Many HTTP clients advance and update the same requests at once through a real web process
(`cicie serve --no-worker` on PostgreSQL), each with the `If-Match` of what it read: a stale
write is a 409 `conflict` that writes nothing; every attempt ends as a 200 or a 409; nothing is
lost (the final version is one more per 200) and the history has no gap."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from storage.db import Database
from storage.models import history_table, request_table
from tests.faults.conftest import Spawner, wait_until
from tests.faults.invariants import assert_history_contiguous, free_port, seed_api

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

CLIENTS = 8
ROUNDS = 15


def test_concurrent_clients_get_409_for_stale_writes_and_lose_nothing(
    db: Database, spawn: Spawner, tmp_path: Path
) -> None:
    url = db.url.render_as_string(hide_password=False)
    token, ids = seed_api(url, tmp_path / "seed", requests_count=2)
    port = free_port()
    server = spawn.start("serve", "serve", "--no-worker", "--port", str(port), env=spawn.env(url))
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(ready, 60, f"the server answers:\n{server.output()[-2000:]}")
    outcomes: list[tuple[int, int, int, dict[str, object]]] = []  # (request, status, version)
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(n: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            start.wait()
            for i in range(ROUNDS):
                rid = ids[(n + i) % len(ids)]
                got = http.get(f"/api/requests/{rid}")
                assert got.status_code == 200, got.text
                etag, state = got.headers["ETag"], got.json()["state"]
                if i % 3 == 0:
                    sent = http.patch(
                        f"/api/requests/{rid}",
                        json={"data": {"contact_name": f"client {n} round {i}"}},
                        headers={"If-Match": etag},
                    )
                else:
                    step = (
                        {"trigger": "resume"}
                        if state == "on_hold"
                        else {"trigger": "put_on_hold", "data": {"hold_reason": f"{n}/{i}"}}
                    )
                    sent = http.post(
                        f"/api/requests/{rid}/advance", json=step, headers={"If-Match": etag}
                    )
                body = sent.json()
                version = body.get("version", 0) if sent.status_code == 200 else 0
                with lock:
                    outcomes.append((rid, sent.status_code, version, body))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    statuses = Counter(status for _, status, _, _ in outcomes)
    assert len(outcomes) == CLIENTS * ROUNDS, "a client died"
    assert set(statuses) <= {200, 409}, statuses
    assert statuses[200] + statuses[409] == CLIENTS * ROUNDS
    assert statuses[409] > 0, "no contention: the test proves nothing"
    for _, status, _, body in outcomes:
        if status == 409:
            assert body["error"]["code"] == "conflict"  # type: ignore[index]
    produced = Counter((rid, v) for rid, status, v, _ in outcomes if status == 200)
    assert set(produced.values()) == {1}, "two 200s for one version"
    with db.read() as conn:
        final = dict(conn.execute(sa.select(request_table.c.id, request_table.c.version)).all())
        history = conn.execute(sa.select(sa.func.count()).select_from(history_table)).scalar()
    for rid in ids:
        wins = sum(1 for r, status, _, _ in outcomes if r == rid and status == 200)
        assert final[rid] == 1 + wins, "a write was lost, or applied without a 200"
    assert history == sum(final.values())
    assert_history_contiguous(db)
