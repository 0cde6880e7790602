"""Every operation of the OpenAPI schema, called with data generated from the schema
(schemathesis): values it allows and values it does not (wrong types, out-of-range numbers,
oversized texts, garbage bodies and headers), with a valid token and without. Whatever comes,
the answer is never a 5xx and nothing is logged as an error (no traceback reaches the log).

Deterministic (`derandomize`) and bounded: a fixed number of examples per operation, on
SQLite and on PostgreSQL, on a database that holds a few requests so that generated ids can
name real rows."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode

from engine.views import RequestView
from tests.web.conftest import Auth, TestClient

# examples per operation: with a token the requests reach the operations themselves; without
# one every answer is the same 401 (or 413/422 for a body refused before the token is read)
EXAMPLES = {"token": 24, "no-token": 8}
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
BASE_URL = "http://testserver"


def operations(app: FastAPI) -> list[APIOperation]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def send(client: TestClient, case: Case, token: str | None) -> Any:
    """The generated request as it would go over the wire (headers as bytes: a header that
    cannot be encoded is not a request any client could send)."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL)
    headers = dict(kwargs.get("headers") or {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if kwargs.get("cookies"):
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in kwargs["cookies"].items())
    try:
        raw_headers = [
            (str(k).encode("latin-1"), str(v).encode("latin-1")) for k, v in headers.items()
        ]
    except UnicodeEncodeError:
        reject()
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["json"] = kwargs["json"]
    elif isinstance(kwargs.get("data"), bytes | str):
        body["content"] = kwargs["data"]
    elif kwargs.get("data") is not None:
        body["data"] = kwargs["data"]
    return client.request(
        kwargs["method"], kwargs["url"], params=kwargs.get("params"), headers=raw_headers, **body
    )


def fuzz(
    client: TestClient,
    operation: APIOperation,
    token: str | None,
    answered: dict[str, set[int]],
    examples: int,
) -> None:
    """Call `operation` with values its schema allows and values it does not."""
    label = f"{operation.method.upper()} {operation.path}"
    generated = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(FUZZ, max_examples=examples)
    @given(case=generated)
    def call(case: Case) -> None:
        response = send(client, case, token)
        answered.setdefault(label, set()).add(response.status_code)
        assert response.status_code < 500, (
            f"{label} answered {response.status_code}: {response.text[:500]}\n"
            f"to {case.as_transport_kwargs(base_url=BASE_URL)!r:.1500}"
        )

    call()


@pytest.mark.parametrize("with_token", [True, False], ids=["token", "no-token"])
def test_no_operation_answers_5xx_whatever_it_is_sent(
    app: FastAPI,
    auth: Auth,
    make_request: Callable[..., RequestView],
    caplog: pytest.LogCaptureFixture,
    with_token: bool,
) -> None:
    make_request("international_workshop", "intake")
    make_request("seminar", "intake")
    token = auth("coordinator")["Authorization"].removeprefix("Bearer ") if with_token else None
    caplog.set_level(logging.WARNING)
    answered: dict[str, set[int]] = {}
    with TestClient(app, base_url=BASE_URL) as client:
        all_operations = operations(app)
        for operation in all_operations:
            fuzz(client, operation, token, answered, EXAMPLES["token" if token else "no-token"])
    assert len(answered) == len(all_operations), f"operations never called: {answered}"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [f"{r.name}: {r.getMessage()}" for r in errors]
    if with_token:  # the fuzzing reached the operations, not only the token check
        assert any(code < 300 for codes in answered.values() for code in codes)
