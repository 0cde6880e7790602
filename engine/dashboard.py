"""The coordinators' dashboard, read side: how many requests are where, what is due this week,
what is overdue or stuck, and one page of the list. A few narrow statements in one read
transaction (`storage.dashboard`); no request is turned into a view, no guard is evaluated.

Also small read-only helpers the request page needs from the engine's rules (which stages a
request has left, so which fields a coordinator may still correct)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from engine.service import Engine
from engine.views import HistoryEntry
from storage import dashboard as store
from storage import derived
from storage.dashboard import FlaggedRequest, ListedRequest, RequestFilter
from workflows.definition import WorkflowDefinition

PAGE_SIZE = 50
DUE_WINDOW = timedelta(days=7)
STALE_AFTER = timedelta(days=30)
OVERDUE_STATES = frozenset({"report_overdue"})
LIST_LIMIT = 20  # rows shown in each attention list (the total is shown too)


@dataclass(frozen=True)
class DashboardQuery:
    programme: str | None = None
    state: str | None = None
    emb: str | None = None
    kind: str | None = None  # the requesting organisation's kind (workflows ORGANISATION_KINDS)
    countries: frozenset[str] | None = None  # the EMB countries of a region
    year: int | None = None
    theme: str | None = None
    page: int = 1


@dataclass(frozen=True)
class Flagged:
    rows: list[FlaggedRequest]
    total: int
    more: bool = False  # the total is at least `total` (not counted exactly)


@dataclass
class Dashboard:
    counts: dict[str, dict[str, int]]  # programme → state → requests
    total: int
    rows: list[ListedRequest]
    page: int
    pages: int
    due_soon: Flagged
    overdue_timers: Flagged
    overdue_reports: Flagged
    on_hold: Flagged
    stale: Flagged
    definitions: dict[str, WorkflowDefinition] = field(default_factory=dict)


def current_definitions(engine: Engine) -> dict[str, WorkflowDefinition]:
    return {name: engine.registry.current(name).definition for name in engine.registry.names()}


@dataclass
class SearchResults:
    terms: list[str]  # the folded words looked for
    rows: list[ListedRequest]
    total: int  # at most store.SEARCH_COUNT_CAP …
    more: bool  # … and whether there are more
    page: int
    pages: int
    definitions: dict[str, WorkflowDefinition] = field(default_factory=dict)


def search(engine: Engine, text: str, query: DashboardQuery) -> SearchResults:
    """The requests whose title, number, organisation (code, name, country) or people
    (delegates…) contain every word of `text`, accents and case aside, under the dashboard's
    filters; newest first, one page (storage.dashboard.search: indexes only)."""
    definitions = current_definitions(engine)
    terms = derived.query_terms(text)
    f = _filter(engine, query)
    with engine.db.read() as conn:
        store.custom_plans(conn)
        rows, counted = store.search(
            conn, terms, f, limit=PAGE_SIZE, offset=(max(1, query.page) - 1) * PAGE_SIZE
        )
    more = counted > store.SEARCH_COUNT_CAP
    total = min(counted, store.SEARCH_COUNT_CAP)
    pages = max(1, -(-total // PAGE_SIZE))
    return SearchResults(terms, rows, total, more, max(1, query.page), pages, definitions)


def _filter(engine: Engine, query: DashboardQuery) -> RequestFilter:
    year_start = year_end = None
    if query.year is not None:
        zone = engine.business_time.zone
        year_start = datetime(query.year, 1, 1, tzinfo=zone).astimezone(UTC)
        year_end = datetime(query.year + 1, 1, 1, tzinfo=zone).astimezone(UTC)
    return RequestFilter(
        programme=query.programme,
        state=query.state,
        emb=query.emb,
        kind=query.kind,
        countries=query.countries,
        year=query.year,
        year_start=year_start,
        year_end=year_end,
        theme=query.theme,
    )


def load_dashboard(engine: Engine, query: DashboardQuery) -> Dashboard:
    definitions = current_definitions(engine)
    now = engine.clock()
    f = _filter(engine, query)
    hold_states = {s.name for d in definitions.values() for s in d.states.values() if s.hold}
    final_states = {s.name for d in definitions.values() for s in d.states.values() if s.final}
    with engine.db.read() as conn:
        store.custom_plans(conn)
        counts: dict[str, dict[str, int]] = {}
        for programme, state, n in store.counts(conn, f):
            counts.setdefault(programme, {})[state] = n
        total = sum(n for by_state in counts.values() for n in by_state.values())
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, query.page), pages)
        rows = store.page(conn, f, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        due_soon = Flagged(
            *store.timers_due(conn, f, after=now, before=now + DUE_WINDOW, limit=LIST_LIMIT)
        )
        overdue_timers = Flagged(
            *store.timers_due(conn, f, after=None, before=now, limit=LIST_LIMIT)
        )
        overdue_reports = Flagged(*store.in_states(conn, f, OVERDUE_STATES, limit=LIST_LIMIT))
        on_hold = Flagged(*store.in_states(conn, f, hold_states, limit=LIST_LIMIT))
        stale_rows = store.stale(
            conn,
            f,
            before=now - STALE_AFTER,
            exclude_states=hold_states | final_states,
            limit=LIST_LIMIT + 1,
        )
        stale = Flagged(stale_rows[:LIST_LIMIT], len(stale_rows), len(stale_rows) > LIST_LIMIT)
    return Dashboard(
        counts=counts,
        total=total,
        rows=rows,
        page=page,
        pages=pages,
        due_soon=due_soon,
        overdue_timers=overdue_timers,
        overdue_reports=overdue_reports,
        on_hold=on_hold,
        stale=stale,
        definitions=definitions,
    )


def states_left(
    definition: WorkflowDefinition, history: Sequence[HistoryEntry], current: str
) -> list[str]:
    """The states a request has moved on from (in workflow order), not counting moves into and
    out of the hold state: their fields may still be corrected with `Engine.update` (the
    same rule `Engine.update` applies)."""
    hold = definition.hold_state()
    left = {
        h.from_state
        for h in history
        if h.from_state and h.from_state != h.to_state and hold not in (h.from_state, h.to_state)
    }
    left.discard(current)
    return [name for name in definition.states if name in left]


def working_state(definition: WorkflowDefinition, state: str, held_from: str | None) -> str:
    """The state whose fields a request works on (the one it was held from, when on hold)."""
    if state == definition.hold_state() and held_from:
        return held_from
    return state
