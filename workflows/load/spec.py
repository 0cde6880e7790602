"""The workflow format as data: the keys each mapping of a workflow file may hold, what their
values are, and which keys depend on another key's value.

The loader's stages take their allowed keys from these tables (`Record.allowed`), and
`workflows.schema` turns the very same tables into the JSON Schema editors validate against
(`cicie workflows schema`), so the two cannot drift apart. What needs more than a key and a
type — names that must resolve, a guard's parameters, templates and their languages, the
graph — stays in the stages; the schema gives guards their parameters from the guard registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel

from workflows.definition import (
    ATTACHMENTS,
    FIELD_TYPES,
    ORGANISATION_KINDS,
    RECIPIENT_ROLES,
    ROLES,
    TIMER_KINDS,
)
from workflows.load.context import LABEL_LANGS, MAX_NAME, NAME_RE
from workflows.load.extends import BASE_KEY

MAX_DAYS = 3650  # ten years: every offset in days, so no date computed from one can overflow
MAX_REPEATS = 100  # occurrences of a repeated reminder
MAX_WHOLE = 1_000_000_000  # the YAML reader refuses larger whole numbers
# a sub-field becomes an attribute of a pydantic model: these names are taken
RESERVED = frozenset(n for n in dir(BaseModel) if not n.startswith("_"))
RESERVED_PREFIX = "model_"
NAME_PATTERN = f"^{NAME_RE.pattern}$"


# ---------------------------------------------------------------- value kinds
@dataclass(frozen=True)
class Spec:
    """What a value may be; `doc` is what an editor shows for it."""

    doc: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class Words(Spec):
    """Non-blank text; `numbers`: a number is taken as its text too (labels)."""

    numbers: bool = False


@dataclass(frozen=True)
class Name(Spec):
    """A snake_case name (NAME_RE, at most MAX_NAME characters)."""

    max_length: int = MAX_NAME


@dataclass(frozen=True)
class OneOf(Spec):
    values: tuple[str, ...]


@dataclass(frozen=True)
class Whole(Spec):
    low: int
    high: int


@dataclass(frozen=True)
class Flag(Spec):
    """true or false (YAML 1.2: `yes` is a word)."""


@dataclass(frozen=True)
class NameOrList(Spec):
    """One item, or a list of them (`collects: intake` or `collects: [a, b]`)."""

    item: Spec


@dataclass(frozen=True)
class ListOf(Spec):
    item: Spec
    min_items: int = 0
    unique: bool = False


@dataclass(frozen=True)
class MapOf(Spec):
    """A mapping of names to values (fields, states, state renames)."""

    value: Spec
    min_items: int = 0
    reserved: frozenset[str] = frozenset()
    reserved_prefix: str = ""
    any_keys: bool = False  # keys are any text (an enum's values), not only names


@dataclass(frozen=True)
class Ref(Spec):
    """A mapping described by the record `record`; `require`: keys required here besides."""

    record: str
    require: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnyOf(Spec):
    options: tuple[Spec, ...]


@dataclass(frozen=True)
class LabelText(Spec):
    """What a person reads: its English text (a number is taken as its text too), or the
    mapping `label_map` with the file's own texts in other languages."""


@dataclass(frozen=True)
class Guards(Spec):
    """A list of guard names, or {name: parameters}: the guard registry says which."""


@dataclass(frozen=True)
class Needs:
    """When `key` has one of `values`, the keys `require` must be present."""

    key: str
    values: tuple[str, ...]
    require: tuple[str, ...]


@dataclass(frozen=True)
class Only:
    """The keys `keys` apply only when `key` has one of `values`."""

    keys: tuple[str, ...]
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Record:
    """A mapping with known keys; any other key is an error."""

    name: str
    keys: Mapping[str, Spec]
    required: tuple[str, ...] = ()
    needs: tuple[Needs, ...] = ()
    only: tuple[Only, ...] = ()
    doc: str = ""

    @property
    def allowed(self) -> set[str]:
        return set(self.keys)


# ---------------------------------------------------------------- the format
DAYS = Whole(-MAX_DAYS, MAX_DAYS, doc="Whole days; negative: before the date.")
NOTIFY_LIST = ListOf(Ref("notify"), doc="Messages to send: template, recipients, attachments.")
STATE_NAMES = NameOrList(Name(), doc="A state, or a list of states.")
FIELD_NAMES = NameOrList(Name(), doc="A field, or a list of fields.")
ROLE_NAMES = NameOrList(OneOf(ROLES), doc="A role, or a list of roles.")
DESCRIPTION = Words(doc="Free text for the people who read the file.")

LABEL = Record(
    "label_map",
    {lang: Words(numbers=True) for lang in LABEL_LANGS},
    required=("en",),
    doc="A label with texts of its own: `en` (required) is the English text, the catalogues' "
    "msgid; each other language given here is used instead of the catalogue's translation.",
)
LABEL_VALUE = LabelText()
LABEL_DOC = (
    "What a person reads, written in English: the catalogues (i18n/locale) translate it; "
    "or {en: …, es: …} with the file's own texts (docs/workflow-authoring.md § Labels)."
)
DUE = Record(
    "due",
    {"field": Name(doc="A date field."), "days": DAYS},
    required=("field",),
    doc="The date a message tells its reader something is due by.",
)
NOTIFY = Record(
    "notify",
    {
        "template": Name(doc="A folder of notifications/templates/."),
        "to": NameOrList(OneOf(RECIPIENT_ROLES), doc="Recipients."),
        "attach": NameOrList(
            OneOf(ATTACHMENTS),
            doc="ics: a calendar invitation; invitation_letter, agenda_pack: each delegate's "
            "invitation letter (visa) and agenda pack, PDF (a delegate receives their own).",
        ),
        "due": Ref("due"),
    },
    required=("template", "to"),
)
BOUNDED_TYPES = ("integer", "date")  # the field types `min` and `max` apply to
BOUND_DOC = "a whole number for an integer field, a date (YYYY-MM-DD) for a date field."
BOUND = (Whole(-MAX_WHOLE, MAX_WHOLE), Words())
FIELD = Record(
    "field",
    {
        "type": OneOf(FIELD_TYPES, doc="docs/workflow-authoring.md § Fields."),
        "label": LABEL_VALUE,
        "required": Flag(doc="Sub-fields of an object: false makes one optional."),
        "values": ListOf(
            AnyOf((Words(), Whole(-MAX_WHOLE, MAX_WHOLE))),
            min_items=1,
            unique=True,
            doc="The values of an enum field.",
        ),
        "labels": MapOf(
            LABEL_VALUE,
            min_items=1,
            any_keys=True,
            doc="What a person reads for each value of an enum field: value → label "
            "(English text, translated by the catalogues). A value without one is shown in "
            "words made from it; the shipped workflows give one for every value.",
        ),
        "items": Ref("field", doc="What each item of a list field is."),
        "fields": MapOf(
            Ref("field"),
            min_items=1,
            reserved=RESERVED,
            reserved_prefix=RESERVED_PREFIX,
            doc="The sub-fields of an object field.",
        ),
        "min_items": Whole(0, MAX_WHOLE),
        "max_items": Whole(0, MAX_WHOLE),
        "min": AnyOf(BOUND, doc="The smallest value allowed: " + BOUND_DOC),
        "max": AnyOf(BOUND, doc="The largest value allowed: " + BOUND_DOC),
        "description": DESCRIPTION,
    },
    required=("type",),
    needs=(
        Needs("type", ("enum",), ("values",)),
        Needs("type", ("list",), ("items",)),
        Needs("type", ("object",), ("fields",)),
    ),
    only=(
        Only(("values", "labels"), "type", ("enum",)),
        Only(("items", "min_items", "max_items"), "type", ("list",)),
        Only(("min", "max"), "type", BOUNDED_TYPES),
        Only(("fields",), "type", ("object",)),
    ),
)
STATE = Record(
    "state",
    {
        "label": LABEL_VALUE,
        "final": Flag(doc="A final state: the request is closed."),
        "hold": Flag(doc="The one suspension state (put_on_hold / resume)."),
        "actors": ROLE_NAMES,
        "collects": FIELD_NAMES,
        "description": DESCRIPTION,
        "notify": NOTIFY_LIST,
    },
    required=("label",),
)
TRANSITION = Record(
    "transition",
    {
        "trigger": Name(),
        "source": NameOrList(Name(), doc="A state, a list of states, or `active`."),
        "dest": Name(doc="A state, or `previous` (only from the hold state)."),
        "roles": ROLE_NAMES,
        "requires": FIELD_NAMES,
        "guards": Guards(doc="Brochure rules, by name; all must pass."),
        "collects": FIELD_NAMES,
        "label": LABEL_VALUE,
        "description": DESCRIPTION,
        "notify": NOTIFY_LIST,
    },
    required=("trigger", "source", "dest", "label"),
)
ON_CHANGE = Record(
    "on_change",
    {"fields": FIELD_NAMES, "states": STATE_NAMES, "notify": NOTIFY_LIST},
    required=("fields", "states"),
    doc="Messages to send when fields change without a transition.",
)
AT_ENTERED = Record(
    "at_entered",
    {"entered": Whole(0, MAX_DAYS, doc="Days after entering the timer's states.")},
    required=("entered",),
)
AT_FIELD = Record(
    "at_field",
    {"field": Name(doc="A date field."), "days": DAYS},
    required=("field",),
)
REPEAT = Record(
    "repeat",
    {"every": Whole(1, MAX_DAYS), "times": Whole(1, MAX_REPEATS)},
    required=("every", "times"),
)
TIMER = Record(
    "timer",
    {
        "id": Name(),
        "label": LABEL_VALUE,
        "kind": OneOf(TIMER_KINDS),
        "states": NameOrList(Name(), doc="Where the timer is live."),
        "at": AnyOf((Ref("at_entered"), Ref("at_field")), doc="When it falls due."),
        "working_days": Flag(doc="Count weekdays that are not Mexican public holidays."),
        "notify": NOTIFY_LIST,
        "fire": Name(doc="The trigger a transition timer fires as the role `system`."),
        "repeat": Ref("repeat"),
        "description": DESCRIPTION,
    },
    required=("id", "label", "kind", "states", "at"),
    needs=(
        Needs("kind", ("transition",), ("fire",)),
        Needs("kind", ("reminder", "escalation"), ("notify",)),
    ),
    only=(
        Only(("fire",), "kind", ("transition",)),
        Only(("notify",), "kind", ("reminder", "escalation")),
        Only(("repeat",), "kind", ("reminder",)),
    ),
)
VERSION = Whole(1, MAX_WHOLE)
MIGRATION = Record(
    "migration",
    {
        "from": AnyOf(
            (VERSION, ListOf(VERSION, min_items=1, unique=True)),
            doc="The version(s) this rule moves requests from (default: every earlier one).",
        ),
        "states": MapOf(
            Name(doc="A state of this version."),
            doc="Old state name → state of this version, for states renamed or merged.",
        ),
        "description": DESCRIPTION,
    },
    required=("states",),
    doc="How requests of an earlier version move to this one (`cicie workflows migrate`).",
)
DOCUMENT = Record(
    "document",
    {
        "workflow": Name(doc="The workflow's name: the file's name without .yaml."),
        BASE_KEY: Name(doc="A base in workflows/base/ this file adds to or changes."),
        "title": LABEL_VALUE,
        "description": DESCRIPTION,
        "initial": Name(doc="The state a new request starts in."),
        "fields": MapOf(Ref("field", require=("label",)), doc="Every field a request carries."),
        "states": MapOf(Ref("state"), min_items=1),
        "transitions": ListOf(Ref("transition"), min_items=1),
        "on_change": ListOf(Ref("on_change")),
        "timers": ListOf(Ref("timer")),
        "migrations": AnyOf((Ref("migration"), ListOf(Ref("migration"), min_items=1))),
        "requesters": ListOf(
            OneOf(ORGANISATION_KINDS),
            min_items=1,
            unique=True,
            doc="The kinds of organisation that may request this programme (default: every kind).",
        ),
    },
    required=("workflow", "title", "initial", "states", "transitions"),
    doc="A CICIE programme workflow (docs/workflow-authoring.md).",
)

RECORDS: dict[str, Record] = {
    r.name: r
    for r in (
        DOCUMENT,
        LABEL,
        FIELD,
        STATE,
        TRANSITION,
        NOTIFY,
        DUE,
        ON_CHANGE,
        TIMER,
        AT_ENTERED,
        AT_FIELD,
        REPEAT,
        MIGRATION,
    )
}
