"""Babel extractor for the labels of the YAML files: workflows (workflows/**.yaml) and
catalogues (config/catalogues/**.yaml).

A label is written in English — `label: Logistics` — or as a mapping whose `en` is the English
text and whose other languages are the file's own texts (`label: {en: Logistics, fr: …}`);
either way the English text is the catalogue's msgid, in the context "label", which is how
`config.catalogues.Label` looks it up. Registered in babel.cfg:

    [extractors]
    yaml_labels = i18n.extract:extract_labels
    [yaml_labels: workflows/**.yaml]

Where a label is: the value of `label:` (states, transitions, fields and sub-fields, timers,
themes, aspects, blocks, cost categories), the top-level `title:` (a programme), a block's
`goal:`, each entry of `payers:` (the financing rules) and each entry of `labels:` (the values of
an enum field).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from config.yaml_reader import LocatedDict, LocatedList, ReadRefused, decode, parse

CONTEXT = "label"  # = config.catalogues.LABEL_CONTEXT (not imported: extraction stays light)
LABEL_KEYS = frozenset({"label", "goal"})  # their value is a label, at any depth
ROOT_LABEL_KEYS = frozenset({"title"})  # a label at the top of a file only
LABEL_MAPS = frozenset({"payers", "labels"})  # a mapping of codes to labels
LANGUAGE_KEYS = frozenset({"es", "en", "fr", "pt", "ar"})

Extracted = tuple[int, str, tuple[str, str], list[str]]


def extract_labels(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Extracted]:
    """(line, "pgettext", ("label", English text), []) for every label of the file. A file
    that cannot be read yields nothing: the loaders report its problems, with their lines."""
    try:
        values, _ = parse(decode(fileobj.read()))
    except ReadRefused:
        return
    for line, text in labels(values):
        yield line, "pgettext", (CONTEXT, text), []


def labels(values: Any) -> Iterator[tuple[int, str]]:
    """(line, English text) of every label in a file's values, in the file's order."""
    yield from _walk(values, root=True)


def _walk(node: Any, root: bool = False) -> Iterator[tuple[int, str]]:
    if isinstance(node, LocatedDict):
        for key, value in node.items():
            line = node.key_lines.get(key, node.line)
            if key in LABEL_KEYS or (root and key in ROOT_LABEL_KEYS):
                found = _label(value, line)
                if found is not None:
                    yield found
                    continue
            if key in LABEL_MAPS and isinstance(value, LocatedDict):
                for code, label in value.items():
                    found = _label(label, value.key_lines.get(code, value.line))
                    if found is not None:
                        yield found
                continue
            yield from _walk(value)
    elif isinstance(node, LocatedList):
        for item in node:
            yield from _walk(item)


def _label(value: Any, line: int) -> tuple[int, str] | None:
    """The English text of a label value, or None when the value is no label."""
    if isinstance(value, LocatedDict):
        english = value.get("en")
        if set(value) <= LANGUAGE_KEYS and _text(english):
            return value.key_lines.get("en", line), _text(english)
        return None
    if not _text(value):
        return None
    return line, _text(value)


def _text(value: Any) -> str:
    if isinstance(value, dict | list) or value is None:
        return ""
    return str(value) if str(value).strip() else ""
