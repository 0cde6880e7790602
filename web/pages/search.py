"""The search (issue 15): `GET /requests?q=…` finds requests by title, number ("42", "#42"),
organisation code and name, country (code, or its name in Spanish, English or French) and the
names of the people a request lists (delegates, participants…), accents and case aside
("peru" finds "Perú"), under the dashboard's filters, which every link keeps.

It reads only indexes (storage.derived keeps the folded words in the transaction that writes
a request or an organisation; storage.dashboard.search looks them up)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from engine.dashboard import current_definitions, search
from results.countries import name as country_name
from web.pages.dashboard import Names, Text, filter_context, read_filters, state_order_of
from web.pages.deps import EngineDep, PagesDep, PageUser
from web.templating import request_language

router = APIRouter(include_in_schema=False)

QUERY_MAX = 200  # characters of a search; longer is refused (422 page), never cut silently


@router.get("/requests")
def search_requests(
    request: Request,
    pages: PagesDep,
    engine: EngineDep,
    user: PageUser,
    q: Annotated[str | None, Query(max_length=QUERY_MAX)] = None,
    programme: Text = None,
    state: Text = None,
    emb: Text = None,
    kind: Text = None,
    region: Text = None,
    year: Text = None,
    theme: Text = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    filters = read_filters(programme, state, emb, kind, region, year, theme, page)
    text = (q or "").strip()
    results = search(engine, text, filters.query) if text else None
    definitions = results.definitions if results else current_definitions(engine)
    state_order, state_labels = state_order_of(definitions)
    language = request_language(request)
    countries = {
        r.emb_country: country_name(r.emb_country, language)
        for r in (results.rows if results else [])
        if r.emb_country
    }
    kept = {k: v for k, v in filters.values.items() if v}
    return pages.render(
        request,
        "search.html",
        {
            **filter_context(request, engine, filters),
            "results": results,
            "search_text": text,
            "search_query": urlencode({"q": text, **kept}),
            "countries": countries,
            "state_order": state_order,
            "state_labels": state_labels,
            "filter_action": "/requests",
            "data": {"definitions": definitions},
            "definitions": definitions,
            "names": Names(definitions, state_labels, language),
        },
    )
