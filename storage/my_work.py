"""Queries for "Needs my action" (`engine/my_work.py` decides what a role may do; these only
read). Everything is narrowed by a `Scope`: the (programme, state) pairs a role can move
forward, with the versions that allow it when the versions of a programme disagree.

The navigation's count runs on every page, so it stays on `ix_request_programme_state`:
`programme IN (…) AND state IN (…)` is answered by seeks into that index and counted from it
alone (no request row is read; the final states, where most requests end up, are never
visited). Only a pair whose versions disagree reads rows, and only that pair's. The overdue
part starts from `ix_timer_due` (pending timers already past due: the few the sweep has not
fired yet).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from storage.models import (
    emb_table,
    history_table,
    request_table,
    timer_table,
    workflow_version_table,
)

R = request_table
E = emb_table
T = timer_table
H = history_table
W = workflow_version_table


@dataclass(frozen=True)
class Scope:
    """What a role can act on. `uniform`: programme → the states where every stored version
    of it offers the role a way forward; `mixed`: (programme, state) → the versions that do,
    where they disagree; `overdue_states`: programme → states a deadline moves a request into
    (being there is being late)."""

    uniform: Mapping[str, frozenset[str]] = field(default_factory=dict)
    mixed: Mapping[tuple[str, str], frozenset[int]] = field(default_factory=dict)
    overdue_states: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(self.uniform.values()) and not self.mixed

    def allows(self, programme: str, version: int, state: str) -> bool:
        if state in self.uniform.get(programme, ()):
            return True
        return version in self.mixed.get((programme, state), ())


@dataclass(frozen=True)
class WorkRow:
    """A request a role can act on, as the list needs it (its data is read separately, for
    the rows of one page only)."""

    id: int
    title: str
    programme: str
    workflow_version: int
    state: str
    emb_code: str | None
    emb_name: str | None
    created_at: datetime


@dataclass(frozen=True)
class FiredEscalation:
    """An escalation that fired while the request has been in its present state."""

    request_id: int
    title: str
    programme: str
    workflow_version: int
    state: str
    timer: str
    occurrence: int
    fired_at: datetime | None


# ---------------------------------------------------------------- the navigation's count
def count_statement(scope: Scope) -> sa.Select | None:
    """(programme, state, requests) for the uniform pairs — and for other pairs of the same
    programmes and states, which the caller drops: one index-only statement."""
    uniform = {p: s for p, s in scope.uniform.items() if s}
    if not uniform:
        return None
    states = sorted(set().union(*uniform.values()))
    return (
        sa.select(R.c.programme, R.c.state, sa.func.count())
        .where(R.c.programme.in_(sorted(uniform)), R.c.state.in_(states))
        .group_by(R.c.programme, R.c.state)
    )


def counts(conn: sa.Connection, scope: Scope) -> dict[tuple[str, str], int]:
    """How many requests the role can act on, by (programme, state)."""
    found: dict[tuple[str, str], int] = {}
    stmt = count_statement(scope)
    if stmt is not None:
        for programme, state, n in conn.execute(stmt):
            if state in scope.uniform.get(programme, ()) and n:
                found[(str(programme), str(state))] = int(n)
    for (programme, state), versions in sorted(scope.mixed.items()):
        n = conn.execute(
            sa.select(sa.func.count()).where(
                R.c.programme == programme,
                R.c.state == state,
                R.c.workflow_version.in_(sorted(versions)),
            )
        ).scalar()
        if n:
            found[(programme, state)] = int(n)
    return found


def late_timer_statement(now: datetime) -> sa.Select:
    """(programme, version, state, requests) of the requests with a pending timer already due
    (driven by `ix_timer_due`: the sweep fires these, so there are few)."""
    return (
        sa.select(
            R.c.programme, R.c.workflow_version, R.c.state, sa.func.count(sa.distinct(R.c.id))
        )
        .select_from(T.join(R, T.c.request_id == R.c.id))
        .where(T.c.status == "pending", T.c.due_at < now)
        .group_by(R.c.programme, R.c.workflow_version, R.c.state)
    )


def late_timer_counts(conn: sa.Connection, now: datetime) -> list[tuple[str, int, str, int]]:
    """See `late_timer_statement`."""
    rows = conn.execute(late_timer_statement(now))
    return [(str(p), int(v), str(s), int(n)) for p, v, s, n in rows]


# ---------------------------------------------------------------- the list
def _actionable(scope: Scope) -> sa.ColumnElement[bool]:
    clauses: list[sa.ColumnElement[bool]] = [
        sa.and_(R.c.programme == p, R.c.state.in_(sorted(states)))
        for p, states in sorted(scope.uniform.items())
        if states
    ]
    clauses += [
        sa.and_(R.c.programme == p, R.c.state == s, R.c.workflow_version.in_(sorted(vs)))
        for (p, s), vs in sorted(scope.mixed.items())
    ]
    return sa.or_(*clauses) if clauses else sa.false()


def _next_due() -> sa.ScalarSelect[datetime]:
    """The request's next pending timer (through ix_timer_request_status_due)."""
    return (
        sa.select(sa.func.min(T.c.due_at))
        .where(T.c.request_id == R.c.id, T.c.status == "pending")
        .scalar_subquery()
    )


def page(
    conn: sa.Connection, scope: Scope, *, now: datetime, limit: int, offset: int
) -> list[WorkRow]:
    """One page of the requests the role can act on: overdue first (a pending timer past
    due, or in a state a deadline moved it to), then by their next due moment (none last),
    then oldest first (by number: requests are numbered as they are recorded).

    Two statements: the page's ids are ordered from indexes alone (the request's programme
    and state index and each one's timer index: no request row is read to sort), then the
    page's rows are read by id."""
    if scope.empty:
        return []
    # each request's next pending timer, computed once per request (a join grouped by request:
    # a correlated subquery would be evaluated for every sort key that names it)
    due = sa.func.min(T.c.due_at)
    late: list[sa.ColumnElement[bool]] = [due < sa.bindparam("now", now, type_=T.c.due_at.type)]
    late += [
        sa.and_(R.c.programme == p, R.c.state.in_(sorted(states)))
        for p, states in sorted(scope.overdue_states.items())
        if states
    ]
    pending = sa.and_(T.c.request_id == R.c.id, T.c.status == "pending")
    ordered = (
        sa.select(R.c.id)
        .select_from(R.outerjoin(T, pending))
        .where(_actionable(scope))
        .group_by(R.c.id, R.c.programme, R.c.state)
        .order_by(
            sa.case((sa.or_(*late), 0), else_=1),
            sa.case((due.is_(None), 1), else_=0),
            due,
            R.c.id,
        )
        .limit(limit)
        .offset(offset)
    )
    ids = [int(i) for i in conn.execute(ordered).scalars()]
    if not ids:
        return []
    stmt = (
        sa.select(
            R.c.id,
            R.c.title,
            R.c.programme,
            R.c.workflow_version,
            R.c.state,
            E.c.code,
            E.c.name,
            R.c.created_at,
        )
        .select_from(R.outerjoin(E, R.c.emb_id == E.c.id))
        .where(R.c.id.in_(ids))
    )
    found = {r.id: r for r in (WorkRow(*r) for r in conn.execute(stmt))}
    return [found[i] for i in ids if i in found]


# ---------------------------------------------------------------- escalations
def fired_escalations(
    conn: sa.Connection,
    timers_by_programme: Mapping[str, Collection[str]],
    states_by_programme: Mapping[str, Collection[str]],
    *,
    request_ids: Sequence[int] | None = None,
    limit: int = 100,
) -> list[FiredEscalation]:
    """The newest escalation (of these timer names, per programme) that fired during each
    request's present stay in its state, newest first. Driven by the requests in those states
    (their programme and state index), then each one's fired timers (its own timer index):
    never by the fired timers of every request there ever was."""
    pairs = [
        sa.and_(R.c.programme == p, R.c.state.in_(sorted(states_by_programme.get(p, ()))))
        for p, names in sorted(timers_by_programme.items())
        if names and states_by_programme.get(p)
    ]
    if not pairs or (request_ids is not None and not request_ids):
        return []
    every_name = sorted({n for names in timers_by_programme.values() for n in names})
    entered = (
        sa.select(sa.func.max(H.c.at))
        .where(
            H.c.request_id == R.c.id,
            H.c.to_state == R.c.state,
            sa.or_(H.c.from_state.is_(None), H.c.from_state != H.c.to_state),
        )
        .correlate(R)  # the request of the outermost statement, two levels up
        .scalar_subquery()
    )
    newest = (
        sa.select(T.c.id)
        .where(
            T.c.request_id == R.c.id,
            T.c.status == "fired",
            T.c.kind == "escalation",
            T.c.name.in_(every_name),
            T.c.armed_in == R.c.state,
            T.c.created_at >= sa.func.coalesce(entered, R.c.created_at),
        )
        .order_by(T.c.fired_at.desc(), T.c.id.desc())
        .limit(1)
        .correlate(R)
        .scalar_subquery()
    )
    candidates = sa.select(R.c.id, newest).where(sa.or_(*pairs))
    if request_ids is not None:
        candidates = candidates.where(R.c.id.in_(sorted(set(request_ids))))
    timer_ids = sorted(
        (int(t) for _r, t in conn.execute(candidates) if t is not None), reverse=True
    )
    if not timer_ids:
        return []
    stmt = (
        sa.select(
            R.c.id,
            R.c.title,
            R.c.programme,
            R.c.workflow_version,
            R.c.state,
            T.c.name,
            T.c.occurrence,
            T.c.fired_at,
        )
        .select_from(T.join(R, T.c.request_id == R.c.id))
        .where(T.c.id.in_(timer_ids[: limit * 2]))
        .order_by(T.c.fired_at.desc(), T.c.id.desc())
    )
    found = [FiredEscalation(*r) for r in conn.execute(stmt)]
    # a timer name another programme uses for a different audience is not this one's
    return [f for f in found if f.timer in timers_by_programme.get(f.programme, ())][:limit]


def stored_versions(conn: sa.Connection) -> list[tuple[str, int]]:
    """Every (workflow, version) stored: a handful of rows, whatever the number of requests."""
    rows = conn.execute(sa.select(W.c.name, W.c.version).order_by(W.c.name, W.c.version))
    return [(str(n), int(v)) for n, v in rows]
