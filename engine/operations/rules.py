"""The workflow's rules on a request's data: a transition's required fields and guards, and,
for an edit, the transitions by which the request left the states whose fields it changes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from i18n import Text, say
from storage.rows import HistoryRow
from workflows.definition import FieldDef, TransitionDef, WorkflowDefinition
from workflows.guard_api import GuardContext, RequestFacts, field_label

if TYPE_CHECKING:
    from engine.operations.core import EngineReader

REQUIRED_GUARD = "required_fields"

# A refusal, as data: {"code": the guard's name (or "required_fields"), "field": the field a
# required-field refusal names (absent otherwise), "message": an `i18n.Text` said in the
# reader's language}; "guard" (= code) and "reason" (the message in English) are kept for the
# callers that log or compare refusals in English.
Failure = dict[str, Any]


def failure(code: str, message: Text, field: str | None = None) -> Failure:
    found: Failure = {"code": code, "guard": code, "message": message, "reason": str(message)}
    if field is not None:
        found["field"] = field
    return found


def rule_failures(
    engine: EngineReader,
    transition: TransitionDef,
    data: Mapping[str, Any],
    facts: RequestFacts,
    fields: Mapping[str, FieldDef] | None = None,
) -> list[Failure]:
    """Reasons this transition may not fire (required fields and every guard), each said once
    (two guards that need the same thing say it in the same words). `fields` are the
    workflow's field definitions, whose labels name the fields in the reasons."""
    fields = fields or {}
    found = [
        failure(
            REQUIRED_GUARD,
            Text("Fill in “%(field)s” first.", field=field_label(fields, name)),
            name,
        )
        for name in transition.requires
        if data.get(name) in (None, "", [], {})
    ]
    for ref in transition.guards:
        spec = engine.registry.guards.get(ref.name)
        assert spec is not None  # checked at load time
        ctx = GuardContext(data, ref.params, engine.catalogues, facts, fields)
        add_failures(found, [failure(ref.name, _text(r)) for r in spec.fn(ctx)])
    return found


class _Verbatim(Text):
    """A reason given as a plain string (a guard written before reasons were `Text`): said as
    it is in every language."""

    __slots__ = ()

    def say(self, language: str) -> str:
        return str(self.params["reason"])


def _text(reason: Any) -> Text:
    return reason if isinstance(reason, Text) else _Verbatim("", reason=str(reason))


def add_failures(into: list[Failure], new: Iterable[Failure]) -> list[Failure]:
    """`into` extended with the failures of `new` whose message it does not hold yet."""
    seen = [f["message"] for f in into]
    for f in new:
        if f["message"] not in seen:
            into.append(f)
            seen.append(f["message"])
    return into


class Sentences:
    """Several sentences said one after the other in the reader's language."""

    def __init__(self, sentences: Sequence[Any]) -> None:
        self.sentences = list(sentences)

    def get(self, language: str) -> str:
        return " ".join(say(s, language) for s in self.sentences)


def guard_message(action: Any, failures: Sequence[Failure]) -> Text:
    """Why `action` (a transition's label, or a `Text`) was refused, in one sentence and its
    reasons."""
    if not failures:
        return Text("“%(action)s” cannot happen now.", action=action)
    return Text(
        "“%(action)s” was refused: %(reasons)s",
        action=action,
        reasons=Sentences([f["message"] for f in failures]),
    )


def update_message(failures: Sequence[Failure]) -> Text:
    """Why a change of a request's data was refused."""
    return Text(
        "The change was refused: %(reasons)s", reasons=Sentences([f["message"] for f in failures])
    )


def last_moves_out(
    history: Sequence[HistoryRow], current: str, definition: WorkflowDefinition
) -> dict[str, tuple[str, str]]:
    """State → (trigger, dest) of the last move out of it, for the states a request has left
    on its way to `current` (moves into and out of the hold state, and updates, do not count),
    named as in `definition` (a migrated request's older rows use its old names)."""
    hold = definition.hold_state()
    left: dict[str, tuple[str, str]] = {}
    for h in history:
        src, dst = definition.known_as(h.from_state or ""), definition.known_as(h.to_state)
        if src and dst and src != dst and hold not in (src, dst):
            left[src] = (h.trigger, dst)
    left.pop(current, None)
    return left
