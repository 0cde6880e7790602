"""Stage 3b: timers — where they live, when they fall due, what they send or fire.

Every offset is bounded (`MAX_DAYS`, ten years, for an offset and for the span of a repeated
reminder), so any due date the engine computes from an accepted timer is a real date: a file
with `days: 99999999999999999999` or `entered: 3000000` is refused here, not at the first
request with an `OverflowError`."""

from __future__ import annotations

from typing import Any

from config.catalogues import Label
from workflows.definition import TIMER_KINDS, FieldDef, StateDef, TimerDef, TransitionDef
from workflows.load.context import NAME_RULE, Context, Where, is_name, is_whole, names, unknown_keys
from workflows.load.context import label as read_label
from workflows.load.names import days_in_range, notify
from workflows.load.spec import AT_ENTERED, AT_FIELD, MAX_DAYS, MAX_REPEATS, REPEAT, TIMER

TIMER_KEYS = TIMER.allowed


def timers(
    ctx: Context,
    states: dict[str, StateDef],
    fields: dict[str, FieldDef],
    transitions: list[TransitionDef],
) -> tuple[TimerDef, ...]:
    raw = ctx.doc.get("timers")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        ctx.p.at(("timers",), "'timers' must be a list")
        return ()
    out: list[TimerDef] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        at = ("timers", i)
        if not isinstance(item, dict):
            ctx.p.at(at, "a timer is a mapping {id, states, at, kind, …}")
            continue
        timer = _timer(ctx, item, at, states, fields, transitions, seen)
        if timer is not None:
            out.append(timer)
    return tuple(out)


def _timer(
    ctx: Context,
    item: dict[str, Any],
    at: Where,
    states: dict[str, StateDef],
    fields: dict[str, FieldDef],
    transitions: list[TransitionDef],
    seen: set[str],
) -> TimerDef | None:
    unknown_keys(ctx, item, TIMER_KEYS, at)
    timer_id = item.get("id")
    if not is_name(timer_id):
        ctx.p.at((*at, "id"), f"a timer needs an 'id': {NAME_RULE}")
        return None
    assert isinstance(timer_id, str)
    if timer_id in seen:
        ctx.p.at((*at, "id"), f"timer id '{timer_id}' is used twice")
    seen.add(timer_id)
    label = read_label(ctx, item.get("label"), (*at, "label"))
    kind = item.get("kind")
    if kind not in TIMER_KINDS:
        ctx.p.at((*at, "kind"), f"timer kind must be one of {', '.join(TIMER_KINDS)}")
        return None
    assert isinstance(kind, str)
    in_states = names(ctx, item.get("states"), (*at, "states"), "states")
    if not in_states:
        ctx.p.at(at, f"timer '{timer_id}' needs 'states' (where it is live)")
    for name in in_states:
        if name not in states:
            ctx.p.at((*at, "states"), f"unknown state '{name}' in timer '{timer_id}'")
        elif states[name].final:
            ctx.p.at((*at, "states"), f"timer '{timer_id}' cannot live in final '{name}'")
    anchor, days = _at(ctx, item.get("at"), (*at, "at"), fields)
    working = item.get("working_days", False)
    if not isinstance(working, bool):
        ctx.p.at((*at, "working_days"), "'working_days' is true or false")
        working = False
    messages = notify(ctx, item.get("notify"), (*at, "notify"), fields)
    fire = item.get("fire")
    if kind == "transition":
        _fires(ctx, timer_id, fire, in_states, transitions, at)
        if messages:
            ctx.p.at((*at, "notify"), "a transition timer notifies through its trigger")
    else:
        if fire is not None:
            ctx.p.at((*at, "fire"), f"only a transition timer fires ('{kind}' notifies)")
        if not messages:
            ctx.p.at(at, f"{kind} timer '{timer_id}' needs 'notify'")
    every, times = _repeat(ctx, item.get("repeat"), (*at, "repeat"), kind)
    span = abs(days) + every * (times - 1)
    if span > MAX_DAYS:
        ctx.p.at(
            (*at, "repeat"),
            f"timer '{timer_id}' would fall due {span:,} days from its start; keep every "
            f"occurrence within {MAX_DAYS:,} days (ten years)",
        )
    return TimerDef(
        id=timer_id,
        label=label or Label(timer_id),
        kind=kind,
        states=in_states,
        days=days,
        anchor_field=anchor,
        working_days=working,
        notify=messages,
        fire=fire if isinstance(fire, str) else None,
        repeat_every=every,
        repeat_times=times,
        line=ctx.p.line(at),
    )


def _fires(
    ctx: Context,
    timer_id: str,
    fire: Any,
    in_states: tuple[str, ...],
    transitions: list[TransitionDef],
    at: Where,
) -> None:
    if not isinstance(fire, str):
        ctx.p.at(at, f"transition timer '{timer_id}' needs 'fire: <trigger>'")
        return
    for name in in_states:
        if not any(
            t.trigger == fire and name in t.sources and "system" in t.roles for t in transitions
        ):
            ctx.p.at(
                (*at, "fire"),
                f"timer '{timer_id}' fires '{fire}', which has no transition from '{name}' "
                "open to the role 'system'",
            )


def _at(
    ctx: Context, node: Any, where: Where, fields: dict[str, FieldDef]
) -> tuple[str | None, int]:
    """`at: {entered: 14}` (days after entering its states) or `at: {field: F, days: -30}`."""
    if isinstance(node, dict) and set(node) == AT_ENTERED.allowed:
        days = node["entered"]
        if days_in_range(days, 0):
            return None, days
        ctx.p.at(where, f"'entered' is a whole number of days from 0 to {MAX_DAYS:,} (ten years)")
        return None, 0
    if isinstance(node, dict) and "field" in node and set(node) <= AT_FIELD.allowed:
        name, days = node["field"], node.get("days", 0)
        spec = fields.get(name) if isinstance(name, str) else None
        if spec is None or spec.type != "date":
            ctx.p.at(where, f"a timer can only hang on a date field, not '{name}'")
        elif not days_in_range(days):
            ctx.p.at(
                where,
                f"'days' is a whole number from -{MAX_DAYS:,} to {MAX_DAYS:,} "
                "(negative: before the date)",
            )
        else:
            return name, days
        return None, 0
    ctx.p.at(where, "'at' is {entered: DAYS} or {field: DATE_FIELD, days: ±DAYS}")
    return None, 0


def _repeat(ctx: Context, node: Any, where: Where, kind: str) -> tuple[int, int]:
    """`repeat: {every: 7, times: 3}` — reminders only."""
    if node is None:
        return 0, 1
    if kind != "reminder":
        ctx.p.at(where, "only reminders repeat")
        return 0, 1
    if (
        isinstance(node, dict)
        and set(node) == REPEAT.allowed
        and days_in_range(node["every"], 1)
        and is_whole(node["times"])
        and 1 <= node["times"] <= MAX_REPEATS
    ):
        return int(node["every"]), int(node["times"])
    ctx.p.at(
        where,
        f"'repeat' is {{every: DAYS from 1 to {MAX_DAYS:,}, times: N from 1 to {MAX_REPEATS}}}",
    )
    return 0, 1
