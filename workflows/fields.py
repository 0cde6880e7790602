"""Field declarations → validators producing field-level messages.

Each top-level field becomes a pydantic `TypeAdapter`, built once per compiled workflow.
Values are stored in their JSON form (dates as `YYYY-MM-DD`), so what is read back is what was
validated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    create_model,
)

from config.catalogues import LANGUAGES, Catalogues
from workflows.definition import FieldDef

# dates a request may carry: any timer or due date computed from one (± ten years, see
# `workflows.load.names.MAX_DAYS`) is still a date Python can represent
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
ONE_LINE = StringConstraints(strip_whitespace=True, min_length=1, pattern=r"^[^\r\n\x00]*$")
# One plain addr-spec, the same that notifications.headers.parse_address accepts (minus the
# apostrophe, refused as before): ASCII dot-atom local part of at most 64 characters, a domain
# of two or more labels. `\Z`, not `$`: `$` also matches before a final newline. Use fullmatch.
_ATEXT = r"[A-Za-z0-9!#$%&*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_RE = re.compile(rf"(?=[^@]{{1,64}}@){_ATEXT}+(?:\.{_ATEXT}+)*@{_LABEL}(?:\.{_LABEL})+\Z")


def _member(what: str, known: Mapping[str, Any] | frozenset[str]) -> Any:
    def check(value: str) -> str:
        if value not in known:
            raise ValueError(f"'{value}' is not a known {what}")
        return value

    return AfterValidator(check)


def _email(value: str) -> str:
    if len(value) > 254 or not EMAIL_RE.fullmatch(value):
        raise ValueError(f"'{value}' is not a single valid e-mail address")
    return value


def _in_range(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(
            f"{value.isoformat()} is not a date between {FIRST_DAY.isoformat()} and "
            f"{LAST_DAY.isoformat()}"
        )
    return value


def _python_type(spec: FieldDef, cat: Catalogues) -> Any:
    t = spec.type
    if t == "string":
        return Annotated[str, ONE_LINE]
    if t == "text":
        return Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    if t == "integer":
        return StrictInt
    if t == "number":
        return StrictInt | StrictFloat
    if t == "boolean":
        return StrictBool
    if t == "date":
        return Annotated[date, AfterValidator(_in_range)]
    if t == "email":
        # no stripping: an address with a space or line break around it is refused, not mended
        return Annotated[str, AfterValidator(_email)]
    if t == "enum":
        return Literal[spec.values]
    if t == "theme":
        return Annotated[str, _member("theme in the catalogue", cat.themes)]
    if t == "country":
        return Annotated[str, _member("ISO 3166-1 alpha-2 country code", cat.countries)]
    if t == "language":
        return Literal[LANGUAGES]
    if t == "partner":
        return Annotated[str, _member("partner code", cat.partners)]
    if t == "cost_matrix":
        return dict[
            Annotated[str, _member("cost category", cat.financing.categories)],
            Annotated[str, _member("payer", cat.financing.payers)],
        ]
    if t == "list":
        assert spec.items is not None
        item = _python_type(spec.items, cat)
        return Annotated[list[item], Field(min_length=spec.min_items, max_length=spec.max_items)]  # type: ignore[valid-type]
    if t == "object":
        return _object_model(spec, cat)
    raise AssertionError(f"unhandled field type {t}")


def _object_model(spec: FieldDef, cat: Catalogues) -> type[BaseModel]:
    definitions: dict[str, Any] = {}
    for sub in spec.fields:
        py = _python_type(sub, cat)
        definitions[sub.name] = (py, ...) if sub.required else (py | None, None)
    return create_model(
        f"Object_{spec.name.replace('[]', '_item')}",
        __config__=ConfigDict(extra="forbid"),
        **definitions,
    )


class FieldValidators:
    """Validates a patch of top-level fields; returns normalised JSON values."""

    def __init__(self, fields: Mapping[str, FieldDef], catalogues: Catalogues) -> None:
        self._adapters: dict[str, TypeAdapter[Any]] = {
            name: TypeAdapter(_python_type(spec, catalogues)) for name, spec in fields.items()
        }

    def validate(self, patch: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
        clean: dict[str, Any] = {}
        errors: list[dict[str, str]] = []
        for name, value in patch.items():
            adapter = self._adapters.get(name)
            if adapter is None:
                errors.append({"field": name, "message": f"'{name}' is not a field"})
                continue
            if value is None:  # null clears a field (JSON merge-patch)
                clean[name] = None
                continue
            try:
                parsed = adapter.validate_python(value)
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    loc = ".".join(str(x) for x in (name, *err["loc"]))
                    errors.append({"field": loc, "message": err["msg"]})
                continue
            clean[name] = adapter.dump_python(parsed, mode="json", exclude_none=True)
        return clean, errors
