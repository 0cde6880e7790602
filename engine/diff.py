"""What changed between two versions of a workflow (`cicie workflows diff NAME V1 V2`).

Five sections — states, transitions, guards, timers, fields — each with what was added,
removed and changed (attribute by attribute, old and new value), plus the `migrations:` rules
the newer version declares. A transition is known by its trigger and one source state
("accept from intake"), so a changed destination is a change, and `source: active` shows which
states gained or lost a generic exit; a guard by the transition it guards and its name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from pydantic import BaseModel

from engine.registry import WorkflowRegistry
from storage.db import Database
from workflows.definition import FieldDef, GuardRef, NotifyDef, TransitionDef, WorkflowDefinition

SECTIONS = ("states", "transitions", "guards", "timers", "fields")
# attributes that identify an entry or only locate it in its file
_SKIP = frozenset({"name", "id", "trigger", "line", "generic_sources"})


@dataclass(frozen=True)
class Changed:
    name: str
    changes: Mapping[str, tuple[Any, Any]]  # attribute → (old, new), as plain JSON values

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "changes": {k: list(v) for k, v in self.changes.items()}}


@dataclass(frozen=True)
class Section:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[Changed, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": [c.to_dict() for c in self.changed],
        }

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass(frozen=True)
class WorkflowDiff:
    workflow: str
    old: int
    new: int
    sections: Mapping[str, Section]
    migrations: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "from": self.old,
            "to": self.new,
            **{name: section.to_dict() for name, section in self.sections.items()},
            "migrations": list(self.migrations),
        }

    def text(self) -> str:
        lines = [f"{self.workflow} v{self.old} → v{self.new}"]
        for name, section in self.sections.items():
            if not section:
                continue
            lines.append(f"{name}:")
            lines.extend(f"  + {n}" for n in section.added)
            lines.extend(f"  - {n}" for n in section.removed)
            for c in section.changed:
                lines.append(f"  ~ {c.name}")
                lines.extend(
                    f"      {k}: {_show(o)} → {_show(n)}" for k, (o, n) in c.changes.items()
                )
        if len(lines) == 1:
            lines.append("no differences")
        for rule in self.migrations:
            versions = ", ".join(f"v{v}" for v in rule["from"]) or "every earlier version"
            moves = ", ".join(f"{a} → {b}" for a, b in rule["states"].items())
            lines.append(f"migrations from {versions}: {moves}")
        return "\n".join(lines)


def diff_versions(
    db: Database, registry: WorkflowRegistry, name: str, old: int, new: int
) -> WorkflowDiff:
    """Compare two stored versions; NotFound for an unknown programme or version."""
    with db.read() as conn:
        before = registry.stored(conn, name, old).definition
        after = registry.stored(conn, name, new).definition
    return diff(before, after, old, new)


def diff(old: WorkflowDefinition, new: WorkflowDefinition, v_old: int, v_new: int) -> WorkflowDiff:
    transitions_old, transitions_new = _transitions(old), _transitions(new)
    sections = {
        "states": _compare(old.states, new.states),
        "transitions": _compare(transitions_old, transitions_new, skip={"guards", "sources"}),
        "guards": _compare(_guards(transitions_old), _guards(transitions_new)),
        "timers": _compare({t.id: t for t in old.timers}, {t.id: t for t in new.timers}),
        "fields": _compare(old.fields, new.fields),
    }
    rules = tuple({"from": list(r.from_versions), "states": dict(r.states)} for r in new.migrations)
    return WorkflowDiff(new.name, v_old, v_new, sections, rules)


def _transitions(d: WorkflowDefinition) -> dict[str, TransitionDef]:
    """'trigger from source' → declaration (a second one of the same pair gets '#2')."""
    out: dict[str, TransitionDef] = {}
    for t in d.transitions:
        for source in t.sources:
            key, n = f"{t.trigger} from {source}", 1
            while key in out:
                n += 1
                key = f"{t.trigger} from {source} #{n}"
            out[key] = t
    return out


def _guards(transitions: Mapping[str, TransitionDef]) -> dict[str, GuardRef]:
    return {f"{where}: {g.name}": g for where, t in transitions.items() for g in t.guards}


def _compare(old: Mapping[str, Any], new: Mapping[str, Any], skip: Iterable[str] = ()) -> Section:
    ignored = _SKIP | set(skip)
    changed = []
    for name in (n for n in new if n in old):
        changes = {
            attr: (_plain(a), _plain(b))
            for attr, a, b in _attributes(old[name], new[name], ignored)
            if _plain(a) != _plain(b)
        }
        if changes:
            changed.append(Changed(name, changes))
    return Section(
        added=tuple(n for n in new if n not in old),
        removed=tuple(n for n in old if n not in new),
        changed=tuple(changed),
    )


def _attributes(a: Any, b: Any, ignored: frozenset[str]) -> list[tuple[str, Any, Any]]:
    """(attribute, old, new) of two entries of one kind (states, fields, timers …)."""
    return [
        (f.name, getattr(a, f.name), getattr(b, f.name)) for f in fields(a) if f.name not in ignored
    ]


def _plain(value: Any) -> Any:
    """A definition's value as plain JSON, for comparing and printing."""
    if isinstance(value, GuardRef):
        return {value.name: _plain(value.params)}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, NotifyDef):
        due = f", due {value.due_field} {value.due_days:+d}d" if value.due_field else ""
        return f"{value.template} → {', '.join(value.to)}{due}"
    if isinstance(value, FieldDef):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value) if f.name != "label"}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list | frozenset | set):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, frozenset | set) else items
    return value


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return "-" if value is None else str(value)
