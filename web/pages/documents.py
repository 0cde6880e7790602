"""The delegates' documents, downloaded from the request page: each delegate's invitation
letter (for a visa) and agenda pack, as PDF in the delegate's language (documents/).

Any signed-in user who can see the request may download them (the request page is open to
every signed-in role). Before the logistics are confirmed (or once the request is withdrawn)
the answer is the 409 page saying so; an unknown request or delegate number is the 404 page.
The file name is plain ASCII (`cicie-7-invitation-1-maria-lopez.pdf`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from documents import service
from documents.letters import delegates_of, is_confirmed, language_of
from engine.errors import NotFound
from engine.views import RequestView
from i18n import Text
from web.pages.deps import PageUser, RuntimeDep
from web.params import RequestPageId, _parse_id
from web.templating import Pages
from workflows.definition import WorkflowDefinition

router = APIRouter(include_in_schema=False)


def delegate_documents(
    view: RequestView, definition: WorkflowDefinition, organisation: Any = None
) -> list[dict[str, Any]]:
    """What the request page lists (`_documents.html`): each delegate's number, name and
    document language, once the event is confirmed; nothing before."""
    if not is_confirmed(definition, view):
        return []
    return [
        {
            "number": n,
            "name": str(person.get("name") or ""),
            "language": language_of(person, organisation, view.data),
        }
        for n, person in enumerate(delegates_of(view), start=1)
    ]


def install(pages: Pages) -> None:
    """Give the templates `delegate_documents(view, definition, organisation)`."""
    for env in pages.envs.values():
        env.globals["delegate_documents"] = delegate_documents


def _delegate_number(n: Annotated[str, Path(max_length=64)]) -> int:
    value = _parse_id(n)
    if value is None:  # the 404 page, in the reader's language (not the address echoed)
        raise NotFound(Text("There is no such delegate."))
    return value


DelegateNumber = Annotated[int, Depends(_delegate_number)]


def _download(runtime: RuntimeDep, request_id: int, number: int, kind: str) -> Response:
    document, data = service.pdf(
        runtime.engine, request_id, number, kind, zone=runtime.settings.timezone
    )
    return Response(
        data,
        media_type="application/pdf",
        headers={
            # the name is ASCII (letters.py): nothing to quote or encode
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            "Cache-Control": "private, no-store",  # personal data (passport numbers)
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/requests/{request_id}/delegates/{n}/letter.pdf")
def delegate_letter(
    _user: PageUser, request_id: RequestPageId, n: DelegateNumber, runtime: RuntimeDep
) -> Response:
    return _download(runtime, request_id, n, "letter")


@router.get("/requests/{request_id}/delegates/{n}/agenda.pdf")
def delegate_agenda(
    _user: PageUser, request_id: RequestPageId, n: DelegateNumber, runtime: RuntimeDep
) -> Response:
    return _download(runtime, request_id, n, "agenda")
