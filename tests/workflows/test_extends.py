"""Shared parts: programme files extend the bases in workflows/base/.

The rewrite onto the bases changed nothing: each programme compiles to the definition its
pre-rewrite file (frozen in tests/workflows/frozen/, as committed before the rewrite) compiled
to, except for the changes made on purpose since, which are listed here one by one (issue 14:
each programme's own closing, the past-event flag and the attendance bound); requests pinned to
a version stored from those files still load and advance on it. The merge rules, the problems
a base can cause, and what a version stores are checked on small files."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.catalogues import Label, load_catalogues
from config.settings import Settings
from engine.actor import Actor
from engine.clock import ManualClock
from engine.compiler import CompiledWorkflow
from engine.registry import WorkflowRegistry
from engine.service import Engine
from storage import workflow_versions
from storage.db import Database
from tests.conftest import example_steps
from workflows.definition import ORGANISATION_KINDS, FieldDef, WorkflowDefinition
from workflows.errors import InvalidDefinition
from workflows.load.extends import BASE_DIR
from workflows.loader import WORKFLOW_DIR, load_all, load_file, load_text, workflow_files

FROZEN = Path(__file__).parent / "frozen"
PROGRAMMES = [
    "international_workshop",
    "internship",
    "seminar",
    "specialization_course",
    "technical_assistance",
]
# where a definition came from, not what it says: a line moves when a file is rewritten
WHERE = {"line", "source", "checksum", "path"}
COORDINATOR = Actor("coordinator", "ana")


def frozen_example_steps(programme: str) -> list[dict[str, Any]]:
    """The example path the frozen file of `programme` accepts (its pre-issue-14 closing)."""
    with open(FROZEN / "examples" / f"{programme}.yaml", encoding="utf-8") as fh:
        return list(yaml.safe_load(fh)["steps"])


def plain(value: Any) -> Any:
    """A definition as comparable data, every part in its order, without where it came from.
    A label is what it says in es, en and fr: the frozen files give the three texts inline,
    the live ones their English text, which the catalogues translate."""
    if isinstance(value, Label):
        return {lang: value.get(lang) for lang in ("es", "en", "fr")}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value) if f.name not in WHERE}
    if isinstance(value, Mapping):
        return [(key, plain(item)) for key, item in value.items()]
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, frozenset):
        return sorted(value)
    return value


def machine(definition: WorkflowDefinition) -> dict[str, Any]:
    compiled = CompiledWorkflow(definition, 1, load_catalogues())
    moves = sorted(
        (trigger, source, t.dest)
        for trigger, event in compiled.machine.events.items()
        for source, declared in event.transitions.items()
        for t in declared
    )
    return {
        "triggers": set(compiled.machine.events),
        "by_state": dict(compiled.triggers_by_state),
        "moves": moves,
    }


# ---------------------------------------------------------------- the rewrite changed nothing
# What changed on purpose since the files were frozen (issue 14), and nothing else:
# - the closing: the brochure asks for the three-part final report only for internships
#   (§ 2.2, "the requesting OAE will generate a final report about the internship"); the
#   internship keeps it (base/final_report.yaml), the others close at `evaluation`;
CLOSING_STATES = {"final_report", "report_overdue", "report_received", "evaluation"}
CLOSING_TRIGGERS = {"finish", "submit_report", "mark_overdue", "close"}
REPORT_TIMERS = {
    "final_report_due_soon",
    "final_report_overdue",
    "overdue_to_coordinator",
    "overdue_to_programme_lead",
}
REPORT_FIELDS = {
    "final_report_experience",
    "final_report_adaptations",
    "final_report_recommendations",
}
CLOSING_FIELDS = {
    *REPORT_FIELDS,
    "evaluation_summary",
    "outcome_notes",
    "conclusions",
    "mission_outcomes",
}
# - sane dates: the past-event flag collected with the logistics, the rule refusing event
#   dates before today at `confirm_logistics`, and attendance bounded below by 0.
PAST_EVENT, NOT_PAST, BOUNDED = "past_event", "event_dates_not_past", "attendance"
# - the other items of issue 14, by name: fields added (or replaced) and collected, rules
#   added, and fields whose declaration changed (co-organisers and invited organisations,
#   national stakeholders, the next election, several timing scenarios, the course
#   participant's involvement with the topic).
ISSUE14_FIELDS = {
    PAST_EVENT,
    "co_organisers",
    "partner_institution",
    "invited_organisations",
    "national_stakeholders",
    "next_election",
}
ISSUE14_GUARDS = {NOT_PAST, "co_organisers_valid", "participants_involved_with_topic"}
ISSUE14_CHANGED_FIELDS = {BOUNDED, "timing_scenario", "participants"}
# - the values of enum fields now carry their own labels (`labels:`), said in the reader's
#   language where a request shows them (a region, a topic criterion, a methodology stage):
#   what the field accepts is unchanged, only how its values read.
VALUE_LABELS = "value_labels"
# - issue 15: the sessions of an agenda have one name in every programme ("Agenda sessions",
#   the words the rules use), where the frozen files said "Work programme", "Mission
#   activities" or "Course sessions": only the label changed.
SESSIONS = "agenda_sessions"
# - issue 15 item 8, the delegates' documents: a delegation's items may give a nationality, a
#   passport number and the language of the documents (all optional), and the EMB's contacts
#   get each delegate's invitation letter and agenda pack with `logistics_confirmed` — their
#   message declared beside the founders' one: who is written to, and what else they get, is
#   unchanged.
DELEGATE_EXTRAS = {"nationality", "passport_number", "language"}
DOCUMENTS = {"invitation_letter", "agenda_pack"}


def _per_recipient(notify: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Messages as (template, recipient, attachments, due) one per recipient, without the
    delegates' documents: how issue 15 split a message into two is no change."""
    return sorted(
        (
            n["template"],
            role,
            tuple(a for a in n["attach"] if a not in DOCUMENTS),
            n["due_field"],
            n["due_days"],
        )
        for n in notify
        for role in n["to"]
    )


def _without_delegate_extras(field: dict[str, Any]) -> dict[str, Any]:
    items = field.get("items")
    if not isinstance(items, dict):
        return field
    kept = [f for f in items["fields"] if f["name"] not in DELEGATE_EXTRAS]
    return {**field, "items": {**items, "fields": kept}}


def _without_value_labels(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_value_labels(v) for k, v in value.items() if k != VALUE_LABELS}
    if isinstance(value, list):
        return [_without_value_labels(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_without_value_labels(item) for item in value)
    return value


def _value_labels(definition: WorkflowDefinition) -> Iterator[tuple[FieldDef, Label]]:
    """Each enum field (at any depth) with a labelled value, and that value's label."""
    pending = list(definition.fields.values())
    while pending:
        spec = pending.pop()
        pending.extend(spec.fields)
        if spec.items is not None:
            pending.append(spec.items)
        for value, label in spec.value_labels.items():
            assert value in spec.values, (spec.name, value)
            yield spec, label


def _without(items: Any, drop: set[str]) -> list[Any]:
    return [(key, value) for key, value in items if key not in drop]


def _names(names: list[str], drop: set[str]) -> list[str]:
    return [n for n in names if n not in drop]


def _outside_the_changes(definition: WorkflowDefinition) -> dict[str, Any]:
    """The definition as comparable data, less what issue 14 changed on purpose."""
    d = _without_value_labels(plain(definition))
    states = [
        (name, {**state, "collects": _names(state["collects"], ISSUE14_FIELDS)})
        for name, state in _without(d["states"], CLOSING_STATES)
    ]
    transitions = [
        {
            **t,
            "sources": _names(t["sources"], CLOSING_STATES),  # `active`: the closing states too
            "generic_sources": _names(t["generic_sources"], CLOSING_STATES),
            "collects": _names(t["collects"], ISSUE14_FIELDS),
            "guards": [g for g in t["guards"] if g["name"] not in ISSUE14_GUARDS],
            "notify": _per_recipient(t["notify"]),
        }
        for t in d["transitions"]
        if t["trigger"] not in CLOSING_TRIGGERS
    ]
    fields = dict(_without(d["fields"], CLOSING_FIELDS | ISSUE14_FIELDS | ISSUE14_CHANGED_FIELDS))
    if SESSIONS in fields:
        fields[SESSIONS] = {**fields[SESSIONS], "label": None}
    if "delegates" in fields:
        fields["delegates"] = _without_delegate_extras(fields["delegates"])
    return {
        # `requesters`: issue 14 item 3 (who may request: internships and courses EMBs only)
        **{k: v for k, v in d.items() if k not in ("fields", "migrations", "requesters")},
        "states": states,
        "transitions": transitions,
        "timers": [t for t in d["timers"] if t["id"] not in REPORT_TIMERS],
        "fields": fields,  # order: the bases' first, then the programme's own (nothing reads it)
    }


def _closing(definition: WorkflowDefinition) -> dict[str, Any]:
    d = plain(definition)
    return {
        "states": dict((k, v) for k, v in d["states"] if k in CLOSING_STATES),
        "transitions": sorted(
            (t for t in d["transitions"] if t["trigger"] in CLOSING_TRIGGERS),
            key=lambda t: t["trigger"],
        ),
        "timers": [t for t in d["timers"] if t["id"] in REPORT_TIMERS],
        "fields": dict((k, v) for k, v in d["fields"] if k in CLOSING_FIELDS),
    }


def _moves(definition: WorkflowDefinition) -> list[tuple[str, str, str]]:
    return [
        m
        for m in machine(definition)["moves"]
        if m[0] not in CLOSING_TRIGGERS and not {m[1], m[2]} & CLOSING_STATES
    ]


@pytest.mark.parametrize("name", PROGRAMMES)
def test_each_programme_compiles_to_its_pre_rewrite_file_but_for_the_intended_changes(
    name: str,
) -> None:
    before = load_file(FROZEN / f"{name}.yaml")
    after = load_file(WORKFLOW_DIR / f"{name}.yaml")
    old, new = _outside_the_changes(before), _outside_the_changes(after)
    for part in ("name", "title", "initial", "states", "transitions", "on_change", "timers"):
        assert new[part] == old[part], part
    assert new["fields"] == old["fields"]
    assert new == old
    assert _moves(after) == _moves(before)
    # the intended changes, exactly
    assert after.fields[PAST_EVENT].type == "boolean"
    assert PAST_EVENT not in before.fields
    assert (after.fields[BOUNDED].minimum, before.fields[BOUNDED].minimum) == (0, None)
    assert PAST_EVENT in after.states["logistics"].collects
    confirm = next(t for t in after.transitions if t.trigger == "confirm_logistics")
    assert NOT_PAST in [g.name for g in confirm.guards]
    # enum values read in the reader's language, where the frozen file had only codes
    assert not list(_value_labels(before))
    # who may request (brochure, "To whom are the Center's programs addressed to?"): every
    # kind of organisation, but internships and courses stay with EMBs, as the frozen files
    # (which had no such key) implied
    emb_only = name in ("internship", "specialization_course")
    assert before.requesters == ORGANISATION_KINDS
    assert after.requesters == (("emb",) if emb_only else ORGANISATION_KINDS)
    for _spec, label in _value_labels(after):
        assert all(label.get(lang) for lang in ("es", "en", "fr"))


def test_the_internship_keeps_its_final_report_closing_as_it_was() -> None:
    """Brochure § 2.2: "the requesting OAE will generate a final report about the internship"
    — its stages, moves, deadline and escalations are those of the frozen file."""
    before = load_file(FROZEN / "internship.yaml")
    after = load_file(WORKFLOW_DIR / "internship.yaml")
    assert _closing(after) == _closing(before)
    old, new = machine(before), machine(after)
    assert (new["triggers"], new["moves"]) == (old["triggers"], old["moves"])
    # the same triggers from each state, in the same order: the stage's own action first, the
    # shared exits (`source: active`, declared in the base listed first) after it
    assert new["by_state"] == old["by_state"]
    assert after.migrations == ()


@pytest.mark.parametrize("name", [p for p in PROGRAMMES if p != "internship"])
def test_the_other_programmes_close_with_their_own_record_and_no_report_deadline(
    name: str,
) -> None:
    before = load_file(FROZEN / f"{name}.yaml")
    after = load_file(WORKFLOW_DIR / f"{name}.yaml")
    assert _closing(before)["timers"]
    assert not _closing(after)["timers"]
    assert set(before.fields) >= REPORT_FIELDS
    assert not REPORT_FIELDS & set(after.fields)
    closing = [m for m in machine(after)["moves"] if m[0] in CLOSING_TRIGGERS]
    assert closing == [("close", "evaluation", "closed"), ("finish", "in_progress", "evaluation")]
    collected = set(after.states["evaluation"].collects)
    assert "closing_note" in collected
    assert collected <= set(after.fields)
    # requests of the old versions waiting for the report move to the closing
    [rule] = after.migrations
    assert dict(rule.states) == dict.fromkeys(
        ("final_report", "report_overdue", "report_received"), "evaluation"
    )


@pytest.mark.parametrize("name", PROGRAMMES)
def test_each_programme_file_holds_only_its_own_part(name: str) -> None:
    text = (WORKFLOW_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    # a bound on the size, not a budget: the shared stages, exits and reminders stay in the
    # bases; what issue 14 added here is the programme's own (its co-organisers, national
    # stakeholders, timing scenarios with their labels, its closing record)
    assert len(text.splitlines()) <= 200
    assert text.startswith("# ")  # a comment block first: room for an editor's modeline
    assert "\nextends: " in text
    assert "trigger: withdraw" not in text  # the shared exits live in the base


def test_bases_are_not_programmes() -> None:
    assert {p.stem for p in workflow_files()} == set(PROGRAMMES)
    assert sorted(load_all()) == PROGRAMMES
    assert (WORKFLOW_DIR / "base" / "programme.yaml").is_file()


@pytest.mark.parametrize("name", PROGRAMMES)
def test_a_version_stores_the_merged_text_which_loads_alone(name: str) -> None:
    definition = load_file(WORKFLOW_DIR / f"{name}.yaml")
    assert "extends" not in definition.source
    assert definition.source.startswith(f"# {name}.yaml merged with base/")
    stored = load_text(definition.source, f"{name}.yaml (stored)", expected_name=name, bases=())
    assert plain(stored) == plain(definition)
    assert stored.checksum == definition.checksum


# ---------------------------------------------------------------- pinned versions
@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.resolved_database_url)
    yield database
    database.dispose()


def _engine(db: Database, directory: Path, clock: ManualClock) -> Engine:
    catalogues = load_catalogues()
    registry = WorkflowRegistry(catalogues, directory)
    registry.sync(db, clock)
    return Engine(db, registry, catalogues, clock=clock)


def _take(engine: Engine, request_id: int, steps: list[dict[str, Any]]) -> str:
    view = None
    for step in steps:
        view = engine.advance(
            request_id, step["trigger"], Actor.parse(step["as"]), data=step.get("data") or {}
        )
    assert view is not None
    return view.state


def test_requests_pinned_to_the_pre_rewrite_version_still_load_and_advance(
    db: Database, clock: ManualClock
) -> None:
    """A database whose version 1 rows were made from the pre-rewrite files: after the rewrite
    each programme gets version 2 (its stored text is now the merged one); a request of version
    1 goes on under version 1 — with version 1's closing: the final report, for every
    programme — read back from the database by a freshly started registry."""
    old_engine = _engine(db, FROZEN, clock)
    old_engine.add_emb(code="HN", name="Honduras EMB", country="HN", language="es")
    pinned = {
        name: old_engine.create(name, emb_code="HN", title=f"Old {name}", actor=COORDINATOR)
        for name in PROGRAMMES
    }
    for name, view in pinned.items():
        assert view.workflow_version == 1
        _take(old_engine, view.id, frozen_example_steps(name)[:2])

    engine = _engine(db, WORKFLOW_DIR, clock)  # a restart after the rewrite
    for name, view in pinned.items():
        fresh = engine.create(name, emb_code="HN", title=f"New {name}", actor=COORDINATOR)
        assert fresh.workflow_version == 2
        assert engine.registry.cached(name, 1) is None  # not compiled yet: read from the row
        old_steps = frozen_example_steps(name)
        assert "submit_report" in [s["trigger"] for s in old_steps]
        state = _take(engine, view.id, old_steps[2:])
        assert state == "closed"
        assert engine.get(view.id).workflow_version == 1
        assert _take(engine, fresh.id, example_steps(name)) == "closed"
    with db.read() as conn:
        v1 = workflow_versions.source_of(conn, "seminar", 1)
        v2 = workflow_versions.source_of(conn, "seminar", 2)
    assert v1 == (FROZEN / "seminar.yaml").read_text(encoding="utf-8")
    assert v2 is not None
    assert v2.startswith("# seminar.yaml merged with base/programme.yaml")


def test_a_later_change_to_a_base_makes_a_new_version_and_leaves_the_stored_one(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOW_DIR / "base", folder / "base")
    shutil.copy(WORKFLOW_DIR / "seminar.yaml", folder / "seminar.yaml")
    first = _engine(db, folder, clock)
    first.add_emb(code="HN", name="Honduras EMB", country="HN", language="es")
    old = first.create("seminar", emb_code="HN", title="Before", actor=COORDINATOR)
    base = folder / "base" / "programme.yaml"
    text = base.read_text(encoding="utf-8")
    assert text.count("    label: Start\n") == 1
    base.write_text(text.replace("    label: Start\n", "    label: Begin\n"), encoding="utf-8")

    second = _engine(db, folder, clock)
    new = second.create("seminar", emb_code="HN", title="After", actor=COORDINATOR)
    assert (old.workflow_version, new.workflow_version) == (1, 2)
    with db.read() as conn:
        labels = {
            v: second.registry.get(conn, "seminar", v).definition
            for v in (old.workflow_version, new.workflow_version)
        }
    start = {v: next(t for t in d.transitions if t.trigger == "start") for v, d in labels.items()}
    assert (start[1].label.en, start[2].label.en) == ("Start", "Begin")


# ---------------------------------------------------------------- merge rules, on small files
BASE = """\
initial: draft
fields:
  note: {type: text, label: {es: Nota, en: Note, fr: Note}}
  reason: {type: text, label: {es: Motivo, en: Reason, fr: Motif}}
states:
  draft: {label: {es: Borrador, en: Draft, fr: Brouillon}, actors: [coordinator]}
  review: {label: {es: Revisión, en: Review, fr: Révision}}
  done: {label: {es: Hecho, en: Done, fr: Fait}, final: true}
  dropped: {label: {es: Retirada, en: Dropped, fr: Retirée}, final: true}
transitions:
  - trigger: submit
    source: draft
    dest: review
    label: {es: Enviar, en: Submit, fr: Envoyer}
  - trigger: finish
    source: review
    dest: done
    requires: [note]
    label: {es: Fin, en: Finish, fr: Fin}
  - trigger: drop
    source: active
    dest: dropped
    collects: [reason]
    label: {es: Retirar, en: Drop, fr: Retirer}
timers:
  - id: nudge
    label: {es: Aviso, en: Nudge, fr: Rappel}
    kind: reminder
    states: [draft]
    at: {entered: 3}
    notify: [{template: reminder, to: [coordinator]}]
  - id: late
    label: {es: Tarde, en: Late, fr: Tard}
    kind: escalation
    states: [review]
    at: {entered: 9}
    notify: [{template: escalation, to: [programme_lead]}]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def refusal(path: Path) -> list[tuple[str, int, str]]:
    with pytest.raises(InvalidDefinition) as caught:
        load_file(path)
    return [(Path(p.path).name, p.line, p.message) for p in caught.value.problems]


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path / "base", "small", BASE)
    return tmp_path


def test_entries_merge_key_by_key_and_new_ones_follow_the_bases(folder: Path) -> None:
    path = write(
        folder,
        "tiny",
        """\
        extends: small
        workflow: tiny
        title: {es: Mínimo, en: Tiny, fr: Minimal}
        fields:
          extra: {type: string, label: {es: Extra, en: Extra, fr: Extra}}
        states:
          review: {actors: [coordinator, partner], collects: [note, extra]}
        transitions:
          - trigger: finish
            requires: [note, extra]
          - trigger: reopen
            source: review
            dest: draft
            label: {es: Reabrir, en: Reopen, fr: Rouvrir}
        timers:
          - id: nudge
            at: {field: extra, days: 1}
        """,
    )
    with pytest.raises(InvalidDefinition, match="date field"):  # `at` replaced whole: no
        load_file(path)  # `entered` left over from the base, and `extra` is no date
    path.write_text(path.read_text().replace("at: {field: extra, days: 1}", "at: {entered: 5}"))
    d = load_file(path)
    assert list(d.fields) == ["note", "reason", "extra"]
    assert list(d.states) == ["draft", "review", "done", "dropped"]
    review = d.states["review"]
    assert (review.label.en, review.actors, review.collects) == (
        "Review",
        ("coordinator", "partner"),
        ("note", "extra"),
    )
    assert [t.trigger for t in d.transitions] == ["submit", "finish", "drop", "reopen"]
    finish = d.transitions[1]
    assert (finish.sources, finish.dest, finish.requires) == (
        ("review",),
        "done",
        ("note", "extra"),
    )
    nudge = d.timers[0]
    assert (nudge.id, nudge.days, nudge.anchor_field, nudge.label.en) == ("nudge", 5, None, "Nudge")


def test_null_and_remove_take_out_what_the_base_gives(folder: Path) -> None:
    path = write(
        folder,
        "tiny",
        """\
        extends: small
        workflow: tiny
        title: {es: Mínimo, en: Tiny, fr: Minimal}
        fields:
          note: ~
        states:
          draft: {actors: null}
        transitions:
          - {trigger: finish, requires: null}
          - {trigger: drop, remove: true}
        timers:
          - {id: late, remove: true}
        """,
    )
    with pytest.raises(InvalidDefinition) as caught:
        load_file(path)
    # the base's state still collects nothing, but the base's `drop` collected `reason`: gone
    assert [p.message for p in caught.value.problems] == [
        "state 'dropped' is unreachable from 'draft'"
    ]
    path.write_text(path.read_text().replace("states:\n", "states:\n  dropped: null\n"))
    d = load_file(path)
    assert "note" not in d.fields
    assert list(d.states) == ["draft", "review", "done"]
    assert d.states["draft"].actors == ()
    assert [(t.trigger, t.requires) for t in d.transitions] == [("submit", ()), ("finish", ())]
    assert [t.id for t in d.timers] == ["nudge"]


def test_a_base_may_extend_a_base_and_a_file_beside_wins_over_the_bundled(folder: Path) -> None:
    write(
        folder / "base",
        "programme",  # the same name as a bundled base: the one beside the file is used
        """\
        extends: small
        fields:
          note: {type: text, label: {es: Nota, en: Remark, fr: Note}}
        """,
    )
    path = write(
        folder,
        "tiny",
        """\
        extends: programme
        workflow: tiny
        title: {es: Mínimo, en: Tiny, fr: Minimal}
        """,
    )
    d = load_file(path)
    note = d.fields["note"].label
    assert note is not None
    assert note.en == "Remark"
    assert list(d.states) == ["draft", "review", "done", "dropped"]
    assert d.source.startswith("# tiny.yaml merged with base/programme.yaml and base/small.yaml")


def test_a_problem_in_a_bases_part_names_the_base_and_its_line(folder: Path) -> None:
    base = write(folder / "base", "small", BASE.replace("requires: [note]", "requires: [nope]"))
    path = write(
        folder,
        "tiny",
        """\
        # a comment
        extends: small
        workflow: tiny
        title: {es: Mínimo, en: Tiny, fr: Minimal}
        states:
          review: {actors: [nobody]}
        """,
    )
    assert refusal(path) == [
        ("small.yaml", line_of(base, "nope"), "unknown field 'nope' in requires"),
        ("tiny.yaml", 6, "unknown role 'nobody' in state 'review'"),
    ]


def test_an_unknown_base_a_cycle_and_a_base_naming_a_workflow_are_refused(folder: Path) -> None:
    path = write(folder, "tiny", "workflow: tiny\nextends: nowhere\n")
    [(name, line, message)] = refusal(path)
    assert (name, line) == ("tiny.yaml", 2)
    assert message.startswith("unknown base 'nowhere': no nowhere.yaml in ")

    path.write_text("workflow: tiny\nextends: ../small\n")
    assert refusal(path) == [
        (
            "tiny.yaml",
            2,
            "'extends' names a base: the name of a file in workflows/base/ without .yaml",
        )
    ]

    write(folder / "base", "a", "# a\nextends: b\n")
    write(folder / "base", "b", "extends: a\n")
    path.write_text("workflow: tiny\nextends: a\n")
    assert refusal(path) == [("b.yaml", 1, "the bases extend each other in a circle: a → b → a")]

    write(folder / "base", "a", "workflow: a\nextends: small\n")
    assert refusal(path) == [
        ("a.yaml", 1, "a base is no programme: leave 'workflow:' to the files that extend it")
    ]


def test_a_change_must_say_which_base_entry_it_changes(folder: Path) -> None:
    twice = BASE.replace(
        "  - trigger: drop\n",
        "  - {trigger: finish, source: draft, dest: done, label: {es: F, en: F, fr: F}}\n"
        "  - trigger: drop\n",
    )
    base = write(folder / "base", "small", twice)
    path = write(
        folder,
        "tiny",
        """\
        extends: small
        workflow: tiny
        title: {es: Mínimo, en: Tiny, fr: Minimal}
        transitions:
          - {trigger: finish, requires: []}
          - {trigger: finish, source: draft, requires: []}
          - {trigger: drop, remove: true}
          - {trigger: drop, dest: done}
          - {trigger: gone, remove: true}
          - {trigger: submit, remove: yes}
        """,
    )
    assert refusal(path) == [
        # `drop` removed, as asked (line 7); the base's state it led to is left unreachable
        ("small.yaml", line_of(base, "dropped:"), "state 'dropped' is unreachable from 'draft'"),
        ("tiny.yaml", 5, "the base declares 'finish' 2 times; give its 'source' to say which"),
        (
            "tiny.yaml",
            8,
            "'drop' of the base is changed twice (also on line 7): write the changes in one entry",
        ),
        ("tiny.yaml", 9, "nothing to remove: the base has no transition 'gone'"),
        ("tiny.yaml", 10, "'remove' is true (to remove the base's entry) or left out"),
    ]


def test_the_stored_text_reads_back_as_the_same_values(folder: Path) -> None:
    odd = 'a\u2028b\x85c\tquote" back\\slash 🗳 yes 0o17 2016-02-01 ~ null'
    written = r'"a\u2028b\x85c\tquote\" back\\slash 🗳 yes 0o17 2016-02-01 ~ null"'
    path = write(
        folder,
        "tiny",
        f"""\
        extends: small
        workflow: tiny
        title: {{es: {written}, en: "x", fr: 'NO'}}
        """,
    )
    d = load_file(path)
    assert (d.title.es, d.title.fr) == (odd, "NO")
    again = load_text(d.source, "stored", expected_name="tiny", bases=())
    assert plain(again) == plain(d)


def test_the_bundled_base_is_found_from_a_copy_anywhere(tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "seminar.yaml"
    copy.parent.mkdir()
    shutil.copy(WORKFLOW_DIR / "seminar.yaml", copy)
    assert plain(load_file(copy)) == plain(load_file(WORKFLOW_DIR / "seminar.yaml"))
    assert (WORKFLOW_DIR / "base").resolve() == BASE_DIR
