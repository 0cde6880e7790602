"""The dashboard: requests by programme and state, what is due this week, what is overdue or
stuck, and the list of requests, all narrowed by the filters in the query string."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from engine.dashboard import DashboardQuery, load_dashboard
from engine.service import Engine
from i18n import say
from i18n.vocabulary import humanise, organisation_kind
from results.countries import CONTINENT_OF, CONTINENTS
from web.forms import Formatter
from web.pages.deps import EngineDep, PagesDep, PageUser
from web.templating import request_language
from workflows.definition import ORGANISATION_KINDS

router = APIRouter(include_in_schema=False)

Text = Annotated[str | None, Query(max_length=80)]


def _blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters read from the query string (unknown values dropped), and the
    same as a query string to keep them in every link (table cells, pages, the search)."""

    query: DashboardQuery
    values: dict[str, str]

    @property
    def query_string(self) -> str:
        return urlencode({k: v for k, v in self.values.items() if v})


def read_filters(
    programme: str | None,
    state: str | None,
    emb: str | None,
    kind: str | None,
    region: str | None,
    year: str | None,
    theme: str | None,
    page: int,
) -> Filters:
    region = _blank(region)
    countries = None
    if region in CONTINENTS:
        countries = frozenset(code for code, c in CONTINENT_OF.items() if c == region)
    else:
        region = None
    kind = _blank(kind)
    if kind not in ORGANISATION_KINDS:
        kind = None
    year_value = _blank(year)
    year_number = int(year_value) if year_value and re.fullmatch(r"[0-9]{4}", year_value) else None
    query = DashboardQuery(
        programme=_blank(programme),
        state=_blank(state),
        emb=_blank(emb),
        kind=kind,
        countries=countries,
        year=year_number,
        theme=_blank(theme),
        page=page,
    )
    values = {
        "programme": query.programme or "",
        "state": query.state or "",
        "emb": query.emb or "",
        "kind": kind or "",
        "region": region or "",
        "year": str(year_number) if year_number else "",
        "theme": query.theme or "",
    }
    return Filters(query, values)


def state_order_of(definitions: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Every state of every programme in workflow order, and each one's label."""
    order: list[str] = []
    for d in definitions.values():
        for name in d.states:
            if name not in order:
                order.append(name)
    labels = {
        name: next(d.states[name].label for d in definitions.values() if name in d.states)
        for name in order
    }
    return order, labels


class Names:
    """Programmes', states' and timers' names in the page's language, each looked up once per
    page: the list and the attention lists name a programme and a state on every row (some
    170 rows), which template macros worked out again row by row."""

    def __init__(
        self,
        definitions: dict[str, Any],
        state_labels: dict[str, Any],
        language: str,
        timer_labels: dict[tuple[str, str], Any] | None = None,
    ) -> None:
        self._definitions = definitions
        self._state_labels = state_labels
        self._timer_labels = timer_labels or {}
        self._language = language
        self._said: dict[tuple[str, str, str], Any] = {}

    def _label(self, value: Any) -> Any:
        return value.get(self._language) if value is not None else ""

    def programme(self, programme: str) -> Any:
        key = ("programme", programme, "")
        if key not in self._said:
            found = self._definitions.get(programme)
            self._said[key] = self._label(found.title) if found else humanise(programme)
        return self._said[key]

    def state(self, programme: str, state: str) -> Any:
        key = ("state", programme, state)
        if key not in self._said:
            found = self._definitions.get(programme)
            if found and state in found.states:
                self._said[key] = self._label(found.states[state].label)
            elif state in self._state_labels:
                self._said[key] = self._label(self._state_labels[state])
            else:
                self._said[key] = humanise(state)
        return self._said[key]

    def timer(self, programme: str, timer: str) -> Any:
        key = ("timer", programme, timer)
        if key not in self._said:
            found = self._timer_labels.get((programme, timer))
            self._said[key] = self._label(found) if found is not None else humanise(timer)
        return self._said[key]


def filter_context(request: Request, engine: Engine, filters: Filters) -> dict[str, Any]:
    """What the filter form needs (the dashboard's and the search page's)."""
    return {
        "search_text": "",
        "filter_action": "/",
        "filters": filters.values,
        "filter_query": filters.query_string,
        "regions": CONTINENTS,
        "embs": engine.list_embs(),
        # the requesting organisations' kinds in words, for the filter and the EMB list
        "kind_words": {
            code: organisation_kind(code, request_language(request)) for code in ORGANISATION_KINDS
        },
        "fmt": Formatter(engine.catalogues, request_language(request)),
    }


@router.get("/")
def dashboard(
    request: Request,
    pages: PagesDep,
    engine: EngineDep,
    user: PageUser,
    programme: Text = None,
    state: Text = None,
    emb: Text = None,
    kind: Text = None,
    region: Text = None,
    year: Text = None,
    theme: Text = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    filters = read_filters(programme, state, emb, kind, region, year, theme, page)
    if q and q.strip():  # the search box on the dashboard: the search page, filters kept
        target = urlencode({"q": q.strip(), **{k: v for k, v in filters.values.items() if v}})
        return RedirectResponse(f"/requests?{target}", status_code=303)
    query = filters.query
    data = load_dashboard(engine, query)
    state_order, state_labels = state_order_of(data.definitions)
    timer_labels = {
        (programme, t.id): t.label for programme, d in data.definitions.items() for t in d.timers
    }
    columns = [s for s in state_order if any(s in by_state for by_state in data.counts.values())]
    # warnings (engine/warnings.py) of the requests listed on this page only: one page of rules
    # per view, never the whole database
    language = request_language(request)
    warnings = {
        rid: [say(notice.message, language) for notice in notices]
        for rid, notices in engine.warnings([r.id for r in data.rows]).items()
    }
    return pages.render(
        request,
        "dashboard.html",
        {
            "data": data,
            "state_order": state_order,
            "state_labels": state_labels,
            "timer_labels": timer_labels,
            "columns": columns,
            "row_totals": {
                s: sum(by_state.get(s, 0) for by_state in data.counts.values()) for s in columns
            },
            "warnings": warnings,
            "names": Names(data.definitions, state_labels, language, timer_labels),
            **filter_context(request, engine, filters),
        },
    )
