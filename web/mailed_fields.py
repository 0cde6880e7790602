"""Which fields of a request are mailed word for word to partners, read from the definitions:
the mail templates (`notifications/templates/<event>/`) say which fields of the request's data
they print (`request.data.get("closing_note")`, `data.venue`…), and the workflow says which
templates it sends and to whom (`notify:` of its transitions, states and timers).

The request page shows "Sent word for word to … by e-mail" under such a field, so a
coordinator writing the closing note knows the EMB will read it as typed. Only recipients
outside the centre count (`INTERNAL_RECIPIENTS` are left out)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from workflows.definition import INTERNAL_RECIPIENTS, NotifyDef, WorkflowDefinition
from workflows.template_index import PARTS, TEMPLATE_DIR

# `data.get("name")`, `data["name"]`, `data.name` (also `request.data…`)
_READ = re.compile(
    r"""\bdata\s*(?:\.\s*get\s*\(\s*["'](?P<get>\w+)["']"""
    r"""|\[\s*["'](?P<item>\w+)["']\s*\]|\.(?P<attr>\w+))"""
)
_METHODS = frozenset({"get", "items", "keys", "values"})


@cache
def fields_read(template: str, directory: Path = TEMPLATE_DIR) -> frozenset[str]:
    """The names of the request's fields the template prints (any of its parts)."""
    found: set[str] = set()
    for part in PARTS:
        path = directory / template / part
        try:
            source = path.read_text(encoding="utf-8")
        except OSError:
            continue
        for match in _READ.finditer(source):
            name = match.group("get") or match.group("item") or match.group("attr")
            if name and name not in _METHODS:
                found.add(name)
    return frozenset(found)


def _notifications(definition: WorkflowDefinition) -> Iterable[NotifyDef]:
    for transition in definition.transitions:
        yield from transition.notify
    for state in definition.states.values():
        yield from state.notify
    for timer in definition.timers:
        yield from timer.notify


def mailed_fields(definition: WorkflowDefinition) -> Mapping[str, tuple[str, ...]]:
    """field name → the partner recipients (roles, in the workflow's order) of a mail that
    prints it; fields no mail prints to a partner are absent."""
    out: dict[str, list[str]] = {}
    for notify in _notifications(definition):
        partners = [r for r in notify.to if r not in INTERNAL_RECIPIENTS]
        if not partners:
            continue
        for name in fields_read(notify.template):
            if name not in definition.fields:
                continue
            known = out.setdefault(name, [])
            known.extend(r for r in partners if r not in known)
    return {name: tuple(roles) for name, roles in out.items()}
