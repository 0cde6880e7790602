"""The catalogues the workflows refer to by name: themes, partners, financing rules.

They are data (`config/catalogues/*.yaml`), read once into frozen objects, so a workflow file
that names an unknown theme or payer is refused at load time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale

from config.yaml_reader import ReadRefused, parse, read_text

CATALOGUE_DIR = Path(__file__).parent / "catalogues"
LANGUAGES = ("es", "en", "fr", "pt", "ar", "ru")


@dataclass(frozen=True)
class Label:
    es: str
    en: str
    fr: str

    def get(self, lang: str) -> str:
        return getattr(self, lang, None) or self.en


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
    block: str
    aspect: str
    label: Label


@dataclass(frozen=True)
class Partner:
    code: str
    name: str
    kind: str  # founder | associate | national
    country: str | None
    language: str
    email: str | None


@dataclass(frozen=True)
class CostCategory:
    id: str
    label: Label
    allowed_payers: tuple[str, ...]


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


def _label(raw: dict[str, str]) -> Label:
    return Label(es=raw["es"], en=raw["en"], fr=raw["fr"])


class InvalidCatalogue(ValueError):
    """A catalogue file that cannot be read; the message lists `path:line: problem`s."""


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
    aspects = {a["id"]: Aspect(a["id"], _label(a["label"])) for a in themes_raw["aspects"]}
    blocks = {
        b["id"]: Block(b["id"], _label(b["label"]), _label(b["goal"])) for b in themes_raw["blocks"]
    }
    themes = {
        t["id"]: Theme(t["id"], t["block"], t["aspect"], _label(t["label"]))
        for t in themes_raw["themes"]
    }
    partners = {
        p["code"]: Partner(
            p["code"], p["name"], p["kind"], p.get("country"), p["language"], p.get("email")
        )
        for p in _read(directory, "partners.yaml")["partners"]
    }
    fin = _read(directory, "financing.yaml")
    financing = FinancingRules(
        payers={k: _label(v) for k, v in fin["payers"].items()},
        categories={
            c["id"]: CostCategory(c["id"], _label(c["label"]), tuple(c["allowed_payers"]))
            for c in fin["categories"]
        },
    )
    return Catalogues(aspects, blocks, themes, partners, financing, _countries())
