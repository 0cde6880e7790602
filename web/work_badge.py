"""The navigation's "Needs my action" count, on every signed-in page (`web/templating.py` puts
it in every page's context). Cheap by design (`engine.my_work.work_counts`: index reads by
programme and state, no guard evaluated) — but at 100,000 requests it still reads every
request of the role's states (7–14 ms), so a count is kept per role for `FRESH_FOR` seconds
and dropped at once when this process commits a change (`Database.commits`): what this
server changes shows at once, a change made by another process (the worker's sweep, a second
server, the CLI) within two seconds. A count that cannot be read (the database is unavailable)
leaves the link without a number rather than failing the page."""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa
from fastapi import Request

from engine.my_work import WORK_ROLES, WorkCounts, work_counts

log = logging.getLogger(__name__)

FRESH_FOR = 2.0  # seconds a count is shown again without being read again


def work_badge(request: Request) -> WorkCounts | None:
    """The signed-in user's count, or None: not signed in, a role with no work page, or the
    count could not be read."""
    user = getattr(request.state, "user", None)
    if user is None or user.role not in WORK_ROLES:
        return None
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        return None
    kept: dict[str, tuple[int, float, WorkCounts]] | None
    kept = getattr(request.app.state, "work_counts", None)
    if kept is None:
        kept = request.app.state.work_counts = {}
    commits = runtime.db.commits
    found = kept.get(user.role)
    now = time.monotonic()
    if found is not None and found[0] == commits and now - found[1] < FRESH_FOR:
        return found[2]
    try:
        counts = work_counts(runtime.engine, user.role)
    except sa.exc.SQLAlchemyError:
        log.warning("the navigation's work count could not be read", exc_info=True)
        return None
    kept[user.role] = (commits, now, counts)
    return counts
