"""Dates typed in a request's form, as the timers and the planning rules read them: kept in
a module of its own so the warning rules import no database code (issue 16)."""

from __future__ import annotations

from datetime import date
from typing import Any


def parse_date(value: Any) -> date | None:
    """An ISO date from a form value; None when empty or not a date."""
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
