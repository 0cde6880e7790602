"""The JSON API: the CLI's operations over HTTP. Each route parses its input, calls one engine
(or accounts) operation and presents the view; the rules live in the engine.

Requests carry their version as an `ETag`; `If-Match` on an advance (or `expected_version` in
the body) makes a stale write a 409 instead of silently overwriting somebody else's change.

`Accept-Language` (q-values respected) chooses the language of labels and messages — state and
action labels, the reasons an action is blocked, refusals (web/errors.py) — among the interface
languages; without it, English. Codes stay as they are beside them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from engine.compiler import CompiledWorkflow
from engine.diagram import mermaid
from engine.errors import InvalidData
from engine.my_work import load_my_work
from engine.views import RequestView, shown_dict
from i18n import SOURCE_LANGUAGE, UI_LANGUAGES, negotiate
from web.params import (
    CODE_MAX,
    COMMENT_MAX,
    DATA_FIELDS_MAX,
    EMAIL_MAX,
    EMB_CODE_MAX,
    EMB_NAME_MAX,
    MAX_ID,
    NAME_MAX,
    TITLE_MAX,
    ApiId,
    Limit,
    Offset,
)
from web.security import CurrentUser, EngineDep, RuntimeDep, Writer, actor_of

router = APIRouter(prefix="/api", tags=["api"])

_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*\Z')


def api_language(request: Request) -> str:
    """The caller's language from `Accept-Language` (q-values respected); English without it."""
    return negotiate(request.headers.get("accept-language"), UI_LANGUAGES, SOURCE_LANGUAGE)


Language = Annotated[str, Depends(api_language)]


# ---------------------------------------------------------------- bodies
class _Body(BaseModel):
    """Unknown keys are refused (a typo must not be silently ignored). Texts have the web
    forms' limits and numbers what a database column holds, so an oversized value is a 422
    naming its field before the engine sees it; the values' own rules (codes, the step's
    fields) are the engine's and not repeated here. The whole body is bounded before it is
    read (web/body_limit.py)."""

    model_config = ConfigDict(extra="forbid")


Comment = Annotated[str | None, Field(max_length=COMMENT_MAX)]
Data = Annotated[dict[str, Any], Field(max_length=DATA_FIELDS_MAX)]
Version = Annotated[int | None, Field(ge=1, le=MAX_ID)]


class EmbIn(_Body):
    code: str = Field(max_length=EMB_CODE_MAX)
    name: str = Field(max_length=EMB_NAME_MAX)
    country: str = Field(max_length=CODE_MAX)
    language: str = Field(max_length=CODE_MAX)
    email: str | None = Field(default=None, max_length=EMAIL_MAX)
    kind: str = Field(default="emb", max_length=CODE_MAX)  # emb, political_party… (checked)


class RequestIn(_Body):
    programme: str = Field(max_length=NAME_MAX)
    emb: str | None = Field(default=None, max_length=EMB_CODE_MAX)
    title: str = Field(max_length=TITLE_MAX)
    data: Data | None = None
    comment: Comment = None


class AdvanceIn(_Body):
    trigger: str = Field(min_length=1, max_length=NAME_MAX)
    data: Data | None = None
    expected_version: Version = None
    comment: Comment = None


# ---------------------------------------------------------------- presenters
def _workflow_dict(wf: CompiledWorkflow, language: str) -> dict[str, Any]:
    d = wf.definition
    return {
        "name": wf.name,
        "version": wf.version,
        "title": d.title.get(language),
        "initial": d.initial,
        "states": [
            {
                "name": s.name,
                "label": s.label.get(language),
                "final": s.final,
                "hold": s.hold,
            }
            for s in d.states.values()
        ],
        "triggers": [
            {
                "trigger": t.trigger,
                "label": t.label.get(language),
                "from": list(t.sources),
                "to": t.dest,
                "roles": list(t.roles),
            }
            for t in d.transitions
        ],
    }


def _with_etag(response: Response, view: RequestView, language: str) -> dict[str, Any]:
    response.headers["ETag"] = f'"{view.version}"'
    response.headers["Content-Language"] = language
    return view.to_dict(language)


def _expected_version(body: int | None, if_match: str | None) -> int | None:
    """The version the caller read, from the body or from `If-Match` (which must agree)."""
    if if_match is None or if_match.strip() == "*":
        return body
    found = _IF_MATCH.match(if_match)
    if found is None:
        raise InvalidData(
            'If-Match must be a request version such as "3"',
            [{"field": "header.If-Match", "message": 'expected a version such as "3"'}],
        )
    header = int(found.group(1))
    if body is not None and body != header:
        raise InvalidData(
            "expected_version and If-Match disagree",
            [{"field": "body.expected_version", "message": "differs from If-Match"}],
        )
    return header


# ---------------------------------------------------------------- workflows
@router.get("/workflows")
def list_workflows(
    runtime: RuntimeDep, _user: CurrentUser, language: Language
) -> list[dict[str, Any]]:
    return [
        _workflow_dict(runtime.registry.current(name), language)
        for name in runtime.registry.names()
    ]


@router.get("/workflows/{name}/diagram", response_class=PlainTextResponse)
def workflow_diagram(
    name: Annotated[str, Path(max_length=NAME_MAX)],
    runtime: RuntimeDep,
    _user: CurrentUser,
    state: Annotated[str | None, Query(max_length=NAME_MAX)] = None,
) -> PlainTextResponse:
    """Mermaid `stateDiagram-v2` text; `?state=` highlights one state."""
    definition = runtime.registry.current(name).definition
    try:
        text = mermaid(definition, state)
    except ValueError as exc:
        raise InvalidData(str(exc), [{"field": "query.state", "message": "unknown state"}]) from exc
    return PlainTextResponse(text, media_type="text/plain; charset=utf-8")


# ---------------------------------------------------------------- EMBs
@router.post("/embs", status_code=status.HTTP_201_CREATED)
def add_emb(body: EmbIn, engine: EngineDep, _user: Writer) -> dict[str, Any]:
    return engine.add_emb(**body.model_dump()).to_dict()


@router.get("/embs")
def list_embs(engine: EngineDep, _user: CurrentUser) -> list[dict[str, Any]]:
    return [e.to_dict() for e in engine.list_embs()]


# ---------------------------------------------------------------- requests
@router.post("/requests", status_code=status.HTTP_201_CREATED)
def create_request(
    body: RequestIn, engine: EngineDep, user: Writer, response: Response, language: Language
) -> dict[str, Any]:
    view = engine.create(
        body.programme,
        emb_code=body.emb,
        title=body.title,
        actor=actor_of(user),
        data=body.data,
        comment=body.comment,
    )
    response.headers["Location"] = f"/api/requests/{view.id}"
    return _with_etag(response, view, language)


@router.get("/requests")
def list_requests(
    engine: EngineDep,
    _user: CurrentUser,
    language: Language,
    state: Annotated[str | None, Query(max_length=NAME_MAX)] = None,
    programme: Annotated[str | None, Query(max_length=NAME_MAX)] = None,
    emb: Annotated[str | None, Query(max_length=EMB_CODE_MAX)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    views = engine.list_requests(
        state=state, programme=programme, emb_code=emb, limit=limit, offset=offset
    )
    return [v.to_dict(language) for v in views]


@router.get("/requests/{request_id}")
def show_request(
    request_id: ApiId, engine: EngineDep, user: CurrentUser, response: Response, language: Language
) -> dict[str, Any]:
    """The request and, for the caller's role, each trigger of its state: allowed or why not
    (`reasons`: [{"code", "message"}], the messages in the caller's language), and its
    `warnings` ([{"code", "message", "field"}]: what does not block but must be seen)."""
    view, available = engine.show(request_id, actor_of(user))
    _with_etag(response, view, language)
    return shown_dict(view, available, language)


@router.get("/work")
def my_work(
    engine: EngineDep,
    user: CurrentUser,
    language: Language,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> dict[str, Any]:
    """Needs my action: the requests the caller's role can move forward now, overdue first (25
    a page), each step with whether it is allowed and why not, the next due moment, and the
    escalations addressed to the role (the page /work)."""
    return load_my_work(engine, actor_of(user), page).to_dict(language)


@router.post("/requests/{request_id}/advance")
def advance_request(
    request_id: ApiId,
    body: AdvanceIn,
    engine: EngineDep,
    user: Writer,
    response: Response,
    language: Language,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> dict[str, Any]:
    view = engine.advance(
        request_id,
        body.trigger,
        actor_of(user),
        data=body.data,
        expected_version=_expected_version(body.expected_version, if_match),
        comment=body.comment,
    )
    return _with_etag(response, view, language)


class UpdateIn(_Body):
    """Fields to change without moving the request; `null` clears a field."""

    data: Data
    expected_version: Version = None
    comment: Comment = None


@router.patch("/requests/{request_id}")
def update_request(
    request_id: ApiId,
    body: UpdateIn,
    engine: EngineDep,
    user: Writer,
    response: Response,
    language: Language,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> dict[str, Any]:
    view = engine.update(
        request_id,
        actor_of(user),
        data=body.data,
        expected_version=_expected_version(body.expected_version, if_match),
        comment=body.comment,
    )
    return _with_etag(response, view, language)


@router.get("/requests/{request_id}/history")
def request_history(
    request_id: ApiId, engine: EngineDep, _user: CurrentUser
) -> list[dict[str, Any]]:
    return [h.to_dict() for h in engine.history(request_id)]
