"""Stage 2a: the `fields:` a request of the programme can carry → `FieldDef`s.

Besides types, labels and the bounds (`min` / `max` of integer and date fields), this refuses
what would only fail when the validators are built (`workflows.fields` makes a pydantic model
per `object` field): sub-field names that are not names or that pydantic reserves, `min_items`
above `max_items`, enum values that are not text, labels (`labels:`) of values an enum field
does not have.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from config.catalogues import Label
from workflows.definition import FIELD_TYPES, FieldDef
from workflows.load.context import (
    NAME_RULE,
    Context,
    Where,
    is_name,
    is_whole,
    label,
    unknown_keys,
)
from workflows.load.spec import BOUNDED_TYPES, FIELD, RESERVED, RESERVED_PREFIX

# the dates a date field can hold at all (`workflows.fields` refuses others)
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)

FIELD_KEYS = FIELD.allowed


def fields(ctx: Context) -> dict[str, FieldDef]:
    raw = ctx.doc.get("fields")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        ctx.p.at(("fields",), "'fields' must be a mapping of field name → declaration")
        return {}
    out = {}
    for name, spec in raw.items():
        where = ("fields", name)
        if not is_name(name):
            ctx.p.at(where, f"field name '{name}' must be {NAME_RULE}")
        parsed = _field(ctx, name, spec, where, top=True)
        if parsed is not None:
            out[name] = parsed
    return out


def _field(ctx: Context, name: str, spec: Any, where: Where, top: bool) -> FieldDef | None:
    if not isinstance(spec, dict):
        ctx.p.at(where, f"field '{name}' must be a mapping with a 'type'")
        return None
    unknown_keys(ctx, spec, FIELD_KEYS, where)
    ftype = spec.get("type")
    if ftype not in FIELD_TYPES:
        ctx.p.at(
            (*where, "type"),
            f"field '{name}' has unknown type {ftype!r} (known: {', '.join(FIELD_TYPES)})",
        )
        return None
    assert isinstance(ftype, str)
    values = _values(ctx, name, ftype, spec, where)
    value_labels = _value_labels(ctx, name, ftype, spec, where, values)
    items = None
    if ftype == "list":
        if "items" not in spec:
            ctx.p.at(where, f"list field '{name}' needs 'items'")
        else:
            items = _field(ctx, f"{name}[]", spec["items"], (*where, "items"), top=False)
    elif "items" in spec:
        ctx.p.at((*where, "items"), "'items' only applies to list fields")
    bounds = _bounds(ctx, ftype, spec, where)
    limits = _limits(ctx, ftype, spec, where)
    required = spec.get("required", True)
    if not isinstance(required, bool):
        ctx.p.at((*where, "required"), "'required' must be true or false")
        required = True
    return FieldDef(
        name=name,
        type=ftype,
        label=label(ctx, spec.get("label"), (*where, "label"), required=top),
        required=required,
        values=values,
        items=items,
        fields=_subfields(ctx, name, ftype, spec, where),
        min_items=bounds.get("min_items"),
        max_items=bounds.get("max_items"),
        minimum=limits.get("min"),
        maximum=limits.get("max"),
        value_labels=value_labels,
    )


def _values(ctx: Context, name: str, ftype: str, spec: Any, where: Where) -> tuple[str, ...]:
    if ftype != "enum":
        if "values" in spec:
            ctx.p.at((*where, "values"), "'values' only applies to enum fields")
        return ()
    raw = spec.get("values")
    if not isinstance(raw, list) or not raw:
        ctx.p.at(where, f"enum field '{name}' needs a non-empty list of 'values'")
        return ()
    bad = [v for v in raw if not isinstance(v, str) and not is_whole(v)]
    if bad:
        ctx.p.at(
            (*where, "values"),
            f"enum field '{name}': {bad[0]!r} is not a value name (write text; quote "
            "true, false or null to mean the words)",
        )
        return ()
    values = tuple(str(v) for v in raw)
    if len(set(values)) != len(values):
        ctx.p.at((*where, "values"), f"enum field '{name}' repeats a value")
    return values


def _value_labels(
    ctx: Context, name: str, ftype: str, spec: Any, where: Where, values: tuple[str, ...]
) -> dict[str, Label]:
    """`labels:` of an enum field: value → label. Each names one of the field's values; a value
    left without one is shown in words made from it."""
    if "labels" not in spec:
        return {}
    at = (*where, "labels")
    if ftype != "enum":
        ctx.p.at(at, "'labels' only applies to enum fields")
        return {}
    raw = spec.get("labels")
    if not isinstance(raw, dict) or not raw:
        ctx.p.at(at, f"enum field '{name}': 'labels' must be a mapping of value → label")
        return {}
    out: dict[str, Label] = {}
    for key, node in raw.items():
        value = str(key) if isinstance(key, str) or is_whole(key) else None
        if value is None or (values and value not in values):
            known = ", ".join(values)
            ctx.p.at(
                (*at, key),
                f"enum field '{name}' has no value {key!r} to label (its values: {known})",
            )
            continue
        found = label(ctx, node, (*at, key))
        if found is not None:
            out[value] = found
    return out


def _subfields(
    ctx: Context, name: str, ftype: str, spec: Any, where: Where
) -> tuple[FieldDef, ...]:
    if ftype != "object":
        if "fields" in spec:
            ctx.p.at((*where, "fields"), "'fields' only applies to object fields")
        return ()
    raw = spec.get("fields")
    if not isinstance(raw, dict) or not raw:
        ctx.p.at(where, f"object field '{name}' needs 'fields'")
        return ()
    parsed = []
    for sub, sub_spec in raw.items():
        at = (*where, "fields", sub)
        if not is_name(sub):
            ctx.p.at(at, f"sub-field name '{sub}' must be {NAME_RULE}")
            continue
        if sub in RESERVED or sub.startswith(RESERVED_PREFIX):
            ctx.p.at(at, f"sub-field name '{sub}' is reserved; choose another name")
            continue
        parsed.append(_field(ctx, sub, sub_spec, at, top=False))
    return tuple(f for f in parsed if f is not None)


def _bounds(ctx: Context, ftype: str, spec: Any, where: Where) -> dict[str, int]:
    bounds: dict[str, int] = {}
    for key in ("min_items", "max_items"):
        value = spec.get(key)
        if value is None:
            continue
        if ftype != "list":
            ctx.p.at((*where, key), f"'{key}' only applies to list fields")
        elif not is_whole(value) or value < 0:
            ctx.p.at((*where, key), f"'{key}' must be a whole number ≥ 0")
        else:
            bounds[key] = value
    if bounds.get("min_items", 0) > bounds.get("max_items", bounds.get("min_items", 0)):
        ctx.p.at(
            (*where, "min_items"),
            f"'min_items' ({bounds['min_items']}) is more than 'max_items' "
            f"({bounds['max_items']}): no list could be valid",
        )
    return bounds


def _limits(ctx: Context, ftype: str, spec: Any, where: Where) -> dict[str, int | date]:
    """`min` / `max` of an integer field (whole numbers) or a date field (YYYY-MM-DD)."""
    limits: dict[str, int | date] = {}
    for key in ("min", "max"):
        if key not in spec or spec[key] is None:
            continue
        value = spec[key]
        if ftype not in BOUNDED_TYPES:
            ctx.p.at((*where, key), f"'{key}' only applies to integer and date fields")
        elif ftype == "integer":
            if is_whole(value):
                limits[key] = value
            else:
                ctx.p.at((*where, key), f"'{key}' of an integer field must be a whole number")
        else:
            day = _day(value)
            if day is None:
                ctx.p.at(
                    (*where, key),
                    f"'{key}' of a date field must be a date (YYYY-MM-DD) between "
                    f"{FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}",
                )
            else:
                limits[key] = day
    low, high = limits.get("min"), limits.get("max")
    if low is not None and high is not None and low > high:  # type: ignore[operator]
        ctx.p.at((*where, "min"), f"'min' ({spec['min']}) is more than 'max' ({spec['max']})")
    return limits


def _day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None
