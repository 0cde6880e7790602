"""What the catalogues must hold: every sentence the project marks for translation (found the
way `make messages` finds them, with babel.cfg), and for which languages.

The web interface is read in `UI_LANGUAGES`; what reaches people outside INE — mail, the public
pages, the brochure's rules and the labels they show — in every language of `LANGUAGES`.
Used by the completeness test and by `make messages`."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from i18n import LANGUAGES, SOURCE_LANGUAGE, UI_LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "Text": None,
    "N_": None,
}

# sources whose sentences reach people outside INE (mail, public pages, the rules they meet)
PUBLIC_SOURCES = (
    "notifications/*",
    "documents/*",  # the delegates' letters and agenda packs (PDF, in the delegate's language)
    "workflows/*",
    "config/catalogues/*",
    "i18n/vocabulary.py",
    "engine/vocabulary.py",
    "engine/operations/validation.py",
    "web/pages/links.py",
    "web/pages/errors.py",  # error pages: the public layout on /report and /status too
    "web/public_language.py",
    "web/templates/report_form.html",
    "web/templates/_fields.html",  # the report form's counters and error summary
    "web/templates/report_done.html",
    "web/templates/status.html",
    "web/templates/public_base.html",
    "web/templates/public_error.html",
    "web/templates/_event.html",
)

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


@dataclass(frozen=True)
class Sentence:
    msgid: str | tuple[str, ...]
    context: str | None
    locations: tuple[str, ...]

    @property
    def key(self) -> str:
        return self.msgid if isinstance(self.msgid, str) else self.msgid[0]

    @property
    def public(self) -> bool:
        return any(
            fnmatch.fnmatch(loc, pattern) for loc in self.locations for pattern in PUBLIC_SOURCES
        )

    def languages(self) -> tuple[str, ...]:
        wanted = LANGUAGES if self.public else UI_LANGUAGES
        return tuple(lang for lang in wanted if lang != SOURCE_LANGUAGE)


def sentences() -> list[Sentence]:
    """Every marked sentence of the project, with where it is used."""
    with (ROOT / "babel.cfg").open() as fp:
        method_map, options_map = parse_mapping_cfg(fp)
    found: dict[tuple[object, str | None], set[str]] = {}
    for filename, _line, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault((message, context), set()).add(filename)
    return [
        Sentence(msgid, context, tuple(sorted(locs)))  # type: ignore[arg-type]
        for (msgid, context), locs in found.items()
        if msgid
    ]


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def iter_problems() -> Iterator[str]:
    """Each missing, empty, fuzzy or mis-placeholdered entry, as `lang: "msgid" (problem)`."""
    from i18n import read_catalogue

    catalogues = {lang: read_catalogue(lang) for lang in LANGUAGES if lang != SOURCE_LANGUAGE}
    for sentence in sentences():
        for lang in sentence.languages():
            entry = catalogues[lang].get(
                sentence.msgid if isinstance(sentence.msgid, str) else sentence.msgid[0],
                sentence.context,
            )
            where = ", ".join(sentence.locations[:2])
            if entry is None:
                yield f'{lang}: "{sentence.key}" is missing ({where})'
                continue
            strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
            if not all(s and s.strip() for s in strings):
                yield f'{lang}: "{sentence.key}" is empty ({where})'
            elif entry.fuzzy:
                yield f'{lang}: "{sentence.key}" is fuzzy ({where})'
            else:
                wanted = placeholders(sentence.key)
                for s in strings:
                    if placeholders(s or "") != wanted:
                        found = sorted(placeholders(s or ""))
                        yield f'{lang}: "{sentence.key}" has {found}, wants {sorted(wanted)}'


TEMPLATE_DIRS = ("web/templates", "notifications/templates")
_TAG = re.compile(r"<[^>]*>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_ATTR_TEXT = re.compile(r'\b(?:title|placeholder|aria-label|alt|content)="([^"{}]*)"')
_ATTR_FRAGMENT = re.compile(r'[\w-]+="[^"]*"')  # whole attributes; a cut one is its quote
_ENTITY = re.compile(r"&#?\w+;")
_WORD = re.compile(r"[^\W\d_]{2,}")
# words a person reads as they are in every language: names of institutions and marks
UNTRANSLATED_OK = frozenset(
    {
        "CICIE",
        "INE",
        "TEPJF",
        "UNDP",
        "PNUD",
        "CSV",
        "XLSX",
        "PDF",
        "SVG",
        "PNG",
        "JSON",
        "API",
        "OAE",
        "EMB",
        "ID",
        "iCalendar",
        "ics",
        "Español",
        "English",
        "Français",
        "Português",
        "العربية",
        "utf",
        "UTF",
        "viewport",
        "width",
        "device",
        "initial",
        "scale",
        "nofollow",
        "noindex",
        "noarchive",
        "no",
        "referrer",
        "same",
        "origin",
    }
)


def untranslated_template_text() -> Iterator[str]:
    """Visible words in templates outside `{% trans %}`/`_()`: sentences a translator never
    sees. Each template is read as its text with every Jinja construct (and every `trans`
    block) replaced by a blank, then stripped of tags; what words remain are untranslated.
    Yields `file:line: text`."""
    import jinja2

    env = jinja2.Environment(extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    for folder in TEMPLATE_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if not path.is_file() or path.suffix not in {".html", ".txt", ""}:
                continue
            pieces: list[tuple[int, str]] = []
            depth = 0  # inside {% trans %} … {% endtrans %}
            after_block_begin = False
            for lineno, kind, value in env.lex(path.read_text(encoding="utf-8")):
                if kind == "name" and after_block_begin:
                    depth += {"trans": 1, "endtrans": -1}.get(value, 0)
                after_block_begin = kind == "block_begin"
                pieces.append((lineno, value if kind == "data" and not depth else "\x00"))
            text = "".join(v for _, v in pieces)
            text = re.sub(r"<(style|script)\b.*?</\1>", " ", text, flags=re.S | re.I)
            text = _COMMENT.sub(" ", text)
            attrs = " ".join(_ATTR_TEXT.findall(text))
            visible = _TAG.sub(" ", text) + " " + attrs
            for chunk in _ENTITY.sub(" ", visible).split("\x00"):
                chunk = _ATTR_FRAGMENT.sub(" ", chunk)
                if chunk.count('"') % 2:  # the rest of an attribute cut by a Jinja construct
                    head, _, tail = chunk.partition('"')
                    chunk = tail if "<" not in head and "=" not in tail else head
                words = [w for w in _WORD.findall(chunk) if w not in UNTRANSLATED_OK]
                if words:
                    yield f"{path.relative_to(ROOT)}: {' '.join(chunk.split())[:80]}"
