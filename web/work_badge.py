"""The navigation's "Needs my action" count, on every signed-in page (`web/templating.py` puts
it in every page's context). Cheap by design (`engine.my_work.work_counts`: index reads by
programme and state, no guard evaluated). A count that cannot be read (the database is
unavailable) leaves the link without a number rather than failing the page."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from fastapi import Request

from engine.my_work import WORK_ROLES, WorkCounts, work_counts

log = logging.getLogger(__name__)


def work_badge(request: Request) -> WorkCounts | None:
    """The signed-in user's count, or None: not signed in, a role with no work page, or the
    count could not be read."""
    user = getattr(request.state, "user", None)
    if user is None or user.role not in WORK_ROLES:
        return None
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        return None
    try:
        return work_counts(runtime.engine, user.role)
    except sa.exc.SQLAlchemyError:
        log.warning("the navigation's work count could not be read", exc_info=True)
        return None
