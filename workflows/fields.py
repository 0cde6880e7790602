"""Field declarations → validators producing field-level messages.

Each top-level field becomes a pydantic `TypeAdapter`, built once per compiled workflow.
Values are stored in their JSON form (dates as `YYYY-MM-DD`), so what is read back is what was
validated. A message names the field by its label (the workflow's, in the reader's language)
and says what is wrong as an `i18n.Text`: pydantic's English messages never reach a person.
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
from i18n import Text, say
from i18n.formatting import day
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


class Refused(ValueError):
    """A value a field refuses, with the sentence that says why (an `i18n.Text`)."""

    def __init__(self, text: Text) -> None:
        super().__init__(str(text))
        self.text = text


def _member(what: Text, known: Mapping[str, Any] | frozenset[str]) -> Any:
    def check(value: str) -> str:
        if value not in known:
            raise Refused(Text("“%(value)s” is not %(what)s.", value=value, what=what))
        return value

    return AfterValidator(check)


def _email(value: str) -> str:
    if len(value) > 254 or not EMAIL_RE.fullmatch(value):
        raise Refused(Text("“%(value)s” is not a single valid e-mail address.", value=value))
    return value


def _in_range(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise Refused(
            Text(
                "%(value)s is not a date between %(first)s and %(last)s.",
                value=value.isoformat(),
                first=FIRST_DAY.isoformat(),
                last=LAST_DAY.isoformat(),
            )
        )
    return value


class _Shown:
    """A bound or a value in a message: a date said the reader's way, a number as written."""

    def __init__(self, value: int | date) -> None:
        self.value = value

    def get(self, language: str) -> str:
        if isinstance(self.value, date):
            return day(self.value, language)
        return str(self.value)


def _within(spec: FieldDef) -> Any:
    """The check of a field's `min` / `max` (integer and date fields); the message says the
    bound (the field's label is put before it by `field_message`)."""
    low, high = spec.minimum, spec.maximum
    dated = spec.type == "date"

    def check(value: Any) -> Any:
        if low is not None and value < low:
            raise Refused(
                Text(
                    "This must be on %(minimum)s or later; %(value)s is earlier.",
                    minimum=_Shown(low),
                    value=_Shown(value),
                )
                if dated
                else Text(
                    "This must be %(minimum)s or more; %(value)s is less.",
                    minimum=_Shown(low),
                    value=_Shown(value),
                )
            )
        if high is not None and value > high:
            raise Refused(
                Text(
                    "This must be on %(maximum)s or earlier; %(value)s is later.",
                    maximum=_Shown(high),
                    value=_Shown(value),
                )
                if dated
                else Text(
                    "This must be %(maximum)s or less; %(value)s is more.",
                    maximum=_Shown(high),
                    value=_Shown(value),
                )
            )
        return value

    return check


THEME = Text("a theme of the CICIE catalogue")
COUNTRY = Text("an ISO 3166-1 alpha-2 country code")
PARTNER = Text("a partner of the partner catalogue")
COST_CATEGORY = Text("a cost category")
PAYER = Text("a payer of the cost-sharing rules")

# what a pydantic error type means, said to a person (the rest: "This value is not valid.")
PROBLEMS: dict[str, Text] = {
    "missing": Text("This is required."),
    "extra_forbidden": Text("This is not one of the parts of this field."),
    "string_type": Text("Expected a text."),
    "string_too_short": Text("This must not be empty."),
    "string_pattern_mismatch": Text("This must be a single line."),
    "int_type": Text("Expected a whole number."),
    "int_parsing": Text("Expected a number."),
    "float_type": Text("Expected a number."),
    "float_parsing": Text("Expected a number."),
    "bool_type": Text("Expected yes or no (true or false)."),
    "date_type": Text("Expected a date (YYYY-MM-DD)."),
    "date_parsing": Text("Expected a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": Text("Expected a date (YYYY-MM-DD)."),
    "date_from_datetime_inexact": Text("Expected a date (YYYY-MM-DD)."),
    "literal_error": Text("This is not one of the allowed choices."),
    "list_type": Text("Expected a list."),
    "dict_type": Text("Expected a set of named values."),
    "model_type": Text("Expected a set of named values."),
    "model_attributes_type": Text("Expected a set of named values."),
}
INVALID = Text("This value is not valid.")


def problem_text(error: Mapping[str, Any]) -> Text:
    """A pydantic error as a sentence for a person."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    cause = ctx.get("error") if isinstance(ctx, Mapping) else None
    if isinstance(cause, Refused):
        return cause.text
    if kind == "too_short" and "min_length" in ctx:
        return Text("At least %(minimum)s entries are needed.", minimum=ctx["min_length"])
    if kind == "string_too_long" and "max_length" in ctx:
        return Text("At most %(maximum)s characters are allowed.", maximum=ctx["max_length"])
    if kind == "too_long" and "max_length" in ctx:
        return Text("At most %(maximum)s entries are allowed.", maximum=ctx["max_length"])
    return PROBLEMS.get(kind, INVALID)


class FieldPath:
    """Where in a field a problem is, as a person names it: labels and 1-based entry
    numbers ("Agenda sessions 2 › Speakers 1 › Name")."""

    def __init__(self, parts: list[Any]) -> None:
        self.parts = parts

    def get(self, language: str) -> str:
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, int) and out:
                out[-1] = f"{out[-1]} {part}"
            else:
                out.append(say(part, language))
        return " › ".join(out)


def located(spec: FieldDef | None, name: str, loc: tuple[Any, ...]) -> tuple[str, FieldPath]:
    """(the code path "agenda_sessions.0.title", the path a person reads) of a pydantic
    location inside the field `spec`; union branch names and the like are left out."""
    codes: list[str] = [name]
    parts: list[Any] = [_label(spec, name)]
    current = spec
    for part in loc:
        if isinstance(part, int):
            codes.append(str(part))
            parts.append(part + 1)
            continue
        inner = current.items if current is not None and current.items is not None else current
        sub = {f.name: f for f in inner.fields}.get(str(part)) if inner is not None else None
        if sub is None:
            if current is not None and current.type == "cost_matrix":
                codes.append(str(part))
            continue
        codes.append(sub.name)
        parts.append(_label(sub, sub.name))
        current = sub
    return ".".join(codes), FieldPath(parts)


def _label(spec: FieldDef | None, name: str) -> Any:
    if spec is not None and spec.label is not None:
        return spec.label
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def field_message(where: FieldPath, problem: Text) -> Text:
    return Text("“%(field)s”: %(problem)s", field=where, problem=problem)


def _python_type(spec: FieldDef, cat: Catalogues) -> Any:
    t = spec.type
    if t == "string":
        return Annotated[str, ONE_LINE]
    if t == "text":
        return Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    if t == "integer":
        if spec.minimum is None and spec.maximum is None:
            return StrictInt
        return Annotated[StrictInt, AfterValidator(_within(spec))]
    if t == "number":
        return StrictInt | StrictFloat
    if t == "boolean":
        return StrictBool
    if t == "date":
        if spec.minimum is None and spec.maximum is None:
            return Annotated[date, AfterValidator(_in_range)]
        return Annotated[date, AfterValidator(_in_range), AfterValidator(_within(spec))]
    if t == "email":
        # no stripping: an address with a space or line break around it is refused, not mended
        return Annotated[str, AfterValidator(_email)]
    if t == "enum":
        return Literal[spec.values]
    if t == "theme":
        return Annotated[str, _member(THEME, cat.themes)]
    if t == "country":
        return Annotated[str, _member(COUNTRY, cat.countries)]
    if t == "language":
        return Literal[LANGUAGES]
    if t == "partner":
        return Annotated[str, _member(PARTNER, cat.partners)]
    if t == "cost_matrix":
        return dict[
            Annotated[str, _member(COST_CATEGORY, cat.financing.categories)],
            Annotated[str, _member(PAYER, cat.financing.payers)],
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
        self._fields = dict(fields)
        self._adapters: dict[str, TypeAdapter[Any]] = {
            name: TypeAdapter(_python_type(spec, catalogues)) for name, spec in fields.items()
        }

    def validate(self, patch: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """(the normalised values, the problems: {"field": the code path, e.g.
        "agenda_sessions.0.title", "message": an `i18n.Text` naming the field by its label})."""
        clean: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for name, value in patch.items():
            adapter = self._adapters.get(name)
            if adapter is None:
                errors.append(
                    {"field": name, "message": Text("%(name)s is not a field.", name=repr(name))}
                )
                continue
            if value is None:  # null clears a field (JSON merge-patch)
                clean[name] = None
                continue
            try:
                parsed = adapter.validate_python(value)
            except ValidationError as exc:
                seen: set[str] = set()
                for err in exc.errors(include_url=False):
                    code, where = located(self._fields.get(name), name, tuple(err["loc"]))
                    if code in seen:  # a union's branches would say it once each
                        continue
                    seen.add(code)
                    errors.append(
                        {"field": code, "message": field_message(where, problem_text(err))}
                    )
                continue
            clean[name] = adapter.dump_python(parsed, mode="json", exclude_none=True)
        return clean, errors
