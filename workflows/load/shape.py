"""Stage 2: the document's shape → a `WorkflowDefinition`: top-level keys, states and
transitions (fields in `load.fields`), with the names they use resolved by stage 3
(`load.names`, `load.timers`, `load.migrations`). The keys each mapping may hold come from the
tables in `load.spec`, which also generate the JSON Schema (`workflows.schema`). Every problem
is collected; `None` when no definition can be built at all (no usable initial state)."""

from __future__ import annotations

import hashlib
from types import MappingProxyType
from typing import Any

from config.catalogues import Label
from workflows.definition import (
    ACTIVE,
    DEFAULT_ROLES,
    ORGANISATION_KINDS,
    PREVIOUS,
    ROLES,
    FieldDef,
    StateDef,
    TransitionDef,
    WorkflowDefinition,
)
from workflows.load import names as refs
from workflows.load.context import NAME_RULE, Context, Where, is_name, label, names, unknown_keys
from workflows.load.fields import fields as read_fields
from workflows.load.migrations import migrations as read_migrations
from workflows.load.spec import DOCUMENT, STATE, TRANSITION
from workflows.load.timers import timers as read_timers

TOP_KEYS = DOCUMENT.allowed
STATE_KEYS = STATE.allowed
TRANSITION_KEYS = TRANSITION.allowed


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def build(
    ctx: Context, text: str, path: str, expected_name: str | None
) -> WorkflowDefinition | None:
    doc = ctx.doc
    unknown_keys(ctx, doc, TOP_KEYS, ())
    name = doc.get("workflow")
    if not is_name(name):
        ctx.p.at(("workflow",), f"'workflow' must be {NAME_RULE}")
        name = expected_name or "unnamed"
    elif expected_name and name != expected_name:
        ctx.p.at(
            ("workflow",),
            f"workflow '{name}' must be in a file named {name}.yaml (found {expected_name})",
        )
    assert isinstance(name, str)
    title = label(ctx, doc.get("title"), ("title",))
    fields = read_fields(ctx)
    states = _states(ctx, fields)
    initial = doc.get("initial")
    if not isinstance(initial, str):
        ctx.p.at(("initial",) if "initial" in doc else (), "missing 'initial' state")
    elif initial not in states:
        ctx.p.at(("initial",), f"unknown state '{initial}' as initial state")
    transitions = _transitions(ctx, states, fields)
    on_change = refs.on_change(ctx, states, fields)
    timers = read_timers(ctx, states, fields, transitions)
    migrations = read_migrations(ctx, states)
    requesters = _requesters(ctx)
    if not isinstance(initial, str) or initial not in states:
        return None
    return WorkflowDefinition(
        name=name,
        title=title or Label(name),
        initial=initial,
        fields=MappingProxyType(fields),
        states=MappingProxyType(states),
        transitions=tuple(transitions),
        on_change=on_change,
        timers=timers,
        migrations=migrations,
        requesters=requesters,
        source=text,
        checksum=checksum(text),
        path=path,
    )


def _requesters(ctx: Context) -> tuple[str, ...]:
    """The kinds of organisation that may request the programme (every kind when absent)."""
    raw = ctx.doc.get("requesters")
    if raw is None:
        return ORGANISATION_KINDS
    if (
        not isinstance(raw, list)
        or not raw
        or any(k not in ORGANISATION_KINDS for k in raw)
        or len(set(raw)) != len(raw)
    ):
        ctx.p.at(
            ("requesters",),
            f"'requesters' must be a list of distinct kinds of: {', '.join(ORGANISATION_KINDS)}",
        )
        return ORGANISATION_KINDS
    return tuple(raw)


def _states(ctx: Context, fields: dict[str, FieldDef]) -> dict[str, StateDef]:
    raw = ctx.doc.get("states")
    if not isinstance(raw, dict) or not raw:
        ctx.p.at(("states",) if "states" in ctx.doc else (), "missing 'states' mapping")
        return {}
    out: dict[str, StateDef] = {}
    holds = []
    for name, spec in raw.items():
        where = ("states", name)
        if not is_name(name) or name in (ACTIVE, PREVIOUS):
            ctx.p.at(where, f"state name '{name}' must be {NAME_RULE} and not a keyword")
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            ctx.p.at(where, f"state '{name}' must be a mapping")
            continue
        unknown_keys(ctx, spec, STATE_KEYS, where)
        final, hold = _flag(ctx, spec, "final", where), _flag(ctx, spec, "hold", where)
        if final and hold:
            ctx.p.at(where, f"state '{name}' cannot be both final and the hold state")
        if hold:
            holds.append(name)
        actors = names(ctx, spec.get("actors"), (*where, "actors"), "actors")
        for role in actors:
            if role not in ROLES:
                ctx.p.at((*where, "actors"), f"unknown role '{role}' in state '{name}'")
        collects = names(ctx, spec.get("collects"), (*where, "collects"), "collects")
        for fname in collects:
            if fname not in fields:
                ctx.p.at((*where, "collects"), f"unknown field '{fname}' collected in '{name}'")
        out[name] = StateDef(
            name=name,
            label=label(ctx, spec.get("label"), (*where, "label")) or Label(name),
            final=final,
            hold=hold,
            actors=actors,
            collects=collects,
            notify=refs.notify(ctx, spec.get("notify"), (*where, "notify"), fields),
        )
    if len(holds) > 1:
        ctx.p.at(("states", holds[1]), f"only one hold state is allowed (also: {holds[0]})")
    if not any(s.final for s in out.values()):
        ctx.p.at(("states",), "no final state (mark at least one with final: true)")
    return out


def _flag(ctx: Context, spec: dict[str, Any], key: str, where: Where) -> bool:
    """`final:` / `hold:` — true or false (YAML 1.2: `yes` is the word, not true)."""
    value = spec.get(key, False)
    if not isinstance(value, bool):
        ctx.p.at((*where, key), f"'{key}' is true or false, not {value!r}")
        return False
    return value


def _transitions(
    ctx: Context, states: dict[str, StateDef], fields: dict[str, FieldDef]
) -> list[TransitionDef]:
    raw = ctx.doc.get("transitions")
    if not isinstance(raw, list) or not raw:
        ctx.p.at(("transitions",) if "transitions" in ctx.doc else (), "missing 'transitions' list")
        return []
    out: list[TransitionDef] = []
    active = [s.name for s in states.values() if s.active]
    for i, spec in enumerate(raw):
        where = ("transitions", i)
        if not isinstance(spec, dict):
            ctx.p.at(where, "a transition must be a mapping (trigger, source, dest, …)")
            continue
        transition = _transition(ctx, spec, where, states, fields, active)
        if transition is not None:
            out.append(transition)
    return out


def _transition(
    ctx: Context,
    spec: dict[str, Any],
    where: Where,
    states: dict[str, StateDef],
    fields: dict[str, FieldDef],
    active: list[str],
) -> TransitionDef | None:
    """One declaration; None when it cannot take part in the graph (reported, and still
    checked further so that an author sees all its problems)."""
    unknown_keys(ctx, spec, TRANSITION_KEYS, where)
    trigger = spec.get("trigger")
    if not is_name(trigger):
        ctx.p.at((*where, "trigger"), f"'trigger' must be {NAME_RULE}")
        return None
    assert isinstance(trigger, str)
    sources, generic = _sources(ctx, spec.get("source"), (*where, "source"), states, active)
    dest = spec.get("dest")
    usable = True
    if dest == PREVIOUS:
        bad = [s for s in sources if not states[s].hold]
        if bad:
            ctx.p.at(
                (*where, "dest"),
                f"'dest: previous' only works from the hold state, not from {', '.join(bad)}",
            )
            usable = False
    elif not isinstance(dest, str):
        ctx.p.at((*where, "dest") if "dest" in spec else where, "missing 'dest'")
        usable = False
    elif dest not in states:
        ctx.p.at((*where, "dest"), f"unknown state '{dest}' as dest of '{trigger}'")
        usable = False
    for s in sources:
        if states[s].final:
            ctx.p.at((*where, "source"), f"final state '{s}' cannot have transitions out")
    roles = names(ctx, spec.get("roles"), (*where, "roles"), "roles") or DEFAULT_ROLES
    for role in roles:
        if role not in ROLES:
            ctx.p.at((*where, "roles"), f"unknown role '{role}' in '{trigger}'")
    requires = names(ctx, spec.get("requires"), (*where, "requires"), "requires")
    collects = names(ctx, spec.get("collects"), (*where, "collects"), "collects")
    for key, listed in (("requires", requires), ("collects", collects)):
        for fname in listed:
            if fname not in fields:
                ctx.p.at((*where, key), f"unknown field '{fname}' in {key}")
    guards = refs.guards(ctx, spec.get("guards"), (*where, "guards"))
    notify = refs.notify(ctx, spec.get("notify"), (*where, "notify"), fields)
    text = label(ctx, spec.get("label"), (*where, "label"))
    if not usable or not isinstance(dest, str):
        return None
    return TransitionDef(
        trigger=trigger,
        sources=sources,
        dest=dest,
        label=text or Label(trigger),
        roles=roles,
        requires=requires,
        guards=guards,
        collects=collects,
        line=ctx.p.line(where),
        generic_sources=generic,
        notify=notify,
    )


def _sources(
    ctx: Context,
    node: Any,
    where: Where,
    states: dict[str, StateDef],
    active: list[str],
) -> tuple[tuple[str, ...], frozenset[str]]:
    """(every source, the ones that came only from the `active` keyword)."""
    listed = names(ctx, node, where, "source")
    if not listed:
        ctx.p.at(where, "missing 'source'")
        return (), frozenset()
    out: list[str] = []
    explicit: set[str] = set()
    for name in listed:
        if name == ACTIVE:
            out.extend(a for a in active if a not in out)
        elif name not in states:
            ctx.p.at(where, f"unknown state '{name}' as source")
        else:
            explicit.add(name)
            if name not in out:
                out.append(name)
    return tuple(out), frozenset(out) - explicit
