"""Stage 3c: `migrations:` — how requests of earlier versions move to this one.

```yaml
migrations:
  from: 1                      # or [1, 2]; left out: any earlier version
  states: {assessment: needs_assessment, review: needs_assessment}
```
(or a list of such rules). The old names are another version's states, so they are only
checked to be names; the new ones must be states of this file, and not the hold state (a
request moved there would have no state to resume to)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from workflows.definition import MigrationDef, StateDef
from workflows.load.context import NAME_RULE, Context, Where, is_name, is_whole, unknown_keys
from workflows.load.spec import MAX_WHOLE, MIGRATION

FROM_RULE = "'from' is a version (a whole number from 1) or a list of versions"


def migrations(ctx: Context, states: dict[str, StateDef]) -> tuple[MigrationDef, ...]:
    raw = ctx.doc.get("migrations")
    if raw is None:
        return ()
    if isinstance(raw, dict):
        items: list[tuple[Any, Where]] = [(raw, ("migrations",))]
    elif isinstance(raw, list) and raw:
        items = [(item, ("migrations", i)) for i, item in enumerate(raw)]
    else:
        ctx.p.at(("migrations",), "'migrations' is {from, states} or a list of them")
        return ()
    out: list[MigrationDef] = []
    covered: dict[int | None, int] = {}  # version (None: any) → line of the rule for it
    for item, at in items:
        rule = _rule(ctx, item, at, states)
        if rule is None:
            continue
        for version in rule.from_versions or (None,):
            if version in covered:
                what = f"version {version}" if version is not None else "every version"
                ctx.p.at(at, f"a second migration rule for {what} (line {covered[version]})")
            covered[version] = rule.line
        out.append(rule)
    return tuple(out)


def _rule(ctx: Context, item: Any, at: Where, states: dict[str, StateDef]) -> MigrationDef | None:
    if not isinstance(item, dict):
        ctx.p.at(at, "a migration rule is a mapping {from, states}")
        return None
    unknown_keys(ctx, item, MIGRATION.allowed, at)
    versions = _versions(ctx, item.get("from"), (*at, "from"))
    raw = item.get("states")
    if not isinstance(raw, dict) or not raw:
        ctx.p.at((*at, "states") if "states" in item else at, "a migration rule needs 'states'")
        return None
    mapping: dict[str, str] = {}
    for old, new in raw.items():
        where = (*at, "states", old)
        if not is_name(old):
            ctx.p.at(where, f"old state name '{old}' must be {NAME_RULE}")
        elif not isinstance(new, str) or new not in states:
            ctx.p.at(where, f"unknown state '{new}' as the new state of '{old}'")
        elif states[new].hold:
            ctx.p.at(
                where,
                f"'{old}' cannot move to the hold state '{new}': a request there needs a "
                "state to resume to",
            )
        else:
            mapping[old] = new
    return MigrationDef(MappingProxyType(mapping), versions, ctx.p.line(at))


def _versions(ctx: Context, node: Any, where: Where) -> tuple[int, ...]:
    if node is None:
        return ()
    listed = node if isinstance(node, list) else [node]
    if not listed or not all(is_whole(v) and 1 <= v <= MAX_WHOLE for v in listed):
        ctx.p.at(where, FROM_RULE)
        return ()
    if len(set(listed)) != len(listed):
        ctx.p.at(where, "'from' repeats a version")
    return tuple(dict.fromkeys(int(v) for v in listed))
