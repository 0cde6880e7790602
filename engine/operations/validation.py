"""A step's data: only the fields it collects, each valid for its type, merged into the stored
data as a JSON merge-patch of top-level fields (`null` clears a field)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from engine.compiler import CompiledWorkflow
from engine.errors import InvalidData
from engine.operations.rules import Sentences
from i18n import Text
from workflows.guard_api import field_label


def validated_patch(
    wf: CompiledWorkflow, data: Mapping[str, Any], collectable: Collection[str]
) -> dict[str, Any]:
    """The step's data, validated: `InvalidData` lists every problem ({"field": the field's
    code path, "message": an `i18n.Text` naming it by its label})."""
    if not isinstance(data, Mapping):
        raise InvalidData(
            Text("The data must be a JSON object."),
            [{"field": "data", "message": Text("Expected a set of named values.")}],
        )
    if not data:
        return {}
    definition = wf.definition
    errors: list[dict[str, Any]] = [
        {
            "field": key,
            "message": (
                Text(
                    "“%(field)s” is not filled in at this step.",
                    field=field_label(definition.fields, key),
                )
                if key in definition.fields
                else Text(
                    "%(name)s is not a field of “%(workflow)s”.",
                    name=repr(key),
                    workflow=definition.title,
                )
            ),
        }
        for key in data
        if key not in collectable
    ]
    clean, type_errors = wf.validators.validate({k: v for k, v in data.items() if k in collectable})
    errors.extend(type_errors)
    if errors:
        raise InvalidData(
            Text(
                "The data was refused: %(problems)s",
                problems=Sentences([e["message"] for e in errors]),
            ),
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
