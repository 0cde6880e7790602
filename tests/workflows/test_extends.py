"""Shared parts: programme files extend the bases in workflows/base/.

The rewrite onto the bases changed nothing: each programme compiles to the definition its
pre-rewrite file (frozen in tests/workflows/frozen/, as committed before the rewrite) compiled
to, and requests pinned to a version stored from those files still load and advance. The merge
rules, the problems a base can cause, and what a version stores are checked on small files."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import pytest

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
from workflows.definition import WorkflowDefinition
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
@pytest.mark.parametrize("name", PROGRAMMES)
def test_each_programme_compiles_to_the_definition_of_its_pre_rewrite_file(name: str) -> None:
    before = load_file(FROZEN / f"{name}.yaml")
    after = load_file(WORKFLOW_DIR / f"{name}.yaml")
    old, new = plain(before), plain(after)
    for part in ("name", "title", "initial", "states", "transitions", "on_change", "timers"):
        assert new[part] == old[part], part
    # fields: the same definitions; their order is the bases' first, then the programme's own
    # (nothing reads it: forms follow each stage's `collects`, which keep their order)
    assert dict(new["fields"]) == dict(old["fields"])
    assert {k: v for k, v in new.items() if k != "fields"} == {
        k: v for k, v in old.items() if k != "fields"
    }
    assert machine(after) == machine(before)


@pytest.mark.parametrize("name", PROGRAMMES)
def test_each_programme_file_holds_only_its_own_part(name: str) -> None:
    text = (WORKFLOW_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
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
    1 goes on under version 1, read back from the database by a freshly started registry."""
    old_engine = _engine(db, FROZEN, clock)
    old_engine.add_emb(code="HN", name="Honduras EMB", country="HN", language="es")
    pinned = {
        name: old_engine.create(name, emb_code="HN", title=f"Old {name}", actor=COORDINATOR)
        for name in PROGRAMMES
    }
    for name, view in pinned.items():
        assert view.workflow_version == 1
        _take(old_engine, view.id, example_steps(name)[:2])

    engine = _engine(db, WORKFLOW_DIR, clock)  # a restart after the rewrite
    for name, view in pinned.items():
        fresh = engine.create(name, emb_code="HN", title=f"New {name}", actor=COORDINATOR)
        assert fresh.workflow_version == 2
        assert engine.registry.cached(name, 1) is None  # not compiled yet: read from the row
        steps = example_steps(name)
        state = _take(engine, view.id, steps[2:])
        assert state == "closed"
        assert engine.get(view.id).workflow_version == 1
        assert _take(engine, fresh.id, steps) == "closed"
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
