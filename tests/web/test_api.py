"""The JSON API as a client sees it: the real application on the real databases (each test runs
on SQLite and on PostgreSQL), tokens for real users, and the bundled example steps."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine.bootstrap import Runtime
from engine.service import Engine
from storage.db import Database
from tests.conftest import example_steps
from tests.web.conftest import Auth, TestClient
from web.app import create_app

USER_ROLES = ("admin", "coordinator", "viewer")


def _new_request(
    client: TestClient, auth: Auth, title: str = "Workshop for the TSE", emb: str = "TSE-HN"
) -> dict[str, Any]:
    writer = auth("coordinator")
    if not any(e["code"] == emb for e in client.get("/api/embs", headers=writer).json()):
        created = client.post(
            "/api/embs",
            headers=writer,
            json={
                "code": emb,
                "name": "Tribunal Supremo Electoral",
                "country": "HN",
                "language": "es",
                "email": "cooperacion@example.org",
            },
        )
        assert created.status_code == 201, created.text
    response = client.post(
        "/api/requests",
        headers=writer,
        json={"programme": "international_workshop", "emb": emb, "title": title},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _snapshot(client: TestClient, auth: Auth, request_id: int) -> tuple[Any, ...]:
    viewer = auth("viewer")
    shown = client.get(f"/api/requests/{request_id}", headers=viewer).json()
    history = client.get(f"/api/requests/{request_id}/history", headers=viewer).json()
    return shown["state"], shown["version"], shown["data"], len(history)


def _step_headers(auth: Auth, actor: str) -> dict[str, str]:
    """The example's actor as an API user; roles without accounts (delegate) act through a
    coordinator, who may fire the same triggers."""
    role, _, name = actor.partition(":")
    return auth(role if role in USER_ROLES else "coordinator", name or None)


# ---------------------------------------------------------------- health
def test_health_answers_without_a_token(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok"}


def test_not_ready_when_the_database_does_not_answer(runtime: Runtime) -> None:
    unreachable = Database("postgresql+psycopg://cicie@127.0.0.1:1/none?connect_timeout=2")
    engine = Engine(unreachable, runtime.registry, runtime.catalogues, clock=runtime.engine.clock)
    broken = Runtime(runtime.settings, unreachable, runtime.catalogues, runtime.registry, engine)
    try:
        with TestClient(create_app(broken)) as client:
            response = client.get("/readyz")
    finally:
        unreachable.dispose()
    assert response.status_code == 503
    assert response.json()["database"] == "error"


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "CICIE"
    assert "/api/requests/{request_id}/advance" in spec["paths"]
    assert client.get("/docs").status_code == 200


# ---------------------------------------------------------------- authentication and roles
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YTpi"}],
    ids=["missing", "unknown", "not-bearer"],
)
def test_requests_without_a_valid_token_are_refused(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.get("/api/requests", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthenticated"


def test_a_revoked_token_is_refused(client: TestClient, runtime: Runtime) -> None:
    accounts = client.app.state.accounts  # type: ignore[attr-defined]
    accounts.add_user("rita", "coordinator", "a-long-enough-password")
    token = accounts.issue_token("rita")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/embs", headers=headers).status_code == 200
    assert accounts.revoke_token(token)
    assert client.get("/api/embs", headers=headers).status_code == 401


def test_viewer_reads_but_cannot_advance_a_request(client: TestClient, auth: Auth) -> None:
    request = _new_request(client, auth)
    viewer = auth("viewer")
    before = _snapshot(client, auth, request["id"])
    shown = client.get(f"/api/requests/{request['id']}", headers=viewer)
    assert shown.status_code == 200
    assert all(not a["allowed"] for a in shown.json()["available"])

    response = client.post(
        f"/api/requests/{request['id']}/advance",
        headers=viewer,
        json={"trigger": "accept", "data": example_steps("international_workshop")[0]["data"]},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_allowed"
    assert _snapshot(client, auth, request["id"]) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/embs", {"code": "X", "name": "X", "country": "MX", "language": "es"}),
        ("/api/requests", {"programme": "seminar", "title": "t"}),
    ],
)
def test_viewer_cannot_create_anything(
    client: TestClient, auth: Auth, path: str, body: dict[str, Any]
) -> None:
    response = client.post(path, headers=auth("viewer"), json=body)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_allowed"
    assert client.get(path, headers=auth("viewer")).json() == []


# ---------------------------------------------------------------- the lifecycle
def test_a_workshop_goes_from_intake_to_closed_through_the_api(
    client: TestClient, auth: Auth
) -> None:
    request = _new_request(client, auth)
    assert request["state"] == "intake"
    assert request["version"] == 1
    assert request["emb"] == "TSE-HN"
    steps = example_steps("international_workshop")
    for step in steps:
        headers = _step_headers(auth, step["as"])
        shown = client.get(f"/api/requests/{request['id']}", headers=headers).json()
        assert step["trigger"] in {a["trigger"] for a in shown["available"]}
        response = client.post(
            f"/api/requests/{request['id']}/advance",
            headers=headers,
            json={"trigger": step["trigger"], "data": step.get("data") or {}},
        )
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == f'"{response.json()["version"]}"'
    final = client.get(f"/api/requests/{request['id']}", headers=auth("viewer")).json()
    assert final["state"] == "closed"
    assert final["version"] == len(steps) + 1
    assert final["data"]["attendance"] == 23

    history = client.get(f"/api/requests/{request['id']}/history", headers=auth("viewer"))
    assert history.status_code == 200
    entries = history.json()
    assert [h["trigger"] for h in entries] == ["create", *[s["trigger"] for s in steps]]
    assert entries[0]["actor"] == "coordinator:coordinator"
    assert entries[1]["actor"] == "coordinator:ana"
    assert entries[-1]["to"] == "closed"

    listed = client.get(
        "/api/requests", params={"state": "closed", "emb": "TSE-HN"}, headers=auth("viewer")
    )
    assert [r["id"] for r in listed.json()] == [request["id"]]
    assert client.get("/api/requests?state=intake", headers=auth("viewer")).json() == []


def test_the_requests_list_pages_and_filters(client: TestClient, auth: Auth) -> None:
    ids = [_new_request(client, auth, title=f"Request {n}")["id"] for n in range(3)]
    viewer = auth("viewer")
    everything = client.get("/api/requests", headers=viewer).json()
    assert sorted(r["id"] for r in everything) == sorted(ids)
    page = client.get("/api/requests", params={"limit": 2, "offset": 1}, headers=viewer).json()
    assert len(page) == 2
    assert client.get("/api/requests?programme=seminar", headers=viewer).json() == []
    refused = client.get("/api/requests?limit=0", headers=viewer)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "query.limit"


def test_workflows_are_listed_with_their_states_and_triggers(
    client: TestClient, auth: Auth
) -> None:
    response = client.get("/api/workflows", headers=auth("viewer"))
    assert response.status_code == 200
    workflows = {w["name"]: w for w in response.json()}
    workshop = workflows["international_workshop"]
    assert workshop["version"] >= 1
    assert workshop["title"]
    assert "intake" in [s["name"] for s in workshop["states"]]
    assert "accept" in [t["trigger"] for t in workshop["triggers"]]


def test_a_workflow_diagram_is_mermaid_text(client: TestClient, auth: Auth) -> None:
    response = client.get(
        "/api/workflows/international_workshop/diagram",
        params={"state": "intake"},
        headers=auth("viewer"),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("stateDiagram-v2")
    assert "intake" in response.text
    unknown = client.get(
        "/api/workflows/international_workshop/diagram?state=nowhere", headers=auth("viewer")
    )
    assert unknown.status_code == 422
    missing = client.get("/api/workflows/no_such_programme/diagram", headers=auth("viewer"))
    assert missing.status_code == 404


# ---------------------------------------------------------------- refusals change nothing
def test_a_broken_rule_is_refused_naming_the_guard_and_changes_nothing(
    client: TestClient, auth: Auth
) -> None:
    request = _new_request(client, auth)
    before = _snapshot(client, auth, request["id"])
    response = client.post(
        f"/api/requests/{request['id']}/advance",
        headers=auth("coordinator"),
        json={"trigger": "accept"},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "guard_failed"
    assert error["details"]
    assert all(d["code"] and d["message"] for d in error["details"])
    assert _snapshot(client, auth, request["id"]) == before


def test_an_agenda_missing_a_methodology_stage_names_the_guard(
    client: TestClient, auth: Auth
) -> None:
    request = _new_request(client, auth)
    coordinator = auth("coordinator")
    for step in example_steps("international_workshop")[:2]:
        advanced = client.post(
            f"/api/requests/{request['id']}/advance",
            headers=coordinator,
            json={"trigger": step["trigger"], "data": step["data"]},
        )
        assert advanced.status_code == 200, advanced.text
    before = _snapshot(client, auth, request["id"])
    sessions = [{"title": "Voter registry", "stages": ["emb_challenges"], "speakers": []}]
    response = client.post(
        f"/api/requests/{request['id']}/advance",
        headers=coordinator,
        json={"trigger": "approve_agenda", "data": {"agenda_sessions": sessions}},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "guard_failed"
    assert "methodology_complete" in {d["code"] for d in error["details"]}
    assert "Voter registry" in " ".join(d["message"] for d in error["details"])
    assert _snapshot(client, auth, request["id"]) == before


SNAKE_CASE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # a code such as admission_criteria


def _blocked_reasons(client: TestClient, auth: Auth, accept_language: str) -> dict[str, Any]:
    request = _new_request(client, auth)
    headers = auth("coordinator") | {"Accept-Language": accept_language}
    shown = client.get(f"/api/requests/{request['id']}", headers=headers)
    assert shown.status_code == 200, shown.text
    return dict(shown.json())


def test_reasons_come_in_the_callers_language_with_their_codes(
    client: TestClient, auth: Auth
) -> None:
    shown = _blocked_reasons(client, auth, "fr")
    assert shown["state_label"] == "Réception de la demande"
    accept = {a["trigger"]: a for a in shown["available"]}["accept"]
    assert accept["label"] == "Accepter la demande"
    assert accept["reasons"]
    for reason in accept["reasons"]:
        assert set(reason) <= {"code", "message", "field"}
        assert not SNAKE_CASE.search(reason["message"]), reason
    timing = next(r for r in accept["reasons"] if r["code"] == "workshop_timing_recorded")
    assert timing["message"].startswith("«\u00a0Moment dans le cycle électoral\u00a0» n'a pas")


def test_accept_language_q_values_are_respected(client: TestClient, auth: Auth) -> None:
    shown = _blocked_reasons(client, auth, "es;q=0.1, en;q=0.9")
    accept = {a["trigger"]: a for a in shown["available"]}["accept"]
    assert accept["label"] == "Accept the request"
    assert any(
        r["message"].startswith("“Timing in the electoral cycle” has not been recorded")
        for r in accept["reasons"]
    )


def test_a_refusal_and_its_field_messages_come_in_the_callers_language(
    client: TestClient, auth: Auth
) -> None:
    request = _new_request(client, auth)
    spanish = auth("coordinator") | {"Accept-Language": "es-MX,es;q=0.9"}
    refused = client.post(
        f"/api/requests/{request['id']}/advance", headers=spanish, json={"trigger": "accept"}
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["message"].startswith("No fue posible «Aceptar la solicitud»:")
    assert all(not SNAKE_CASE.search(d["message"]) for d in error["details"])
    bad = client.post(
        f"/api/requests/{request['id']}/advance",
        headers=spanish,
        json={"trigger": "accept", "data": {"timing_scenario": ["someday"]}},
    )
    assert bad.status_code == 422
    (detail,) = bad.json()["error"]["details"]
    assert detail == {
        "field": "timing_scenario.0",
        "message": "«Momento del ciclo electoral 1»: No es una de las opciones permitidas.",
    }
    body = client.post(
        f"/api/requests/{request['id']}/advance", headers=spanish, json={"colour": "blue"}
    )
    messages = {d["field"]: d["message"] for d in body.json()["error"]["details"]}
    assert messages["body.trigger"] == "Este dato es obligatorio."


def test_a_stale_expected_version_is_a_conflict_and_changes_nothing(
    client: TestClient, auth: Auth
) -> None:
    request = _new_request(client, auth)
    coordinator = auth("coordinator")
    first = example_steps("international_workshop")[0]
    moved = client.post(
        f"/api/requests/{request['id']}/advance",
        headers=coordinator,
        json={"trigger": first["trigger"], "data": first["data"], "expected_version": 1},
    )
    assert moved.status_code == 200, moved.text
    before = _snapshot(client, auth, request["id"])
    second = example_steps("international_workshop")[1]
    response = client.post(
        f"/api/requests/{request['id']}/advance",
        headers=coordinator,
        json={"trigger": second["trigger"], "data": second["data"], "expected_version": 1},
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert error["details"] == {"expected": 1, "actual": 2}
    assert _snapshot(client, auth, request["id"]) == before


def test_if_match_carries_the_version_the_client_read(client: TestClient, auth: Auth) -> None:
    request = _new_request(client, auth)
    coordinator = auth("coordinator")
    shown = client.get(f"/api/requests/{request['id']}", headers=coordinator)
    etag = shown.headers["ETag"]
    assert etag == '"1"'
    first, second = example_steps("international_workshop")[:2]

    moved = client.post(
        f"/api/requests/{request['id']}/advance",
        headers={**coordinator, "If-Match": etag},
        json={"trigger": first["trigger"], "data": first["data"]},
    )
    assert moved.status_code == 200, moved.text
    assert moved.headers["ETag"] == '"2"'

    before = _snapshot(client, auth, request["id"])
    stale = client.post(
        f"/api/requests/{request['id']}/advance",
        headers={**coordinator, "If-Match": etag},
        json={"trigger": second["trigger"], "data": second["data"]},
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"
    assert _snapshot(client, auth, request["id"]) == before

    garbled = client.post(
        f"/api/requests/{request['id']}/advance",
        headers={**coordinator, "If-Match": "yesterday"},
        json={"trigger": second["trigger"], "data": second["data"]},
    )
    assert garbled.status_code == 422
    assert garbled.json()["error"]["details"][0]["field"] == "header.If-Match"
    assert _snapshot(client, auth, request["id"]) == before


def test_a_malformed_body_is_refused_field_by_field(client: TestClient, auth: Auth) -> None:
    request = _new_request(client, auth)
    before = _snapshot(client, auth, request["id"])
    response = client.post(
        f"/api/requests/{request['id']}/advance",
        headers=auth("coordinator"),
        json={"data": "not an object", "colour": "blue"},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_data"
    fields = {d["field"] for d in error["details"]}
    assert {"body.trigger", "body.data", "body.colour"} <= fields
    assert all(d["message"] for d in error["details"])
    assert _snapshot(client, auth, request["id"]) == before


def test_data_a_step_does_not_collect_is_refused_field_by_field(
    client: TestClient, auth: Auth
) -> None:
    request = _new_request(client, auth)
    response = client.post(
        f"/api/requests/{request['id']}/advance",
        headers=auth("coordinator"),
        json={"trigger": "accept", "data": {"favourite_colour": "blue"}},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_data"
    assert error["details"][0]["field"] == "favourite_colour"


def test_an_emb_with_bad_data_is_refused_field_by_field(client: TestClient, auth: Auth) -> None:
    response = client.post(
        "/api/embs",
        headers=auth("admin"),
        json={"code": "TSE HN", "name": "x", "country": "Honduras", "language": "xx"},
    )
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert fields == {"code", "country", "language"}
    assert client.get("/api/embs", headers=auth("admin")).json() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/requests/999999"),
        ("GET", "/api/requests/999999/history"),
        ("POST", "/api/requests/999999/advance"),
    ],
)
def test_an_unknown_request_is_not_found(
    client: TestClient, auth: Auth, method: str, path: str
) -> None:
    body = {"trigger": "accept"} if method == "POST" else None
    response = client.request(method, path, headers=auth("coordinator"), json=body)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_request_for_an_unknown_emb_is_not_found(client: TestClient, auth: Auth) -> None:
    response = client.post(
        "/api/requests",
        headers=auth("coordinator"),
        json={"programme": "seminar", "emb": "NOPE", "title": "t"},
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_html_in_a_title_comes_back_verbatim_in_json(client: TestClient, auth: Auth) -> None:
    title = '<script>alert("x")</script> & <b>Taller</b>'
    request = _new_request(client, auth, title=title)
    assert request["title"] == title
    shown = client.get(f"/api/requests/{request['id']}", headers=auth("viewer"))
    assert shown.headers["content-type"].startswith("application/json")
    assert shown.json()["title"] == title
    assert "&lt;" not in shown.text
    assert "&amp;" not in shown.text


# ---------------------------------------------------------------- bounded input
BEYOND_BIGINT = 2**63  # one past what SQLite stores
BEYOND_INTEGER = 2**31  # one past what PostgreSQL's INTEGER id and version columns store


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", f"/api/requests?offset={BEYOND_BIGINT}", "query.offset"),
        ("GET", "/api/requests?offset=-1", "query.offset"),
        ("GET", "/api/requests?limit=1001", "query.limit"),
        ("GET", f"/api/requests/{BEYOND_BIGINT}", "path.request_id"),
        ("GET", f"/api/requests/{BEYOND_INTEGER}", "path.request_id"),
        ("GET", "/api/requests/0", "path.request_id"),
        ("GET", f"/api/requests/{BEYOND_BIGINT}/history", "path.request_id"),
        ("POST", f"/api/requests/{BEYOND_BIGINT}/advance", "path.request_id"),
        ("PATCH", f"/api/requests/{BEYOND_BIGINT}", "path.request_id"),
        ("GET", f"/api/workflows/{'w' * 81}/diagram", "path.name"),
    ],
)
def test_numbers_and_names_out_of_range_are_refused_naming_the_field(
    client: TestClient, auth: Auth, method: str, path: str, field: str
) -> None:
    body = {"POST": {"trigger": "accept"}, "PATCH": {"data": {}}}.get(method)
    response = client.request(method, path, headers=auth("coordinator"), json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_data"
    assert [d["field"] for d in error["details"]] == [field]


def test_an_expected_version_past_the_largest_id_is_refused(client: TestClient, auth: Auth) -> None:
    request = _new_request(client, auth)
    response = client.post(
        f"/api/requests/{request['id']}/advance",
        headers=auth("coordinator"),
        json={"trigger": "accept", "expected_version": BEYOND_INTEGER},
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.expected_version"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "t" * 301}, "body.title"),
        ({"title": "t", "comment": "c" * 2001}, "body.comment"),
        ({"title": "t", "programme": "p" * 81}, "body.programme"),
        ({"title": "t", "data": {f"field_{i}": i for i in range(201)}}, "body.data"),
    ],
    ids=["title", "comment", "programme", "data"],
)
def test_api_texts_have_the_web_forms_limits(
    client: TestClient, auth: Auth, body: dict[str, Any], field: str
) -> None:
    sent = {"programme": "seminar", **body}
    response = client.post("/api/requests", headers=auth("coordinator"), json=sent)
    assert response.status_code == 422, response.text
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]
    assert client.get("/api/requests", headers=auth("viewer")).json() == []


def test_a_comment_as_long_as_the_web_form_allows_is_kept(client: TestClient, auth: Auth) -> None:
    request = _new_request(client, auth)
    comment = "c" * 2000
    response = client.patch(
        f"/api/requests/{request['id']}",
        headers=auth("coordinator"),
        json={"data": {"contact_name": "Ana"}, "comment": comment},
    )
    assert response.status_code == 200, response.text
    history = client.get(f"/api/requests/{request['id']}/history", headers=auth("viewer"))
    assert history.json()[-1]["comment"] == comment
