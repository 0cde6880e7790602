"""Warnings: what does not block a step but a coordinator must see (issue 14) — a second course
for the same region in a year, a lead time that can no longer be met, an event inside an
election's blackout window. Each rule is a function over the request as stored; rules live in
`engine/warning_rules/` (one module per concern) and register with `@warning_rule`.

A warning is said in its reader's language (`Notice.message` is an `i18n.Text`); its `code`
is stable for scripts (`request show --json` → `"warnings": [{"code", "message", "field"}]`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from config.catalogues import Catalogues
from engine.business_time import BusinessTime
from i18n import Text, say
from storage.rows import RequestRow
from workflows.definition import WorkflowDefinition

if TYPE_CHECKING:  # rules read other rows through `storage.reads`, on either connection
    from engine.operations.core import EngineReader
    from storage.reads import ReadConnection


@dataclass(frozen=True)
class Notice:
    """One warning: a stable code, the sentence, and the field it is about (if any)."""

    code: str
    message: Text
    field: str | None = None

    def to_dict(self, language: str) -> dict[str, Any]:
        return {"code": self.code, "message": say(self.message, language), "field": self.field}


@dataclass(frozen=True)
class WarningContext:
    """What a warning rule may read: the stored request, its workflow, today's date (the
    engine's clock, in the centre's zone), the catalogues and the business calendar; `conn`
    for rules that look at other requests (read only, through `storage.reads`: a SQLAlchemy
    connection, or `cicie request show`'s plain SQLite one)."""

    conn: ReadConnection
    request: RequestRow
    definition: WorkflowDefinition
    today: date
    catalogues: Catalogues
    business: BusinessTime
    # what rules read about other rows, kept for the other requests of the same read (a
    # dashboard page asks for 50 requests' warnings: one year's courses, or one organisation's
    # country, is read once, not once per listed request)
    shared: dict[object, Any] = field(default_factory=dict, compare=False)

    def once(self, key: object, read: Callable[[], Any]) -> Any:
        """`read()`, or what it gave for `key` earlier in this read."""
        if key not in self.shared:
            self.shared[key] = read()
        return self.shared[key]


WarningRule = Callable[[WarningContext], list[Notice]]
_RULES: list[WarningRule] = []


def warning_rule(fn: WarningRule) -> WarningRule:
    """Register a rule (import its module in engine/warning_rules/__init__.py)."""
    _RULES.append(fn)
    return fn


def warnings_for(ctx: WarningContext) -> list[Notice]:
    """Every rule's warnings, in registration order, each once."""
    import engine.warning_rules  # noqa: F401  (registers the rules)

    seen: set[tuple[str, str | None, str]] = set()
    out: list[Notice] = []
    for rule in _RULES:
        for notice in rule(ctx):
            key = (notice.code, notice.field, str(notice.message))  # said: params count
            if key not in seen:
                seen.add(key)
                out.append(notice)
    return out


def request_warnings(
    engine: EngineReader,
    conn: ReadConnection,
    row: RequestRow,
    shared: dict[object, Any] | None = None,
) -> tuple[Notice, ...]:
    """What does not block `row` but a coordinator must see, read in the caller's
    transaction; today is the engine clock's date in the centre's zone. `shared`: the reads
    of other rows the rules made for the other requests of the same transaction."""
    wf = engine.registry.get(conn, row.programme, row.workflow_version)
    context = WarningContext(
        conn=conn,
        request=row,
        definition=wf.definition,
        today=engine.business_time.local_date(engine.clock()),
        catalogues=engine.catalogues,
        business=engine.business_time,
        shared={} if shared is None else shared,
    )
    return tuple(warnings_for(context))
