"""`attach: [invitation_letter, agenda_pack]` in a workflow's notification: the shipped
workshop and internship declare them for the EMB's contacts at `confirm_logistics`; a
programme without a delegation is refused at the line of its `attach:`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workflows.errors import InvalidDefinition
from workflows.loader import WORKFLOW_DIR, load_file

DOCUMENTS = ("invitation_letter", "agenda_pack")


@pytest.mark.parametrize("name", ["international_workshop", "internship"])
def test_the_emb_contacts_get_the_delegates_documents_when_logistics_are_confirmed(
    name: str,
) -> None:
    definition = load_file(WORKFLOW_DIR / f"{name}.yaml")
    confirm = next(t for t in definition.transitions if t.trigger == "confirm_logistics")
    with_documents = [n for n in confirm.notify if set(DOCUMENTS) <= set(n.attach)]
    assert [(n.template, n.to) for n in with_documents] == [
        ("logistics_confirmed", ("emb_contacts",))
    ]
    # everyone the base wrote to is still written to, with the calendar invitation
    assert sorted(r for n in confirm.notify for r in n.to) == sorted(
        ["founders", "emb_contacts", "associate_partner"]
    )
    assert all("ics" in n.attach for n in confirm.notify)
    item = definition.fields["delegates"].items
    assert item is not None
    optional = {f.name: f.required for f in item.fields}
    assert optional["nationality"] is optional["passport_number"] is optional["language"] is False


def test_a_programme_without_a_delegation_cannot_attach_letters(tmp_path: Path) -> None:
    text = (WORKFLOW_DIR / "seminar.yaml").read_text(encoding="utf-8")
    declared = (
        "transitions:\n"
        "  - trigger: confirm_logistics\n"
        "    notify:\n"
        "      - template: logistics_confirmed\n"
        "        to: [emb_contacts]\n"
        "        attach: [ics, invitation_letter, visa_form]\n"
    )
    path = tmp_path / "seminar.yaml"
    path.write_text(text.replace("transitions:\n", declared, 1), encoding="utf-8")
    line = (
        path.read_text(encoding="utf-8")
        .splitlines()
        .index("        attach: [ics, invitation_letter, visa_form]")
        + 1
    )
    with pytest.raises(InvalidDefinition) as refused:
        load_file(path)
    said = str(refused.value)
    assert re.search(
        rf"seminar\.yaml:{line}: .*'invitation_letter' is written for each delegate", said
    )
    assert re.search(rf"seminar\.yaml:{line}: unknown attachment 'visa_form' \(known: ics, ", said)
