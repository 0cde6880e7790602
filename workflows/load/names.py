"""Stage 3a: the names a definition refers to — guards (and their parameters), mail templates
and their languages, recipients, attachments, the date fields a message is due by — checked
against what exists, so nothing unknown reaches the first click."""

from __future__ import annotations

from typing import Any

from config.yaml_reader import LocatedDict
from workflows.definition import (
    ATTACHMENTS,
    DELEGATE_DOCUMENTS,
    INTERNAL_RECIPIENTS,
    RECIPIENT_ROLES,
    REQUIRED_LANGUAGES,
    ChangeRule,
    FieldDef,
    GuardRef,
    NotifyDef,
    StateDef,
)
from workflows.load.context import Context, Where, is_whole, names, unknown_keys
from workflows.load.spec import DUE, MAX_DAYS, NOTIFY, ON_CHANGE

NOTIFY_KEYS = NOTIFY.allowed


def days_in_range(value: Any, low: int = -MAX_DAYS, high: int = MAX_DAYS) -> bool:
    return is_whole(value) and low <= value <= high


def guards(ctx: Context, node: Any, where: Where) -> tuple[GuardRef, ...]:
    if node is None:
        return ()
    if not isinstance(node, list):
        ctx.p.at(where, "'guards' must be a list of guard names")
        return ()
    refs = []
    for i, item in enumerate(node):
        if isinstance(item, str):
            name, raw_params = item, None
        elif isinstance(item, dict) and len(item) == 1:
            name, raw_params = next(iter(item.items()))
        else:
            ctx.p.at((*where, i), "a guard is a name, or {name: {parameters}}")
            continue
        spec = ctx.guards.get(name)
        if spec is None:
            ctx.p.at(
                (*where, i), f"unknown guard '{name}' (known: {', '.join(ctx.guards.names())})"
            )
            continue
        params, problems = spec.parse_params(raw_params)
        for message in problems:
            ctx.p.at((*where, i), message)
        refs.append(GuardRef(name=name, params=params))
    return tuple(refs)


def notify(
    ctx: Context, node: Any, where: Where, fields: dict[str, FieldDef]
) -> tuple[NotifyDef, ...]:
    """Messages to send: each names a template, its recipients and its attachments."""
    if node is None:
        return ()
    if not isinstance(node, list):
        ctx.p.at(where, "'notify' must be a list of {template, to, attach}")
        return ()
    out = []
    for i, item in enumerate(node):
        at = (*where, i)
        if not isinstance(item, dict):
            ctx.p.at(at, "a notification is a mapping {template, to, attach}")
            continue
        unknown_keys(ctx, item, NOTIFY_KEYS, at)
        template = item.get("template")
        recipients = names(ctx, item.get("to"), (*at, "to"), "to")
        attach = names(ctx, item.get("attach"), (*at, "attach"), "attach")
        if not isinstance(template, str):
            ctx.p.at(at, "a notification needs a 'template'")
            continue
        if not recipients:
            ctx.p.at(at, f"notification '{template}' needs recipients in 'to'")
        for role in recipients:
            if role not in RECIPIENT_ROLES:
                ctx.p.at(
                    (*at, "to"),
                    f"unknown recipient '{role}' (known: {', '.join(RECIPIENT_ROLES)})",
                )
        for kind in attach:
            if kind not in ATTACHMENTS:
                ctx.p.at(
                    (*at, "attach"),
                    f"unknown attachment '{kind}' (known: {', '.join(ATTACHMENTS)})",
                )
            elif kind == "ics" and not {"event_start", "event_end"} <= fields.keys():
                ctx.p.at(
                    (*at, "attach"),
                    "an 'ics' invitation needs the fields event_start and event_end",
                )
            elif kind in DELEGATE_DOCUMENTS:
                _delegate_documents(ctx, kind, fields, (*at, "attach"))
        _template_languages(ctx, template, recipients, (*at, "template"))
        due_field, due_days = due(ctx, item.get("due"), (*at, "due"), fields)
        out.append(NotifyDef(template, recipients, attach, due_field, due_days, ctx.p.line(at)))
    return tuple(out)


def _delegate_documents(ctx: Context, kind: str, fields: dict[str, FieldDef], where: Where) -> None:
    """The delegates' documents (documents/) are written from the `delegates` list (each
    with a `name`) and the event's dates."""
    people = fields.get("delegates")
    items = people.items if people is not None and people.type == "list" else None
    if items is None or items.type != "object" or "name" not in {f.name for f in items.fields}:
        ctx.p.at(
            where,
            f"'{kind}' is written for each delegate: it needs the field 'delegates', a list "
            "of objects with a 'name'",
        )
    if not {"event_start", "event_end"} <= fields.keys():
        ctx.p.at(where, f"'{kind}' needs the fields event_start and event_end")


def _template_languages(
    ctx: Context, template: str, recipients: tuple[str, ...], where: Where
) -> None:
    languages = ctx.templates.get(template)
    if languages is None:
        ctx.p.at(where, f"unknown template '{template}'")
        return
    needed = {"es"}
    if any(r not in INTERNAL_RECIPIENTS for r in recipients):
        needed |= set(REQUIRED_LANGUAGES)
    missing = sorted(needed - languages)
    if missing:
        ctx.p.at(
            where,
            f"template '{template}' lacks language(s) its recipients need: {', '.join(missing)}",
        )


def due(
    ctx: Context, node: Any, where: Where, fields: dict[str, FieldDef]
) -> tuple[str | None, int]:
    """`due: {field: event_start, days: -30}` — the date a message tells its reader."""
    if node is None:
        return None, 0
    if not isinstance(node, dict) or set(node) - DUE.allowed or "field" not in node:
        ctx.p.at(where, "'due' is {field: <date field>, days: <whole number>}")
        return None, 0
    name, days = node["field"], node.get("days", 0)
    spec = fields.get(name) if isinstance(name, str) else None
    if spec is None or spec.type != "date":
        ctx.p.at(where, f"'due' needs a date field, not '{name}'")
        return None, 0
    if not days_in_range(days):
        ctx.p.at(
            where,
            f"'due: days' must be a whole number of days from -{MAX_DAYS:,} to {MAX_DAYS:,}",
        )
        return None, 0
    return name, days


def on_change(
    ctx: Context, states: dict[str, StateDef], fields: dict[str, FieldDef]
) -> tuple[ChangeRule, ...]:
    """`on_change: [{fields: [...], states: [...], notify: [...]}]`."""
    raw = ctx.doc.get("on_change")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        ctx.p.at(("on_change",), "'on_change' must be a list of {fields, states, notify}")
        return ()
    rules = []
    for i, item in enumerate(raw):
        at = ("on_change", i)
        if not isinstance(item, LocatedDict):
            ctx.p.at(at, "an on_change rule is a mapping {fields, states, notify}")
            continue
        unknown_keys(ctx, item, ON_CHANGE.allowed, at)
        changed = names(ctx, item.get("fields"), (*at, "fields"), "fields")
        in_states = names(ctx, item.get("states"), (*at, "states"), "states")
        if not changed:
            ctx.p.at(at, "an on_change rule needs 'fields'")
        for name in changed:
            if name not in fields:
                ctx.p.at((*at, "fields"), f"unknown field '{name}' in on_change")
        if not in_states:
            ctx.p.at(at, "an on_change rule needs 'states' (where it applies)")
        for name in in_states:
            if name not in states:
                ctx.p.at((*at, "states"), f"unknown state '{name}' in on_change")
        messages = notify(ctx, item.get("notify"), (*at, "notify"), fields)
        rules.append(ChangeRule(changed, in_states, messages, ctx.p.line(at)))
    return tuple(rules)
