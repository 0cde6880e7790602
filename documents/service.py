"""One delegate's document of one request, as PDF bytes: what the web page, the CLI and the
mail dispatcher call. The request is read as it is now (its current data), through the
engine's own queries; refusals are the domain's errors (NotFound for an unknown request or
delegate number, NotConfirmed before the logistics are confirmed)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from config.letterhead import load_letterhead
from documents.letters import Document, Sources, build
from engine.service import Engine
from engine.views import RequestView

DEFAULT_ZONE = "America/Mexico_City"


def sources(
    engine: Engine, request_id: int, zone: str = DEFAULT_ZONE, today: date | None = None
) -> tuple[RequestView, Sources]:
    """The request as it is now, and what its documents are written from; `today`: the
    documents' date (default: the engine's clock, in `zone`)."""
    view = engine.get(request_id)
    definition = engine.definition_of(view).definition
    src = Sources(
        definition=definition,
        catalogues=engine.catalogues,
        letterhead=load_letterhead(),
        organisation=engine.emb_row(view.emb),
        today=today or _today(engine, zone),
    )
    return view, src


def document(
    engine: Engine,
    request_id: int,
    number: int,
    kind: str,
    zone: str = DEFAULT_ZONE,
    today: date | None = None,
) -> Document:
    view, src = sources(engine, request_id, zone, today)
    return build(kind, view, number, src)


def pdf(
    engine: Engine,
    request_id: int,
    number: int,
    kind: str,
    zone: str = DEFAULT_ZONE,
    today: date | None = None,
) -> tuple[Document, bytes]:
    """(the document, its PDF) for delegate `number` (from 1) of the request."""
    from documents.pdf import render  # fpdf2: imported only when a PDF is made

    found = document(engine, request_id, number, kind, zone, today)
    return found, render(found, load_letterhead().logo)


def _today(engine: Engine, zone: str) -> date:
    return engine.clock().astimezone(ZoneInfo(zone)).date()
