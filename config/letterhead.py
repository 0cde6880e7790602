"""The centre's letterhead (`config/letterhead.yaml`): who writes the delegates' documents —
the institutions' names, the address, the city a letter is signed in, the signatory and a
contact address — each text in every language the documents are written in.

Read through the shared YAML reader; every problem is refused as `path:line: message`.
`CICIE_LETTERHEAD` names another file (a deployment's own signatory and logo)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from config.catalogues import Label, label_from, label_problem
from config.yaml_reader import ReadRefused, line_of, parse, read_text

LETTERHEAD_FILE = Path(__file__).parent / "letterhead.yaml"
LOGO_SUFFIXES = (".png", ".jpg", ".jpeg")
_LABELS = ("institution", "parent", "partners", "city")
_KEYS = {*_LABELS, "address", "email", "signatory", "logo"}


class InvalidLetterhead(ValueError):
    """The letterhead file cannot be used; the message names each problem's line."""


@dataclass(frozen=True)
class Letterhead:
    institution: Label  # CICIE
    parent: Label  # INE and its coordination
    partners: Label  # "with UNDP Mexico and the TEPJF"
    address: str
    city: Label
    email: str
    signatory_name: str
    signatory_title: Label
    logo: Path | None = None


def letterhead_path() -> Path:
    chosen = os.environ.get("CICIE_LETTERHEAD", "").strip()
    return Path(chosen) if chosen else LETTERHEAD_FILE


def load_letterhead(path: Path | None = None) -> Letterhead:
    """The letterhead of `path` (default: `CICIE_LETTERHEAD`, else the bundled file)."""
    return _load(path or letterhead_path())


@cache
def _load(path: Path) -> Letterhead:
    try:
        root, read_problems = parse(read_text(path))
    except ReadRefused as exc:
        read_problems = exc.problems
        root = None
    problems = [(p.line, p.message) for p in read_problems]
    if not isinstance(root, dict):
        if not problems:
            problems.append((1, "the letterhead is a mapping of institution, address, …"))
        raise InvalidLetterhead(_said(path, problems))

    def at(*where: Any) -> int:
        return line_of(root, where)

    for key in root:
        if key not in _KEYS:
            problems.append((at(key), f"unknown key '{key}' (known: {', '.join(sorted(_KEYS))})"))
    for key in _LABELS:
        why = label_problem(root.get(key))
        if why:
            problems.append((at(key), f"'{key}': {why}"))
    for key in ("address", "email"):
        if not isinstance(root.get(key), str) or not root[key].strip():
            problems.append((at(key), f"'{key}' needs a text"))
    signatory = root.get("signatory")
    if not isinstance(signatory, dict):
        problems.append((at("signatory"), "'signatory' needs a name and a title"))
        signatory = {}
    elif not isinstance(signatory.get("name"), str) or not signatory["name"].strip():
        problems.append((at("signatory", "name"), "the signatory needs a name"))
    why = label_problem(signatory.get("title"))
    if signatory and why:
        problems.append((at("signatory", "title"), f"the signatory's title: {why}"))
    logo = None
    if root.get("logo") is not None:
        logo = (path.parent / str(root["logo"])).resolve()
        if logo.suffix.lower() not in LOGO_SUFFIXES or not logo.is_file():
            problems.append((at("logo"), f"'logo' must name a PNG or JPEG file ({logo})"))
    if problems:
        raise InvalidLetterhead(_said(path, problems))
    return Letterhead(
        institution=label_from(root["institution"]),
        parent=label_from(root["parent"]),
        partners=label_from(root["partners"]),
        address=root["address"].strip(),
        city=label_from(root["city"]),
        email=root["email"].strip(),
        signatory_name=signatory["name"].strip(),
        signatory_title=label_from(signatory["title"]),
        logo=logo,
    )


def _said(path: Path, problems: list[tuple[int, str]]) -> str:
    return "\n".join(f"{path}:{line}: {message}" for line, message in problems)
