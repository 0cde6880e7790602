"""How a brochure rule is written: a named function over the request's data.

Guards are registered by name (the YAML refers to them by name) and checked at load time,
parameters included. A guard returns the reasons it fails — an empty list means the rule holds —
so a refused transition can report every broken rule at once, in words a coordinator acts on.
Each reason is an `i18n.Text`: an English sentence (the msgid) with its parameters (the
workflow's field labels, counts, names), said later in its reader's language. No reason names a
field by its code: `GuardContext.label` gives the field's label from the workflow definition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from config.catalogues import Catalogues
from i18n import Text
from workflows.definition import FieldDef


@dataclass(frozen=True)
class RequestFacts:
    """What a guard may know about the request besides its data."""

    id: int | None
    programme: str
    state: str
    emb_code: str | None = None
    # the business calendar's today when a step is taken (None where a rule is re-checked
    # later, e.g. `request update`, migrations: rules about "today" then hold)
    today: date | None = None


@dataclass(frozen=True)
class GuardContext:
    data: Mapping[str, Any]
    params: Any  # the validated parameter model instance, or None
    catalogues: Catalogues
    request: RequestFacts
    fields: Mapping[str, FieldDef] = field(default_factory=dict)  # the workflow's fields

    def label(self, *path: str) -> Any:
        """The label of a field (a nested one by its path, e.g. ("participants", "emb")) as
        the workflow defines it: something with `.get(language)`. A field the workflow does not
        define (or defines without a label) is named in words made from its name."""
        return field_label(self.fields, *path)


def field_label(fields: Mapping[str, FieldDef], *path: str) -> Any:
    """The label of the field at `path` in `fields`, or its name in words."""
    found: FieldDef | None = None
    level: Mapping[str, FieldDef] = fields
    for name in path:
        found = level.get(name)
        if found is None:
            break
        inner = found.items if found.type == "list" and found.items is not None else found
        level = {f.name: f for f in inner.fields}
    if found is not None and found.label is not None:
        return found.label
    return humanise(path[-1] if path else "")


def humanise(name: str) -> str:
    """'event_start' → 'Event start': a field without a label, named without its code."""
    words = name.replace("_", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:]


GuardFn = Callable[[GuardContext], list[Text]]


@dataclass(frozen=True)
class GuardSpec:
    name: str
    fn: GuardFn
    params_model: type[BaseModel] | None
    description: str

    def parse_params(self, raw: Any) -> tuple[Any, list[str]]:
        """Validate YAML parameters; returns (params, problems)."""
        if self.params_model is None:
            if raw not in (None, {}):
                return None, [f"guard '{self.name}' takes no parameters"]
            return None, []
        try:
            return self.params_model.model_validate(raw or {}), []
        except ValidationError as exc:
            return None, [
                f"guard '{self.name}' parameter {'.'.join(map(str, e['loc'])) or '(all)'}: "
                f"{e['msg']}"
                for e in exc.errors()
            ]


@dataclass
class GuardRegistry:
    """Name → guard. The default registry is filled by `workflows.guards`."""

    _specs: dict[str, GuardSpec] = field(default_factory=dict)

    def register(
        self, name: str, params: type[BaseModel] | None = None
    ) -> Callable[[GuardFn], GuardFn]:
        def decorate(fn: GuardFn) -> GuardFn:
            if name in self._specs:
                raise ValueError(f"guard {name!r} registered twice")
            doc = (fn.__doc__ or "").strip().splitlines()
            self._specs[name] = GuardSpec(name, fn, params, doc[0] if doc else "")
            return fn

        return decorate

    def get(self, name: str) -> GuardSpec | None:
        return self._specs.get(name)

    def names(self) -> list[str]:
        return sorted(self._specs)


GUARDS = GuardRegistry()
