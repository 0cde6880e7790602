"""A step's data: only the fields it collects, each valid for its type, merged into the stored
data as a JSON merge-patch of top-level fields (`null` clears a field)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.compiler import CompiledWorkflow
from engine.errors import InvalidData


def validated_patch(
    wf: CompiledWorkflow, data: Mapping[str, Any], collectable: Sequence[str]
) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidData(
            "data must be a JSON object", [{"field": "data", "message": "not an object"}]
        )
    if not data:
        return {}
    errors = [
        {
            "field": key,
            "message": (
                f"'{key}' is not collected at this step"
                if key in wf.definition.fields
                else f"'{key}' is not a field of {wf.name}"
            ),
        }
        for key in data
        if key not in collectable
    ]
    clean, type_errors = wf.validators.validate({k: v for k, v in data.items() if k in collectable})
    errors.extend(type_errors)
    if errors:
        raise InvalidData(
            f"{len(errors)} problem(s) in the data: "
            + "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors,
        )
    return clean


def merge(
    current: Mapping[str, Any], patch: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """JSON merge-patch of top-level fields; returns (merged, {field: [old, new]})."""
    if not patch:
        return dict(current), {}
    merged = dict(current)
    changes: dict[str, Any] = {}
    for key, value in patch.items():
        old = current.get(key)
        if value is None:
            if key in merged:
                del merged[key]
                changes[key] = [old, None]
        elif old != value:
            merged[key] = value
            changes[key] = [old, value]
    return merged, changes
