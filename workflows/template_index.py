"""Which mail templates exist, in which languages — read from the template folder (data), so
the loader can refuse a workflow naming a missing template without importing mail code."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "notifications" / "templates"
PARTS = ("subject.txt", "txt", "html")


def scan(directory: Path = TEMPLATE_DIR) -> Mapping[str, frozenset[str]]:
    """template name → languages that have all three parts (subject, text, HTML)."""
    found: dict[str, frozenset[str]] = {}
    if not directory.is_dir():
        return found
    for folder in sorted(p for p in directory.iterdir() if p.is_dir() and p.name[0] != "_"):
        langs = {
            f.name.split(".", 1)[0] for f in folder.iterdir() if f.name.endswith(".subject.txt")
        }
        found[folder.name] = frozenset(
            lang for lang in langs if all((folder / f"{lang}.{part}").is_file() for part in PARTS)
        )
    return found
