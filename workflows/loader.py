"""Workflow files → immutable definitions, in stages: parse → shape → names → graph.

Every problem is collected with its line and reported together (`InvalidDefinition`), so an
author fixes a file in one pass. Nothing here knows about the database or the state machine
library; `engine.compiler` turns a definition into a machine.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from config.catalogues import Catalogues, Label, load_catalogues
from engine.errors import DefinitionProblem, InvalidDefinition
from workflows import guards as _builtin_guards  # noqa: F401  (fills the default registry)
from workflows.definition import (
    ACTIVE,
    ATTACHMENTS,
    DEFAULT_ROLES,
    FIELD_TYPES,
    INTERNAL_RECIPIENTS,
    PREVIOUS,
    RECIPIENT_ROLES,
    REQUIRED_LANGUAGES,
    ROLES,
    TIMER_KINDS,
    ChangeRule,
    FieldDef,
    GuardRef,
    NotifyDef,
    StateDef,
    TimerDef,
    TransitionDef,
    WorkflowDefinition,
)
from workflows.guard_api import GUARDS, GuardRegistry
from workflows.template_index import scan as scan_templates
from workflows.yaml_source import LocatedDict, YamlProblem, line_of, parse

WORKFLOW_DIR = Path(__file__).parent
LABEL_LANGS = ("es", "en", "fr")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")

TOP_KEYS = {
    "workflow",
    "title",
    "initial",
    "fields",
    "states",
    "transitions",
    "description",
    "on_change",
    "timers",
}
TIMER_KEYS = {
    "id",
    "label",
    "kind",
    "states",
    "at",
    "working_days",
    "notify",
    "fire",
    "repeat",
    "description",
}
STATE_KEYS = {"label", "final", "hold", "actors", "collects", "description", "notify"}
TRANSITION_KEYS = {
    "trigger",
    "source",
    "dest",
    "roles",
    "requires",
    "guards",
    "collects",
    "label",
    "description",
    "notify",
}
NOTIFY_KEYS = {"template", "to", "attach", "due"}
FIELD_KEYS = {
    "type",
    "label",
    "required",
    "values",
    "items",
    "fields",
    "min_items",
    "max_items",
    "description",
}


class _Problems:
    """Collects problems located in one file."""

    def __init__(self, path: str, root: Any) -> None:
        self.path = path
        self.root = root
        self.items: list[DefinitionProblem] = []

    def at(self, where: tuple[Any, ...] | int, message: str) -> None:
        line = where if isinstance(where, int) else line_of(self.root, where)
        self.items.append(DefinitionProblem(self.path, line, message))


def workflow_files(directory: Path = WORKFLOW_DIR) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if p.is_file())


def load_file(
    path: Path | str,
    *,
    catalogues: Catalogues | None = None,
    guards: GuardRegistry = GUARDS,
    match_file_name: bool = True,
    templates: Mapping[str, frozenset[str]] | None = None,
) -> WorkflowDefinition:
    """One file. In the workflows folder a file must be named after its workflow;
    `match_file_name=False` checks a copy under any name (`cicie workflows check copy.yaml`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidDefinition(
            [DefinitionProblem(str(path), 1, f"cannot read file: {exc.strerror}")]
        ) from exc
    return load_text(
        text,
        str(path),
        expected_name=path.stem if match_file_name else None,
        catalogues=catalogues,
        guards=guards,
        templates=templates,
    )


def load_text(
    text: str,
    path: str,
    *,
    expected_name: str | None = None,
    catalogues: Catalogues | None = None,
    guards: GuardRegistry = GUARDS,
    templates: Mapping[str, frozenset[str]] | None = None,
) -> WorkflowDefinition:
    """Parse and check one definition; raises InvalidDefinition listing every problem."""
    try:
        doc, yaml_problems = parse(text)
    except YamlProblem as exc:
        raise InvalidDefinition([DefinitionProblem(path, exc.line, exc.message)]) from exc
    problems = _Problems(path, doc)
    for line, message in yaml_problems:
        problems.at(line, message)
    if not isinstance(doc, LocatedDict):
        problems.at(1, "a workflow file must be a mapping (workflow:, states:, transitions: …)")
        raise InvalidDefinition(problems.items)
    builder = _Builder(
        doc,
        problems,
        catalogues or load_catalogues(),
        guards,
        templates if templates is not None else scan_templates(),
    )
    definition = builder.build(text, path, expected_name)
    if problems.items or definition is None:
        raise InvalidDefinition(problems.items)
    return definition


def load_all(directory: Path = WORKFLOW_DIR) -> dict[str, WorkflowDefinition]:
    """Every workflow in a folder; problems of all files are reported together."""
    found: dict[str, WorkflowDefinition] = {}
    problems: list[DefinitionProblem] = []
    for path in workflow_files(directory):
        try:
            definition = load_file(path)
        except InvalidDefinition as exc:
            problems.extend(exc.problems)
            continue
        found[definition.name] = definition
    if problems:
        raise InvalidDefinition(problems)
    return found


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Builder:
    def __init__(
        self,
        doc: LocatedDict,
        problems: _Problems,
        catalogues: Catalogues,
        guards: GuardRegistry,
        templates: Mapping[str, frozenset[str]],
    ) -> None:
        self.doc = doc
        self.p = problems
        self.catalogues = catalogues
        self.guards = guards
        self.templates = templates

    # ---------------------------------------------------------------- helpers
    def _unknown_keys(self, node: Any, allowed: set[str], where: tuple[Any, ...]) -> None:
        if isinstance(node, LocatedDict):
            for key in node:
                if key not in allowed:
                    self.p.at(
                        (*where, key),
                        f"unknown key '{key}' (expected one of: {', '.join(sorted(allowed))})",
                    )

    def _label(self, node: Any, where: tuple[Any, ...], required: bool = True) -> Label | None:
        if node is None:
            if required:
                self.p.at(where, "missing label (give es, en and fr)")
            return None
        if not isinstance(node, dict):
            self.p.at(where, "a label is a mapping {es: …, en: …, fr: …}")
            return None
        missing = [lang for lang in LABEL_LANGS if not str(node.get(lang) or "").strip()]
        if missing:
            self.p.at(where, f"label missing language(s): {', '.join(missing)}")
            return None
        return Label(*(str(node[lang]) for lang in LABEL_LANGS))

    def _names(self, node: Any, where: tuple[Any, ...], what: str) -> tuple[str, ...]:
        """A name or a list of names."""
        if node is None:
            return ()
        if isinstance(node, str):
            return (node,)
        if isinstance(node, list) and all(isinstance(x, str) for x in node):
            return tuple(node)
        self.p.at(where, f"{what} must be a name or a list of names")
        return ()

    # ---------------------------------------------------------------- build
    def build(self, text: str, path: str, expected_name: str | None) -> WorkflowDefinition | None:
        doc = self.doc
        self._unknown_keys(doc, TOP_KEYS, ())
        name = doc.get("workflow")
        if not isinstance(name, str) or not NAME_RE.match(name):
            self.p.at(("workflow",), "'workflow' must be a snake_case name")
            name = expected_name or "unnamed"
        elif expected_name and name != expected_name:
            self.p.at(
                ("workflow",),
                f"workflow '{name}' must be in a file named {name}.yaml (found {expected_name})",
            )
        title = self._label(doc.get("title"), ("title",))
        fields = self._fields()
        states = self._states(fields)
        initial = doc.get("initial")
        if not isinstance(initial, str):
            self.p.at(("initial",) if "initial" in doc else (), "missing 'initial' state")
        elif initial not in states:
            self.p.at(("initial",), f"unknown state '{initial}' as initial state")
        transitions = self._transitions(states, fields)
        on_change = self._on_change(states, fields)
        timers = self._timers(states, fields, transitions)
        if not isinstance(initial, str) or initial not in states:
            return None
        definition = WorkflowDefinition(
            name=name,
            title=title or Label(name, name, name),
            initial=initial,
            fields=MappingProxyType(fields),
            states=MappingProxyType(states),
            transitions=tuple(transitions),
            on_change=on_change,
            timers=timers,
            source=text,
            checksum=checksum(text),
            path=path,
        )
        # the graph is checked even when other problems were found, so an author sees every
        # problem in one pass; transitions naming unknown states were left out above
        _GraphCheck(definition, self.p).run()
        return None if self.p.items else definition

    # ---------------------------------------------------------------- fields
    def _fields(self) -> dict[str, FieldDef]:
        raw = self.doc.get("fields")
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.p.at(("fields",), "'fields' must be a mapping of field name → declaration")
            return {}
        out = {}
        for name, spec in raw.items():
            where = ("fields", name)
            if not NAME_RE.match(name):
                self.p.at(where, f"field name '{name}' must be snake_case")
            parsed = self._field(name, spec, where, top=True)
            if parsed is not None:
                out[name] = parsed
        return out

    def _field(self, name: str, spec: Any, where: tuple[Any, ...], top: bool) -> FieldDef | None:
        if not isinstance(spec, dict):
            self.p.at(where, f"field '{name}' must be a mapping with a 'type'")
            return None
        self._unknown_keys(spec, FIELD_KEYS, where)
        ftype = spec.get("type")
        if ftype not in FIELD_TYPES:
            self.p.at(
                (*where, "type"),
                f"field '{name}' has unknown type {ftype!r} (known: {', '.join(FIELD_TYPES)})",
            )
            return None
        label = self._label(spec.get("label"), (*where, "label"), required=top)
        values: tuple[str, ...] = ()
        items = None
        subfields: tuple[FieldDef, ...] = ()
        if ftype == "enum":
            raw_values = spec.get("values")
            if not isinstance(raw_values, list) or not raw_values:
                self.p.at(where, f"enum field '{name}' needs a non-empty list of 'values'")
            else:
                values = tuple(str(v) for v in raw_values)
                if len(set(values)) != len(values):
                    self.p.at((*where, "values"), f"enum field '{name}' repeats a value")
        elif "values" in spec:
            self.p.at((*where, "values"), "'values' only applies to enum fields")
        if ftype == "list":
            if "items" not in spec:
                self.p.at(where, f"list field '{name}' needs 'items'")
            else:
                items = self._field(f"{name}[]", spec["items"], (*where, "items"), top=False)
        elif "items" in spec:
            self.p.at((*where, "items"), "'items' only applies to list fields")
        if ftype == "object":
            raw_sub = spec.get("fields")
            if not isinstance(raw_sub, dict) or not raw_sub:
                self.p.at(where, f"object field '{name}' needs 'fields'")
            else:
                parsed = [
                    self._field(sub, sub_spec, (*where, "fields", sub), top=False)
                    for sub, sub_spec in raw_sub.items()
                ]
                subfields = tuple(f for f in parsed if f is not None)
        elif "fields" in spec:
            self.p.at((*where, "fields"), "'fields' only applies to object fields")
        bounds = {}
        for key in ("min_items", "max_items"):
            value = spec.get(key)
            if value is None:
                continue
            if ftype != "list":
                self.p.at((*where, key), f"'{key}' only applies to list fields")
            elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
                self.p.at((*where, key), f"'{key}' must be a whole number ≥ 0")
            else:
                bounds[key] = value
        required = spec.get("required", True)
        if not isinstance(required, bool):
            self.p.at((*where, "required"), "'required' must be true or false")
            required = True
        return FieldDef(
            name=name,
            type=ftype,
            label=label,
            required=required,
            values=values,
            items=items,
            fields=subfields,
            min_items=bounds.get("min_items"),
            max_items=bounds.get("max_items"),
        )

    # ---------------------------------------------------------------- states
    def _states(self, fields: dict[str, FieldDef]) -> dict[str, StateDef]:
        raw = self.doc.get("states")
        if not isinstance(raw, dict) or not raw:
            self.p.at(("states",) if "states" in self.doc else (), "missing 'states' mapping")
            return {}
        out: dict[str, StateDef] = {}
        holds = []
        for name, spec in raw.items():
            where = ("states", name)
            if not NAME_RE.match(name) or name in (ACTIVE, PREVIOUS):
                self.p.at(where, f"state name '{name}' must be snake_case and not a keyword")
            if spec is None:
                spec = {}
            if not isinstance(spec, dict):
                self.p.at(where, f"state '{name}' must be a mapping")
                continue
            self._unknown_keys(spec, STATE_KEYS, where)
            label = self._label(spec.get("label"), (*where, "label"))
            final = spec.get("final", False) is True
            hold = spec.get("hold", False) is True
            if final and hold:
                self.p.at(where, f"state '{name}' cannot be both final and the hold state")
            if hold:
                holds.append(name)
            actors = self._names(spec.get("actors"), (*where, "actors"), "actors")
            for role in actors:
                if role not in ROLES:
                    self.p.at((*where, "actors"), f"unknown role '{role}' in state '{name}'")
            collects = self._names(spec.get("collects"), (*where, "collects"), "collects")
            for fname in collects:
                if fname not in fields:
                    self.p.at(
                        (*where, "collects"), f"unknown field '{fname}' collected in '{name}'"
                    )
            out[name] = StateDef(
                name=name,
                label=label or Label(name, name, name),
                final=final,
                hold=hold,
                actors=actors,
                collects=collects,
                notify=self._notify(spec.get("notify"), (*where, "notify"), fields),
            )
        if len(holds) > 1:
            self.p.at(("states", holds[1]), f"only one hold state is allowed (also: {holds[0]})")
        if not any(s.final for s in out.values()):
            self.p.at(("states",), "no final state (mark at least one with final: true)")
        return out

    # ---------------------------------------------------------------- transitions
    def _transitions(
        self, states: dict[str, StateDef], fields: dict[str, FieldDef]
    ) -> list[TransitionDef]:
        raw = self.doc.get("transitions")
        if not isinstance(raw, list) or not raw:
            self.p.at(
                ("transitions",) if "transitions" in self.doc else (),
                "missing 'transitions' list",
            )
            return []
        out = []
        active = [s.name for s in states.values() if s.active]
        for i, spec in enumerate(raw):
            where = ("transitions", i)
            if not isinstance(spec, dict):
                self.p.at(where, "a transition must be a mapping (trigger, source, dest, …)")
                continue
            self._unknown_keys(spec, TRANSITION_KEYS, where)
            trigger = spec.get("trigger")
            if not isinstance(trigger, str) or not NAME_RE.match(trigger):
                self.p.at((*where, "trigger"), "'trigger' must be a snake_case name")
                continue
            sources, generic = self._sources(spec.get("source"), (*where, "source"), states, active)
            dest = spec.get("dest")
            usable = True  # False: reported, checked further, but left out of the graph
            if dest == PREVIOUS:
                bad = [s for s in sources if not states[s].hold]
                if bad:
                    self.p.at(
                        (*where, "dest"),
                        f"'dest: previous' only works from the hold state, not from "
                        f"{', '.join(bad)}",
                    )
                    usable = False
            elif not isinstance(dest, str):
                self.p.at((*where, "dest") if "dest" in spec else where, "missing 'dest'")
                usable = False
            elif dest not in states:
                self.p.at((*where, "dest"), f"unknown state '{dest}' as dest of '{trigger}'")
                usable = False
            for s in sources:
                if states[s].final:
                    self.p.at((*where, "source"), f"final state '{s}' cannot have transitions out")
            roles = self._names(spec.get("roles"), (*where, "roles"), "roles") or DEFAULT_ROLES
            for role in roles:
                if role not in ROLES:
                    self.p.at((*where, "roles"), f"unknown role '{role}' in '{trigger}'")
            requires = self._names(spec.get("requires"), (*where, "requires"), "requires")
            collects = self._names(spec.get("collects"), (*where, "collects"), "collects")
            for key, names in (("requires", requires), ("collects", collects)):
                for fname in names:
                    if fname not in fields:
                        self.p.at((*where, key), f"unknown field '{fname}' in {key}")
            guards = self._guards(spec.get("guards"), (*where, "guards"))
            notify = self._notify(spec.get("notify"), (*where, "notify"), fields)
            label = self._label(spec.get("label"), (*where, "label"))
            if not usable or not isinstance(dest, str):
                continue
            out.append(
                TransitionDef(
                    trigger=trigger,
                    sources=sources,
                    dest=dest,
                    label=label or Label(trigger, trigger, trigger),
                    roles=roles,
                    requires=requires,
                    guards=guards,
                    collects=collects,
                    line=line_of(self.p.root, where),
                    generic_sources=generic,
                    notify=notify,
                )
            )
        return out

    def _sources(
        self,
        node: Any,
        where: tuple[Any, ...],
        states: dict[str, StateDef],
        active: list[str],
    ) -> tuple[tuple[str, ...], frozenset[str]]:
        """(every source, the ones that came only from the `active` keyword)."""
        names = self._names(node, where, "source")
        if not names:
            self.p.at(where, "missing 'source'")
            return (), frozenset()
        out: list[str] = []
        explicit: set[str] = set()
        for name in names:
            if name == ACTIVE:
                out.extend(a for a in active if a not in out)
            elif name not in states:
                self.p.at(where, f"unknown state '{name}' as source")
            else:
                explicit.add(name)
                if name not in out:
                    out.append(name)
        return tuple(out), frozenset(out) - explicit

    def _notify(
        self, node: Any, where: tuple[Any, ...], fields: dict[str, FieldDef]
    ) -> tuple[NotifyDef, ...]:
        """Messages to send: each names a template, its recipients and its attachments."""
        if node is None:
            return ()
        if not isinstance(node, list):
            self.p.at(where, "'notify' must be a list of {template, to, attach}")
            return ()
        out = []
        for i, item in enumerate(node):
            at = (*where, i)
            if not isinstance(item, dict):
                self.p.at(at, "a notification is a mapping {template, to, attach}")
                continue
            self._unknown_keys(item, NOTIFY_KEYS, at)
            template = item.get("template")
            recipients = self._names(item.get("to"), (*at, "to"), "to")
            attach = self._names(item.get("attach"), (*at, "attach"), "attach")
            if not isinstance(template, str):
                self.p.at(at, "a notification needs a 'template'")
                continue
            if not recipients:
                self.p.at(at, f"notification '{template}' needs recipients in 'to'")
            for role in recipients:
                if role not in RECIPIENT_ROLES:
                    self.p.at(
                        (*at, "to"),
                        f"unknown recipient '{role}' (known: {', '.join(RECIPIENT_ROLES)})",
                    )
            for kind in attach:
                if kind not in ATTACHMENTS:
                    self.p.at((*at, "attach"), f"unknown attachment '{kind}' (known: ics)")
                elif kind == "ics" and not {"event_start", "event_end"} <= fields.keys():
                    self.p.at(
                        (*at, "attach"),
                        "an 'ics' invitation needs the fields event_start and event_end",
                    )
            languages = self.templates.get(template)
            if languages is None:
                self.p.at((*at, "template"), f"unknown template '{template}'")
            else:
                needed = {"es"}
                if any(r not in INTERNAL_RECIPIENTS for r in recipients):
                    needed |= set(REQUIRED_LANGUAGES)
                missing = sorted(needed - languages)
                if missing:
                    self.p.at(
                        (*at, "template"),
                        f"template '{template}' lacks language(s) its recipients need: "
                        f"{', '.join(missing)}",
                    )
            due_field, due_days = self._due(item.get("due"), (*at, "due"), fields)
            out.append(
                NotifyDef(
                    template, recipients, attach, due_field, due_days, line_of(self.p.root, at)
                )
            )
        return tuple(out)

    def _on_change(
        self, states: dict[str, StateDef], fields: dict[str, FieldDef]
    ) -> tuple[ChangeRule, ...]:
        """`on_change: [{fields: [...], states: [...], notify: [...]}]`."""
        raw = self.doc.get("on_change")
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.p.at(("on_change",), "'on_change' must be a list of {fields, states, notify}")
            return ()
        rules = []
        for i, item in enumerate(raw):
            at = ("on_change", i)
            if not isinstance(item, dict):
                self.p.at(at, "an on_change rule is a mapping {fields, states, notify}")
                continue
            self._unknown_keys(item, {"fields", "states", "notify"}, at)
            names = self._names(item.get("fields"), (*at, "fields"), "fields")
            in_states = self._names(item.get("states"), (*at, "states"), "states")
            if not names:
                self.p.at(at, "an on_change rule needs 'fields'")
            for name in names:
                if name not in fields:
                    self.p.at((*at, "fields"), f"unknown field '{name}' in on_change")
            if not in_states:
                self.p.at(at, "an on_change rule needs 'states' (where it applies)")
            for name in in_states:
                if name not in states:
                    self.p.at((*at, "states"), f"unknown state '{name}' in on_change")
            notify = self._notify(item.get("notify"), (*at, "notify"), fields)
            rules.append(ChangeRule(names, in_states, notify, line_of(self.p.root, at)))
        return tuple(rules)

    def _timers(
        self,
        states: dict[str, StateDef],
        fields: dict[str, FieldDef],
        transitions: list[TransitionDef],
    ) -> tuple[TimerDef, ...]:
        raw = self.doc.get("timers")
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.p.at(("timers",), "'timers' must be a list")
            return ()
        out: list[TimerDef] = []
        seen: set[str] = set()
        for i, item in enumerate(raw):
            at = ("timers", i)
            if not isinstance(item, dict):
                self.p.at(at, "a timer is a mapping {id, states, at, kind, …}")
                continue
            self._unknown_keys(item, TIMER_KEYS, at)
            timer_id = item.get("id")
            if not isinstance(timer_id, str) or not NAME_RE.match(timer_id):
                self.p.at((*at, "id"), "a timer needs a snake_case 'id'")
                continue
            if timer_id in seen:
                self.p.at((*at, "id"), f"timer id '{timer_id}' is used twice")
            seen.add(timer_id)
            label = self._label(item.get("label"), (*at, "label"))
            kind = item.get("kind")
            if kind not in TIMER_KINDS:
                self.p.at((*at, "kind"), f"timer kind must be one of {', '.join(TIMER_KINDS)}")
                continue
            in_states = self._names(item.get("states"), (*at, "states"), "states")
            if not in_states:
                self.p.at(at, f"timer '{timer_id}' needs 'states' (where it is live)")
            for name in in_states:
                if name not in states:
                    self.p.at((*at, "states"), f"unknown state '{name}' in timer '{timer_id}'")
                elif states[name].final:
                    self.p.at((*at, "states"), f"timer '{timer_id}' cannot live in final '{name}'")
            anchor, days = self._timer_at(item.get("at"), (*at, "at"), fields)
            working = item.get("working_days", False)
            if not isinstance(working, bool):
                self.p.at((*at, "working_days"), "'working_days' is true or false")
                working = False
            notify = self._notify(item.get("notify"), (*at, "notify"), fields)
            fire = item.get("fire")
            if kind == "transition":
                if not isinstance(fire, str):
                    self.p.at(at, f"transition timer '{timer_id}' needs 'fire: <trigger>'")
                else:
                    for name in in_states:
                        if not any(
                            t.trigger == fire and name in t.sources and "system" in t.roles
                            for t in transitions
                        ):
                            self.p.at(
                                (*at, "fire"),
                                f"timer '{timer_id}' fires '{fire}', which has no transition "
                                f"from '{name}' open to the role 'system'",
                            )
                if notify:
                    self.p.at((*at, "notify"), "a transition timer notifies through its trigger")
            else:
                if fire is not None:
                    self.p.at((*at, "fire"), f"only a transition timer fires ('{kind}' notifies)")
                if not notify:
                    self.p.at(at, f"{kind} timer '{timer_id}' needs 'notify'")
            every, times = self._repeat(item.get("repeat"), (*at, "repeat"), kind)
            out.append(
                TimerDef(
                    id=timer_id,
                    label=label or Label(timer_id, timer_id, timer_id),
                    kind=kind,
                    states=in_states,
                    days=days,
                    anchor_field=anchor,
                    working_days=working,
                    notify=notify,
                    fire=fire if isinstance(fire, str) else None,
                    repeat_every=every,
                    repeat_times=times,
                    line=line_of(self.p.root, at),
                )
            )
        return tuple(out)

    def _timer_at(
        self, node: Any, where: tuple[Any, ...], fields: dict[str, FieldDef]
    ) -> tuple[str | None, int]:
        """`at: {entered: 14}` (days after entering its states) or `at: {field: F, days: -30}`."""
        if isinstance(node, dict) and set(node) == {"entered"}:
            days = node["entered"]
            if isinstance(days, int) and not isinstance(days, bool) and days >= 0:
                return None, days
            self.p.at(where, "'entered' is a whole number of days ≥ 0")
            return None, 0
        if isinstance(node, dict) and "field" in node and set(node) <= {"field", "days"}:
            name, days = node["field"], node.get("days", 0)
            spec = fields.get(name) if isinstance(name, str) else None
            if spec is None or spec.type != "date":
                self.p.at(where, f"a timer can only hang on a date field, not '{name}'")
            elif not isinstance(days, int) or isinstance(days, bool):
                self.p.at(where, "'days' is a whole number (negative: before the date)")
            else:
                return name, days
            return None, 0
        self.p.at(where, "'at' is {entered: DAYS} or {field: DATE_FIELD, days: ±DAYS}")
        return None, 0

    def _repeat(self, node: Any, where: tuple[Any, ...], kind: str) -> tuple[int, int]:
        """`repeat: {every: 7, times: 3}` — reminders only."""
        if node is None:
            return 0, 1
        if kind != "reminder":
            self.p.at(where, "only reminders repeat")
            return 0, 1
        if (
            isinstance(node, dict)
            and set(node) == {"every", "times"}
            and all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in node.values()
            )
        ):
            return int(node["every"]), int(node["times"])
        self.p.at(where, "'repeat' is {every: DAYS ≥ 1, times: N ≥ 1}")
        return 0, 1

    def _due(
        self, node: Any, where: tuple[Any, ...], fields: dict[str, FieldDef]
    ) -> tuple[str | None, int]:
        """`due: {field: event_start, days: -30}` — the date a message tells its reader."""
        if node is None:
            return None, 0
        if not isinstance(node, dict) or set(node) - {"field", "days"} or "field" not in node:
            self.p.at(where, "'due' is {field: <date field>, days: <whole number>}")
            return None, 0
        name, days = node["field"], node.get("days", 0)
        spec = fields.get(name) if isinstance(name, str) else None
        if spec is None or spec.type != "date":
            self.p.at(where, f"'due' needs a date field, not '{name}'")
            return None, 0
        if not isinstance(days, int) or isinstance(days, bool):
            self.p.at(where, "'due: days' must be a whole number of days")
            return None, 0
        return name, days

    def _guards(self, node: Any, where: tuple[Any, ...]) -> tuple[GuardRef, ...]:
        if node is None:
            return ()
        if not isinstance(node, list):
            self.p.at(where, "'guards' must be a list of guard names")
            return ()
        refs = []
        for i, item in enumerate(node):
            if isinstance(item, str):
                name, raw_params = item, None
            elif isinstance(item, dict) and len(item) == 1:
                name, raw_params = next(iter(item.items()))
            else:
                self.p.at((*where, i), "a guard is a name, or {name: {parameters}}")
                continue
            spec = self.guards.get(name)
            if spec is None:
                self.p.at(
                    (*where, i), f"unknown guard '{name}' (known: {', '.join(self.guards.names())})"
                )
                continue
            params, problems = spec.parse_params(raw_params)
            for message in problems:
                self.p.at((*where, i), message)
            refs.append(GuardRef(name=name, params=params))
        return tuple(refs)


class _GraphCheck:
    """Reachability, dead ends, traps and ambiguity, on a shape-valid definition."""

    def __init__(self, definition: WorkflowDefinition, problems: _Problems) -> None:
        self.d = definition
        self.p = problems

    def _edges(self, forward_only: bool) -> dict[str, set[str]]:
        """State → next states.

        Reachability (`forward_only=False`) follows every declared transition except
        `dest: previous`: a resume returns a request to a state it was already in.
        Ways forward (`forward_only=True`) also leave out the generic exits a state got from
        `source: active` and every move into the hold state: put on hold, then resumed, a
        request is back where it was, so hold-and-resume never brings it closer to the end.
        """
        edges: dict[str, set[str]] = {s: set() for s in self.d.states}
        for t in self.d.transitions:
            if t.dest == PREVIOUS:
                continue
            for src in t.sources:
                if forward_only and (src in t.generic_sources or self.d.states[t.dest].hold):
                    continue
                edges[src].add(t.dest)
        return edges

    def run(self) -> None:
        reachable = _closure([self.d.initial], self._edges(forward_only=False))
        for name in self.d.states:
            if name not in reachable:
                self.p.at(
                    ("states", name), f"state '{name}' is unreachable from '{self.d.initial}'"
                )
        finals = set(self.d.final_states())
        if not finals & reachable:
            self.p.at(("initial",), "no final state can be reached from the initial state")
        forward = self._edges(forward_only=True)
        reverse: dict[str, set[str]] = {s: set() for s in self.d.states}
        for src, dests in forward.items():
            for dst in dests:
                reverse[dst].add(src)
        can_finish = _closure(list(finals), reverse)
        resumes = {src for t in self.d.transitions if t.dest == PREVIOUS for src in t.sources}
        for name, state in self.d.states.items():
            if state.final:
                continue
            if state.hold:
                if name not in resumes and not forward[name]:
                    self.p.at(
                        ("states", name),
                        f"hold state '{name}' is a dead end: add a transition with "
                        "'dest: previous' (resume) out of it",
                    )
                continue
            if not forward[name]:
                self.p.at(
                    ("states", name),
                    f"non-final state '{name}' is a dead end: no transition leads out of it "
                    "(the generic exits from every active state, such as withdraw, and "
                    "putting it on hold do not count)",
                )
            elif name not in can_finish:
                self.p.at(
                    ("states", name),
                    f"state '{name}' is a trap: no final state can be reached from it "
                    "except through the generic exits",
                )
        self._ambiguity()

    def _ambiguity(self) -> None:
        seen: dict[tuple[str, str], list[TransitionDef]] = {}
        for t in self.d.transitions:
            for src in t.sources:
                earlier = seen.setdefault((src, t.trigger), [])
                for other in earlier:
                    if _guard_key(other) == _guard_key(t):
                        self.p.at(
                            t.line,
                            f"ambiguous: '{t.trigger}' from '{src}' is declared twice with the "
                            f"same guards (line {other.line}); add a distinguishing guard",
                        )
                    elif not _guard_key(other):
                        self.p.at(
                            t.line,
                            f"'{t.trigger}' from '{src}' can never fire: the declaration at line "
                            f"{other.line} has no guards and always wins",
                        )
                earlier.append(t)


def _guard_key(t: TransitionDef) -> frozenset[tuple[str, str]]:
    return frozenset((g.name, repr(g.params)) for g in t.guards) | frozenset(
        ("required", f) for f in t.requires
    )


def _closure(start: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    seen = set(start)
    stack = list(seen)
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen
