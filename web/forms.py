"""Workflow fields as HTML form controls, and posted forms back into request data.

`build` turns a `FieldDef` and its current value into a tree of `Widget`s that
`templates/_fields.html` renders (one macro per kind); `parse` reads the posted form back into
the JSON the engine validates. Names follow the tree: `venue`, `themes` (checkboxes),
`cost_sharing-lodging_meals`, `agenda_sessions-0-title`, `agenda_sessions-0-speakers-1-name`.
Repeated rows (lists of objects or of free values) always get one extra blank row, and a row
left blank is dropped when parsing, so adding works without JavaScript (`static/app.js` only
adds "add another" buttons).

What cannot be converted (letters in a number) is kept as typed, so the engine's validation
names the field and the page shows the value again for correction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

from babel import Locale

from config.catalogues import LANGUAGES, Catalogues
from i18n import Text, say, vocabulary
from workflows.definition import FieldDef

MISSING: Any = object()
CHECKBOX_ITEMS = ("enum", "theme")  # lists of these are a set of checkboxes


class FormLike(Protocol):
    def getlist(self, key: str) -> list[Any]: ...

    def keys(self) -> Iterable[str]: ...


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class OptionGroup:
    label: str
    options: tuple[Option, ...]


@dataclass
class Widget:
    """One control (or group of controls) for one value of a field."""

    kind: (
        str  # input | textarea | select | checkboxes | boolean | objects | values | matrix | object
    )
    name: str
    label: str
    value: Any = None
    input_type: str = "text"  # for kind "input": text, email, date, number
    step: str | None = None
    required: bool = False
    groups: tuple[OptionGroup, ...] = ()  # select and checkboxes: options (maybe grouped)
    selected: frozenset[str] = frozenset()  # checkboxes
    children: list[Widget] = field(default_factory=list)  # object: its subfields
    rows: list[Widget] = field(default_factory=list)  # objects / values: one per item (+ blank)
    matrix: list[tuple[Option, Widget]] = field(default_factory=list)  # cost matrix rows
    errors: list[str] = field(default_factory=list)
    mailed_to: str | None = None  # "Sent word for word to … by e-mail" (web/mailed_fields.py)

    @property
    def id(self) -> str:
        return "f-" + self.name

    def has(self, value: str) -> bool:
        return value in self.selected


def humanise(value: str) -> str:
    """An enum value without a label of its own: `before_elections` → "Before elections"."""
    text = value.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@cache
def _countries(language: str) -> tuple[Option, ...]:
    names = Locale(language).territories
    known = [
        (code, str(names.get(code) or code))
        for code in names
        if isinstance(code, str) and len(code) == 2 and code.isalpha()
    ]
    return tuple(Option(code, name) for code, name in sorted(known, key=lambda c: c[1]))


@cache
def _language_names(language: str) -> tuple[Option, ...]:
    names = Locale(language).languages
    return tuple(Option(code, str(names.get(code) or code)) for code in LANGUAGES)


class Formatter:
    """Option lists and display labels for one interface language."""

    def __init__(self, catalogues: Catalogues, language: str) -> None:
        self.catalogues = catalogues
        self.language = language

    def theme_groups(self) -> tuple[OptionGroup, ...]:
        cat = self.catalogues
        groups = []
        for block in cat.blocks.values():
            options = tuple(
                Option(t.id, t.label.get(self.language))
                for t in cat.themes.values()
                if t.block == block.id
            )
            if options:
                groups.append(OptionGroup(f"{block.id}. {block.label.get(self.language)}", options))
        # themes outside the five blocks (the Strategic Planning workshop)
        others = tuple(
            Option(t.id, t.label.get(self.language)) for t in cat.themes.values() if t.block is None
        )
        if others:
            other = Text("Other themes of the catalogue")
            groups.append(OptionGroup(other.say(self.language), others))
        return tuple(groups)

    def options(self, fd: FieldDef) -> tuple[OptionGroup, ...]:
        if fd.type == "theme":
            return self.theme_groups()
        if fd.type == "enum":
            return (OptionGroup("", tuple(Option(v, self.enum(v, fd)) for v in fd.values)),)
        if fd.type == "country":
            return (OptionGroup("", _countries(self.language)),)
        if fd.type == "language":
            return (OptionGroup("", _language_names(self.language)),)
        if fd.type == "partner":
            partners = self.catalogues.partners.values()
            return (
                OptionGroup("", tuple(Option(p.code, f"{p.code} — {p.name}") for p in partners)),
            )
        return ()

    def enum(self, value: str, fd: FieldDef | None = None) -> str:
        """An enum value in words: the label the field gives it (`labels:` in the workflow,
        translated by the catalogues), else a region by its name in the reader's language
        (`i18n.vocabulary`), else the value without its underscores."""
        found = fd.value_label(value) if fd is not None else None
        if found is not None:
            return found.get(self.language)
        if value in vocabulary.REGIONS:
            return vocabulary.term("region", value, self.language)
        return humanise(value)

    def label(self, fd: FieldDef) -> str:
        return fd.label.get(self.language) if fd.label is not None else humanise(fd.name)

    def scalar(self, fd: FieldDef, value: Any) -> str:
        """A stored value as a person reads it (theme, country and payer names, yes/no)."""
        if value is None:
            return ""
        if fd.type == "theme":
            theme = self.catalogues.themes.get(str(value))
            return theme.label.get(self.language) if theme else str(value)
        if fd.type == "enum":
            return self.enum(str(value), fd)
        if fd.type in ("country", "language", "partner"):
            found = {o.value: o.label for g in self.options(fd) for o in g.options}
            return found.get(str(value), str(value))
        if fd.type == "boolean":
            return {True: "✓", False: "✗"}.get(value, str(value))
        return str(value)

    def payer(self, payer: str) -> str:
        label = self.catalogues.financing.payers.get(payer)
        return label.get(self.language) if label else payer

    def categories(self) -> list[Option]:
        return [
            Option(c.id, c.label.get(self.language))
            for c in self.catalogues.financing.categories.values()
        ]


# ---------------------------------------------------------------- building
def build(
    fd: FieldDef,
    value: Any,
    fmt: Formatter,
    *,
    name: str | None = None,
    label: str | None = None,
    errors: Mapping[str, list[str]] | None = None,
) -> Widget:
    name = name or fd.name
    errors = errors or {}
    w = Widget(
        kind="input",
        name=name,
        label=label or fmt.label(fd),
        value=value,
        required=fd.required,
        errors=list(errors.get(name, ())),
    )
    t = fd.type
    if t == "text":
        w.kind = "textarea"
    elif t in ("string", "email", "date", "integer", "number"):
        w.input_type = {
            "email": "email",
            "date": "date",
            "integer": "number",
            "number": "number",
        }.get(t, "text")
        w.step = {"integer": "1", "number": "any"}.get(t)
    elif t in ("enum", "theme", "country", "language", "partner"):
        w.kind = "select"
        w.groups = fmt.options(fd)
        w.groups = _with_current(w.groups, value)
    elif t == "boolean":
        w.kind = "boolean"
    elif t == "cost_matrix":
        w.kind = "matrix"
        current = value if isinstance(value, Mapping) else {}
        by_id = fmt.catalogues.financing.categories
        for cat in fmt.categories():
            allowed = by_id[cat.value].allowed_payers
            options = (OptionGroup("", tuple(Option(p, fmt.payer(p)) for p in allowed)),)
            cell = Widget(
                kind="select",
                name=f"{name}-{cat.value}",
                label=cat.label,
                value=current.get(cat.value),
                groups=_with_current(options, current.get(cat.value)),
                errors=list(errors.get(f"{name}-{cat.value}", ())),
            )
            w.matrix.append((cat, cell))
    elif t == "object":
        w.kind = "object"
        current = value if isinstance(value, Mapping) else {}
        w.children = [
            build(sub, current.get(sub.name), fmt, name=f"{name}-{sub.name}", errors=errors)
            for sub in fd.fields
        ]
    elif t == "list":
        assert fd.items is not None
        items = list(value) if isinstance(value, list | tuple) else []
        if fd.items.type in CHECKBOX_ITEMS:
            w.kind = "checkboxes"
            w.groups = _with_current(fmt.options(fd.items), *items)
            w.selected = frozenset(str(v) for v in items)
        else:
            w.kind = "objects" if fd.items.type == "object" else "values"
            for i, item in enumerate([*items, None]):
                row = build(
                    fd.items,
                    item,
                    fmt,
                    name=f"{name}-{i}",
                    label=f"{w.label} {i + 1}",
                    errors=errors,
                )
                w.rows.append(row)
    return w


def _with_current(groups: tuple[OptionGroup, ...], *values: Any) -> tuple[OptionGroup, ...]:
    """The options, plus any stored value they lack (so a save never drops it silently)."""
    known = {o.value for g in groups for o in g.options}
    extra = tuple(
        Option(str(v), str(v)) for v in values if v not in (None, "") and str(v) not in known
    )
    return (*groups, OptionGroup("", extra)) if extra else groups


def build_all(
    fields: Sequence[FieldDef],
    data: Mapping[str, Any],
    fmt: Formatter,
    errors: Mapping[str, list[str]] | None = None,
) -> list[Widget]:
    return [build(fd, data.get(fd.name), fmt, errors=errors) for fd in fields]


# ---------------------------------------------------------------- parsing
def _first(form: FormLike, key: str) -> str:
    values = form.getlist(key)
    return str(values[0]) if values else ""


def _scalar(fd: FieldDef, raw: str) -> Any:
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if fd.type != "text":
        raw = raw.strip()
    if not raw.strip():
        return MISSING
    if fd.type == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    if fd.type == "number":
        for convert in (int, float):
            try:
                return convert(raw)
            except ValueError:
                pass
        return raw
    if fd.type == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    return raw


def _indexes(keys: Iterable[str], prefix: str) -> list[int]:
    pattern = re.compile(re.escape(prefix) + r"-(\d{1,4})(?:-|\Z)")
    found = {int(m.group(1)) for k in keys if (m := pattern.match(k))}
    return sorted(found)


def parse_value(fd: FieldDef, form: FormLike, name: str, current: Any = None) -> Any:
    """The value the form holds for `fd` at `name`, or MISSING when it was left blank."""
    t = fd.type
    if t == "object":
        obj = {}
        lists = []
        for sub in fd.fields:
            value = parse_value(sub, form, f"{name}-{sub.name}")
            if value is not MISSING:
                obj[sub.name] = value
            elif (
                sub.type == "list"
                and sub.items is not None
                and sub.items.type not in CHECKBOX_ITEMS
                and _indexes(list(form.keys()), f"{name}-{sub.name}")
            ):
                lists.append(sub.name)  # its rows were in the form, all left blank
        if not obj:
            return MISSING  # a row left blank (its blank sub-rows too) is no row
        # a list inside a row whose rows were all left blank (a session's only speaker row)
        # is an empty list, not a missing value: the rules then say what is lacking ("add at
        # least one speaker") instead of "this is required"
        for sub_name in lists:
            obj[sub_name] = []
        return obj
    if t == "cost_matrix":
        keys = [k for k in list(form.keys()) if k.startswith(name + "-")]
        matrix = {k[len(name) + 1 :]: _first(form, k).strip() for k in keys}
        matrix = {k: v for k, v in matrix.items() if v}
        return matrix or MISSING
    if t == "list":
        assert fd.items is not None
        if fd.items.type in CHECKBOX_ITEMS:
            chosen = [str(v) for v in form.getlist(name) if str(v).strip()]
            chosen = list(dict.fromkeys(chosen))
            if not chosen:
                return MISSING
            if isinstance(current, list) and set(map(str, current)) == set(chosen):
                return list(current)  # same choice: keep the stored order
            return chosen
        keys = list(form.keys())
        items = []
        for i in _indexes(keys, name):
            value = parse_value(fd.items, form, f"{name}-{i}")
            if value is not MISSING:
                items.append(value)
        return items or MISSING
    return _scalar(fd, _first(form, name))


def parse(
    fields: Sequence[FieldDef], form: FormLike, current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The data patch a posted form asks for: each field's value; a field left blank that has a
    stored value becomes None (cleared); one blank and never set is left out."""
    current = current or {}
    patch: dict[str, Any] = {}
    for fd in fields:
        value = parse_value(fd, form, fd.name, current.get(fd.name))
        if value is MISSING:
            if current.get(fd.name) is not None:
                patch[fd.name] = None
        else:
            patch[fd.name] = value
    return patch


def apply(current: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """The data as the user sees it after `patch` (to show typed values again on a refusal)."""
    draft = dict(current)
    for key, value in patch.items():
        if value is None:
            draft.pop(key, None)
        else:
            draft[key] = value
    return draft


# ---------------------------------------------------------------- errors
def error_name(path: str) -> str:
    """The engine's field path (`agenda_sessions.0.speakers.1.name`) as a form name."""
    return "-".join(part for part in path.split(".") if part and not part.startswith("["))


def errors_by_name(details: Any, language: str) -> dict[str, list[str]]:
    """Field-level problems by form name, said in the page's language."""
    found: dict[str, list[str]] = {}
    for item in details if isinstance(details, list) else []:
        if isinstance(item, Mapping) and "field" in item:
            message = say(item["message"], language)
            found.setdefault(error_name(str(item["field"])), []).append(message)
    return found


def path_label(fields: Mapping[str, FieldDef], path: str, fmt: Formatter) -> str:
    """`agenda_sessions.0.title` → "Agenda sessions › 1 › Title" (labels where known)."""
    parts = [p for p in path.split(".") if p]
    out: list[str] = []
    fd: FieldDef | None = fields.get(parts[0]) if parts else None
    if fd is None:
        return path
    out.append(fmt.label(fd))
    for part in parts[1:]:
        if (
            part.isascii()
            and part.isdigit()
            and fd is not None
            and fd.type == "list"
            and fd.items is not None
        ):
            out.append(str(int(part) + 1))
            fd = fd.items
            continue
        sub = next((s for s in fd.fields if s.name == part), None) if fd is not None else None
        if sub is not None:
            out.append(fmt.label(sub))
            fd = sub
        else:
            out.append(part)
            fd = None
    return " › ".join(out)
