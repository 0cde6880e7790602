"""Which mail templates exist, and in which languages they can be written — read from the
template folder and the catalogues (data), so the loader can refuse a workflow naming a missing
template without importing mail code.

A template is one folder, `notifications/templates/<event>/`, holding `subject.txt`,
`body.txt` and `body.html`, written in English with every sentence marked `_()`; they extend
the layout `layout/body.txt` / `layout/body.html` (a folder whose name does not start with
"_", so that `make messages` extracts its sentences too). A language can write a template when its
catalogue translates every sentence of the template and of the layout (English, the source
language, always can)."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from jinja2.ext import babel_extract

from i18n import LANGUAGES, SOURCE_LANGUAGE, read_catalogue_cached

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "notifications" / "templates"
PARTS = ("subject.txt", "body.txt", "body.html")
LAYOUT = "layout"  # the frame every mail extends (not a template: no subject)
LAYOUT_PARTS = ("body.txt", "body.html")
KEYWORDS = ("_", "gettext", "ngettext", "pgettext", "npgettext")
# as babel.cfg extracts notifications/templates/**
EXTRACT_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
_SETTLED_NS = 2_000_000_000  # a file unchanged this long has a trustworthy mtime


def scan(directory: Path = TEMPLATE_DIR) -> Mapping[str, frozenset[str]]:
    """template name → languages it can be written in (none when a part is missing)."""
    found: dict[str, frozenset[str]] = {}
    if not directory.is_dir():
        return found
    for folder in sorted(directory.iterdir()):
        if not folder.is_dir() or folder.name[0] in "._" or folder.name == LAYOUT:
            continue
        found[folder.name] = languages(directory, folder.name)
    return found


def has_parts(directory: Path, template: str) -> bool:
    return all(os.path.isfile(path) for path in _paths(str(directory), template)[: len(PARTS)])


def languages(directory: Path, template: str) -> frozenset[str]:
    """The languages of `LANGUAGES` whose catalogue holds every sentence of `template` (and of
    the layout): empty when the template lacks a part. Asked at every mail, so the answer is
    kept while the files' modification times and sizes stay the same (a file changed in the
    last seconds is read again each time: its mtime may not tick between two changes). The
    files are looked at again at most every `RECHECK_S` seconds (a transition asks once per
    notification: five `stat` calls each time would be a tenth of its mail's cost)."""
    key = (str(directory), template)
    cached = _ANSWERS.get(key)
    moment = time.monotonic()
    if cached is not None and moment - _CHECKED.get(key, -RECHECK_S) < RECHECK_S:
        return cached[1]
    paths = _paths(str(directory), template)
    stamps = []
    settled = True
    now = time.time_ns()
    for index, path in enumerate(paths):
        try:
            info = os.stat(path)
        except OSError:
            if index < len(PARTS):
                return frozenset()  # a part is missing
            stamps.append((0, -1))
            continue
        stamps.append((info.st_mtime_ns, info.st_size))
        settled = settled and now - info.st_mtime_ns > _SETTLED_NS
    if cached is not None and cached[0] == stamps:
        _CHECKED[key] = moment
        return cached[1]
    wanted = messages(directory, template)
    found = frozenset(
        lang for lang in LANGUAGES if lang == SOURCE_LANGUAGE or wanted <= _translated(lang)
    )
    if settled:
        _ANSWERS[key] = (stamps, found)
        _CHECKED[key] = moment
    return found


_ANSWERS: dict[tuple[str, str], tuple[list[tuple[int, int]], frozenset[str]]] = {}
_CHECKED: dict[tuple[str, str], float] = {}  # when the files of an answer were last looked at
RECHECK_S = 1.0


@cache
def _paths(directory: str, template: str) -> tuple[str, ...]:
    """The template's parts, then the layout's."""
    return tuple(os.path.join(directory, template, part) for part in PARTS) + tuple(
        os.path.join(directory, LAYOUT, part) for part in LAYOUT_PARTS
    )


def messages(directory: Path, template: str) -> frozenset[str]:
    """The msgids of a template's parts and of the layout, read again when a file changes."""
    found: set[str] = set()
    now = time.time_ns()
    for path in _paths(str(directory), template):
        try:
            info = os.stat(path)
        except OSError:
            continue
        if now - info.st_mtime_ns > _SETTLED_NS:
            found |= _file_messages(path, info.st_mtime_ns, info.st_size)
        else:  # changed in the last seconds: its mtime may not tick again, so no cache
            found |= _file_messages.__wrapped__(path, info.st_mtime_ns, info.st_size)
    return frozenset(found)


@cache
def _file_messages(path: str, _mtime_ns: int, _size: int) -> frozenset[str]:
    out: set[str] = set()
    with open(path, "rb") as fp:
        for _line, _func, message, _comments in babel_extract(fp, KEYWORDS, [], EXTRACT_OPTIONS):
            first = message[0] if isinstance(message, tuple) else message
            if isinstance(first, str) and first:
                out.add(first)
    return frozenset(out)


@cache
def _translated(language: str) -> frozenset[str]:
    """The msgids the catalogue of `language` (with its fragments) really translates."""
    catalogue = read_catalogue_cached(language)
    return frozenset(
        message.id
        for message in catalogue
        if isinstance(message.id, str)
        and message.id
        and not message.fuzzy
        and isinstance(message.string, str)
        and message.string
    )
