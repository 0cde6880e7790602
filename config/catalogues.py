"""The catalogues the workflows refer to by name: themes, partners, financing rules.

They are data (`config/catalogues/*.yaml`), read once into frozen objects, so a workflow file
that names an unknown theme or payer is refused at load time.

Every text a person reads there (and in the workflow files) is a `Label`: written in English,
translated by the one catalogue per language (`i18n`, context "label").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale

import i18n
from config.yaml_reader import ReadRefused, line_of, parse, read_text

CATALOGUE_DIR = Path(__file__).parent / "catalogues"
LANGUAGES = ("es", "en", "fr", "pt", "ar", "ru")


LABEL_CONTEXT = "label"  # the msgctxt of every label in the catalogues


@dataclass(frozen=True, init=False)
class Label:
    """What a person reads for a code: its English text — the catalogue's msgid, in the context
    "label" — and the texts in other languages a file gives itself (`overrides`).

    `Label("Logistics")`; `Label("Logistics", fr="Logistique")`, the file's French kept;
    `Label(es=…, en=…, fr=…)` or `Label(es, en, fr)`, the three-language form of earlier files
    (versions stored before the catalogues still hold it). `get(lang)`: the file's own text in
    that language, else the catalogue's translation, else English."""

    en: str
    overrides: tuple[tuple[str, str], ...] = field(default=())

    def __init__(self, *texts: str, **languages: str) -> None:
        if len(texts) == 3:  # Label(es, en, fr)
            languages = {"es": texts[0], "en": texts[1], "fr": texts[2], **languages}
        elif len(texts) == 1:
            languages = {"en": texts[0], **languages}
        elif texts:
            raise TypeError("Label(english, **overrides) or Label(es, en, fr)")
        english = languages.pop("en", None)
        if not isinstance(english, str) or not english:
            raise TypeError("a label needs its English text")
        unknown = sorted(set(languages) - set(i18n.LANGUAGES))
        if unknown:
            raise TypeError(f"unknown label language(s): {', '.join(unknown)}")
        own = tuple((lang, languages[lang]) for lang in i18n.LANGUAGES if languages.get(lang))
        object.__setattr__(self, "en", english)
        object.__setattr__(self, "overrides", own)
        object.__setattr__(self, "_said", {})  # lang → (the translations used, the text)

    def get(self, lang: str) -> str:
        if lang == "en":
            return self.en
        said: dict[str, tuple[Any, str]] = self.__dict__["_said"]
        translations = i18n.translations(lang)
        cached = said.get(lang)
        if cached is not None and cached[0] is translations:
            return cached[1]
        text = dict(self.overrides).get(lang) or translations.pgettext(LABEL_CONTEXT, self.en)
        text = text or self.en
        said[lang] = (translations, text)
        return text

    def own(self, lang: str) -> str | None:
        """The text the file itself gives in `lang`, if it gives one."""
        return self.en if lang == "en" else dict(self.overrides).get(lang)

    @property
    def es(self) -> str:
        return self.get("es")

    @property
    def fr(self) -> str:
        return self.get("fr")

    @property
    def pt(self) -> str:
        return self.get("pt")

    @property
    def ar(self) -> str:
        return self.get("ar")

    def __getstate__(self) -> dict[str, Any]:  # pickle and copy: not the cache
        return {"en": self.en, "overrides": self.overrides}

    def __setstate__(self, state: dict[str, Any]) -> None:
        object.__setattr__(self, "en", state["en"])
        object.__setattr__(self, "overrides", tuple(state["overrides"]))
        object.__setattr__(self, "_said", {})


LABEL_SHAPE = "a label is its English text, or a mapping {en: …, es: …, fr: …, pt: …, ar: …}"


def label_problem(node: Any) -> str | None:
    """Why `node` (a YAML value) is no label, or None: English text (a number is taken as its
    text), or a mapping whose `en` is the English text and whose other languages, each
    optional, are the file's own texts."""
    if isinstance(node, dict):
        unknown = [str(k) for k in node if k not in i18n.LANGUAGES]
        if unknown:
            return (
                f"unknown language(s) in a label: {', '.join(unknown)} "
                f"(a label may give {', '.join(i18n.LANGUAGES)})"
            )
        if not label_text(node.get("en")):
            return "label without its English text: give 'en' (the other languages are optional)"
        empty = [lang for lang in node if not label_text(node[lang])]
        if empty:
            return f"label language(s) without text: {', '.join(empty)}"
        return None
    if node is None:
        return "missing label (give its English text)"
    if isinstance(node, str) and not node.strip():
        return "a label's English text cannot be blank"
    return None if label_text(node) else LABEL_SHAPE


def label_text(value: Any) -> str:
    """A label's words: text or a number as written; a list or mapping is no label."""
    if isinstance(value, dict | list) or value is None:
        return ""
    return str(value) if str(value).strip() else ""


def label_from(node: Any) -> Label:
    """The label of a YAML value `label_problem` accepts."""
    if isinstance(node, dict):
        return Label(**{str(lang): label_text(text) for lang, text in node.items()})
    return Label(label_text(node))


@dataclass(frozen=True)
class Aspect:
    id: str
    label: Label


@dataclass(frozen=True)
class Block:
    id: str  # "I" .. "V"
    label: Label
    goal: Label


@dataclass(frozen=True)
class Theme:
    id: str
    block: str | None  # None: a theme of the catalogue outside the five blocks
    aspect: str
    label: Label


GLOBAL_REGION = "global"  # a partner that works in every region


@dataclass(frozen=True)
class Partner:
    code: str
    name: str
    kind: str  # founder | associate | national | invited
    country: str | None
    language: str
    email: str | None
    # the regions of courses it may co-organise as the regional partner ("global": any)
    regions: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # other codes it is known by (the brochure's short names)

    def serves(self, region: str) -> bool:
        return GLOBAL_REGION in self.regions or region in self.regions


class PartnerIndex(dict[str, Partner]):
    """The partner catalogue by code; a partner's aliases (`CAPEL` for `IIHR_CAPEL`) are
    found too (`in`, `get`, `[]`), while listing it gives each partner once, by its code."""

    def __init__(self, partners: dict[str, Partner]) -> None:
        super().__init__(partners)
        self.aliases = {a: p.code for p in partners.values() for a in p.aliases}

    def canonical(self, code: object) -> str | None:
        if not isinstance(code, str):
            return None
        return code if dict.__contains__(self, code) else self.aliases.get(code)

    def __contains__(self, code: object) -> bool:
        return self.canonical(code) is not None

    def __getitem__(self, code: str) -> Partner:
        return dict.__getitem__(self, self.canonical(code) or code)

    def get(self, code: str, default: Any = None) -> Any:
        found = self.canonical(code)
        return dict.__getitem__(self, found) if found is not None else default


@dataclass(frozen=True)
class CostCategory:
    id: str
    label: Label
    allowed_payers: tuple[str, ...]
    # the programmes in which this cost may not arise at all (payer `not_needed`)
    not_needed_in: tuple[str, ...] = ()

    def payers_for(self, programme: str | None) -> tuple[str, ...]:
        """Who may pay it in `programme`: the allowed payers, and `not_needed` where the
        programme is one in which the cost may not arise."""
        if programme in self.not_needed_in and NOT_NEEDED not in self.allowed_payers:
            return (*self.allowed_payers, NOT_NEEDED)
        return self.allowed_payers


NOT_NEEDED = "not_needed"


@dataclass(frozen=True)
class FinancingRules:
    payers: dict[str, Label]
    categories: dict[str, CostCategory]

    def payer_problems(self, matrix: dict[str, Any]) -> list[str]:
        """Why a cost-sharing matrix is incomplete or breaks the rules (empty when fine)."""
        problems = []
        for cat in self.categories.values():
            payer = matrix.get(cat.id)
            if not payer:
                problems.append(f"No payer set for '{cat.label.en}'.")
            elif payer not in cat.allowed_payers:
                allowed = ", ".join(self.payers[p].en for p in cat.allowed_payers)
                problems.append(
                    f"'{cat.label.en}' cannot be paid by '{payer}' under CICIE's cost-sharing "
                    f"rules (allowed: {allowed})."
                )
        for key in matrix:
            if key not in self.categories:
                problems.append(f"'{key}' is not a cost category.")
        return problems


@dataclass(frozen=True)
class Catalogues:
    aspects: dict[str, Aspect]
    blocks: dict[str, Block]
    themes: dict[str, Theme]
    partners: dict[str, Partner]
    financing: FinancingRules
    countries: frozenset[str]

    def founders(self) -> list[Partner]:
        return [p for p in self.partners.values() if p.kind == "founder"]

    def invited(self) -> list[Partner]:
        """Organisations invited to take part (OSCE, NDI…), never partners."""
        return [p for p in self.partners.values() if p.kind == "invited"]


class InvalidCatalogue(ValueError):
    """A catalogue file that cannot be read; the message lists `path:line: problem`s."""


class _Labels:
    """Reads the labels of one catalogue file, collecting every problem with its line."""

    def __init__(self, path: Path, root: Any) -> None:
        self.path, self.root = path, root
        self.problems: list[str] = []

    def __call__(self, *where: Any) -> Label:
        node: Any = self.root
        for step in where:
            if isinstance(node, dict):
                node = node.get(step)
            elif isinstance(node, list) and isinstance(step, int) and step < len(node):
                node = node[step]
            else:
                node = None
        problem = label_problem(node)
        if problem is None:
            return label_from(node)
        self.problems.append(f"{self.path}:{line_of(self.root, where)}: {problem}")
        return Label("?")

    def check(self) -> None:
        if self.problems:
            raise InvalidCatalogue("\n".join(self.problems))


def _read(directory: Path, name: str) -> Any:
    """A catalogue file through the shared reader: YAML 1.2 scalars (`NO` is Norway, not
    false), bounded, every problem with its line."""
    path = directory / name
    try:
        value, problems = parse(read_text(path))
    except ReadRefused as exc:
        problems = exc.problems
    if problems:
        raise InvalidCatalogue("\n".join(f"{path}:{p.line}: {p.message}" for p in problems))
    return value


def _countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes Babel (CLDR) knows, without numeric regions."""
    return frozenset(
        str(code) for code in Locale("en").territories if isinstance(code, str) and len(code) == 2
    )


@cache
def load_catalogues(directory: Path = CATALOGUE_DIR) -> Catalogues:
    themes_raw = _read(directory, "themes.yaml")
    label = _Labels(directory / "themes.yaml", themes_raw)
    aspects = {
        a["id"]: Aspect(a["id"], label("aspects", i, "label"))
        for i, a in enumerate(themes_raw["aspects"])
    }
    blocks = {
        b["id"]: Block(b["id"], label("blocks", i, "label"), label("blocks", i, "goal"))
        for i, b in enumerate(themes_raw["blocks"])
    }
    themes = {
        t["id"]: Theme(t["id"], t.get("block"), t["aspect"], label("themes", i, "label"))
        for i, t in enumerate(themes_raw["themes"])
    }
    label.check()
    partners = PartnerIndex(
        {
            p["code"]: Partner(
                p["code"],
                p["name"],
                p["kind"],
                p.get("country"),
                p["language"],
                p.get("email"),
                tuple(str(r) for r in p.get("regions") or ()),
                tuple(str(a) for a in p.get("aliases") or ()),
            )
            for p in _read(directory, "partners.yaml")["partners"]
        }
    )
    fin = _read(directory, "financing.yaml")
    label = _Labels(directory / "financing.yaml", fin)
    financing = FinancingRules(
        payers={k: label("payers", k) for k in fin["payers"]},
        categories={
            c["id"]: CostCategory(
                c["id"],
                label("categories", i, "label"),
                tuple(c["allowed_payers"]),
                tuple(c.get("not_needed_in") or ()),
            )
            for i, c in enumerate(fin["categories"])
        },
    )
    label.check()
    return Catalogues(aspects, blocks, themes, partners, financing, _countries())
