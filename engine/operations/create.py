"""Create a request in its workflow's initial state: one transaction with the request row, its
first history row (trigger `create`) and the `RequestCreated` event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.actor import Actor
from engine.errors import InvalidData, NotAllowed, NotFound
from engine.events import RequestCreated
from engine.operations.core import EngineCore
from engine.operations.request_view import request_view
from engine.operations.validation import validated_patch
from engine.views import RequestView
from i18n import Text
from i18n.vocabulary import ORGANISATION_KINDS
from storage import embs, requests

CREATE_TRIGGER = "create"
CREATE_ROLES = ("coordinator", "admin")


def create(
    engine: EngineCore,
    programme: str,
    *,
    emb_code: str | None,
    title: str,
    actor: Actor,
    data: Mapping[str, Any] | None = None,
    comment: str | None = None,
) -> RequestView:
    wf = engine.registry.current(programme)
    definition = wf.definition
    title = title.strip() if isinstance(title, str) else ""
    if not title or len(title) > 300 or "\n" in title or "\r" in title:
        raise InvalidData(
            Text("A request needs a one-line title of 1 to 300 characters."),
            [{"field": "title", "message": Text("One line of 1 to 300 characters.")}],
        )
    if actor.role not in CREATE_ROLES:
        raise NotAllowed(Text("The role %(role)s may not create requests.", role=actor.role))
    clean = validated_patch(wf, data or {}, definition.states[definition.initial].collects)
    now = engine.clock()
    with engine.db.transaction() as conn:
        emb_id = None
        if emb_code:
            emb = embs.by_code(conn, emb_code)
            if emb is None:
                raise NotFound(Text("There is no EMB with the code %(code)s.", code=repr(emb_code)))
            if not emb.active:
                raise NotAllowed(
                    Text(
                        "%(organisation)s (%(code)s) is deactivated: it keeps its requests but "
                        "may not open new ones. A coordinator can reactivate it on its page "
                        "under Organisations, or with: cicie org activate %(code)s",
                        organisation=emb.name,
                        code=emb.code,
                    ),
                    [
                        {
                            "field": "emb",
                            "code": "organisation_inactive",
                            "message": Text(
                                "This organisation is deactivated; reactivate it first."
                            ),
                        }
                    ],
                )
            if emb.kind not in definition.requesters:
                raise NotAllowed(
                    Text(
                        "%(organisation)s (%(kind)s) may not request the programme "
                        "%(programme)s; it may be requested by: %(allowed)s.",
                        organisation=emb.name,
                        kind=ORGANISATION_KINDS.get(emb.kind, emb.kind),
                        programme=definition.title,
                        allowed=[ORGANISATION_KINDS.get(k, k) for k in definition.requesters],
                    ),
                    [
                        {
                            "field": "emb",
                            "code": "requester_kind",
                            "kind": emb.kind,
                            "message": Text(
                                "This kind of organisation may not request this programme."
                            ),
                        }
                    ],
                )
            emb_id = emb.id
        merged = {k: v for k, v in clean.items() if v is not None}
        request_id = requests.insert(
            conn,
            programme=programme,
            workflow_version=wf.version,
            emb_id=emb_id,
            title=title,
            state=definition.initial,
            data=merged,
            now=now,
        )
        history_id = requests.append_history(
            conn,
            request_id=request_id,
            version=1,
            at=now,
            actor_role=actor.role,
            actor_name=actor.name,
            trigger=CREATE_TRIGGER,
            from_state=None,
            to_state=definition.initial,
            comment=comment,
            data_diff={k: [None, v] for k, v in merged.items()} or None,
        )
        view = request_view(
            engine,
            wf,
            request_id,
            programme,
            emb_code,
            title,
            definition.initial,
            None,
            merged,
            1,
            now,
            now,
        )
        engine.publish(conn, RequestCreated(view, definition, history_id, actor, now, comment))
    engine.committed()
    return view
