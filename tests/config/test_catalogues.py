"""The catalogues transcribe the brochure: aspects, blocks, themes, partners, cost sharing."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from config.catalogues import (
    CATALOGUE_DIR,
    LANGUAGES,
    Catalogues,
    InvalidCatalogue,
    Label,
    load_catalogues,
)
from config.yaml_reader import parse, read_text


@pytest.fixture(scope="module")
def cat() -> Catalogues:
    return load_catalogues()


def raw(name: str) -> Any:
    return parse(read_text(CATALOGUE_DIR / name))[0]


def filled(label: Label) -> bool:
    return all(getattr(label, lang).strip() for lang in ("es", "en", "fr"))


# ------------------------------------------------------------------ themes


def test_four_aspects_of_electoral_administration(cat: Catalogues) -> None:
    assert list(cat.aspects) == [
        "ethical_institutional",
        "administrative_managerial",
        "legal_political",
        "technical_technological",
    ]


def test_five_blocks_by_institutional_strength(cat: Catalogues) -> None:
    assert list(cat.blocks) == ["I", "II", "III", "IV", "V"]
    assert cat.blocks["I"].label.en == "Institutionalisation"
    assert cat.blocks["V"].goal.en == "Efficiency and optimisation"


def test_every_label_has_spanish_english_and_french(cat: Catalogues) -> None:
    labels = [a.label for a in cat.aspects.values()]
    labels += [b.label for b in cat.blocks.values()] + [b.goal for b in cat.blocks.values()]
    labels += [t.label for t in cat.themes.values()]
    labels += list(cat.financing.payers.values())
    labels += [c.label for c in cat.financing.categories.values()]
    assert all(filled(label) for label in labels)


def test_theme_ids_are_unique() -> None:
    ids = Counter(t["id"] for t in raw("themes.yaml")["themes"])
    assert [i for i, n in ids.items() if n > 1] == []


def test_every_theme_has_a_known_block_and_aspect(cat: Catalogues) -> None:
    for theme in cat.themes.values():
        assert theme.block is None or theme.block in cat.blocks, theme.id
        assert theme.aspect in cat.aspects, theme.id


def test_every_block_and_aspect_has_themes(cat: Catalogues) -> None:
    assert {t.block for t in cat.themes.values()} - {None} == set(cat.blocks)
    assert {t.aspect for t in cat.themes.values()} == set(cat.aspects)


def test_electoral_justice_appears_in_four_blocks(cat: Catalogues) -> None:
    blocks = sorted(t.block for t in cat.themes.values() if t.label.en == "Electoral justice")
    assert blocks == ["I", "II", "III", "IV"]


def test_civic_education_appears_in_the_first_two_blocks(cat: Catalogues) -> None:
    blocks = sorted(t.block for t in cat.themes.values() if t.id.endswith(".civic_education"))
    assert blocks == ["I", "II"]


@pytest.mark.parametrize(
    ("theme", "block", "aspect"),
    [
        ("electoral_cycle.voter_registry", "III", "technical_technological"),
        ("consolidation.voting_from_abroad", "IV", "administrative_managerial"),
        ("consolidation.party_finance_audit", "IV", "administrative_managerial"),
        ("specialisation.electronic_voting", "V", "technical_technological"),
        ("institutionalisation.electoral_legislation", "I", "legal_political"),
    ],
)
def test_brochure_theme_is_placed(cat: Catalogues, theme: str, block: str, aspect: str) -> None:
    assert (cat.themes[theme].block, cat.themes[theme].aspect) == (block, aspect)


def test_block_sizes_follow_the_brochure(cat: Catalogues) -> None:
    sizes = Counter(t.block for t in cat.themes.values() if t.block is not None)
    assert sizes == {"I": 5, "II": 5, "III": 12, "IV": 5, "V": 4}


# ------------------------------------------------------------------ partners


def test_founders_are_the_four_permanent_members(cat: Catalogues) -> None:
    founders = cat.founders()
    assert [p.code for p in founders] == ["INE", "TEPJF", "UNDP_MX", "AMEXCID"]
    assert {p.language for p in founders} == {"es"}
    assert {p.country for p in founders} == {"MX"}


def test_associate_partners_of_the_brochure(cat: Catalogues) -> None:
    associates = {p.code for p in cat.partners.values() if p.kind == "associate"}
    assert associates == {
        "UNEAD",
        "IDEA",
        "IIHR_CAPEL",
        "OAS",
        "IFES",
        "ELECTIONS_CANADA",
        "ACEEEO",
        "EISA",
        "COMMUNITY_OF_DEMOCRACIES",
        "UNDP_ARAB",
    }


def test_fepade_is_a_national_stakeholder(cat: Catalogues) -> None:
    assert cat.partners["FEPADE"].kind == "national"
    assert cat.partners["FEPADE"].country == "MX"


def test_partner_codes_are_unique() -> None:
    codes = Counter(p["code"] for p in raw("partners.yaml")["partners"])
    assert [c for c, n in codes.items() if n > 1] == []


def test_partner_fields_are_valid(cat: Catalogues) -> None:
    for partner in cat.partners.values():
        assert partner.kind in ("founder", "associate", "national", "invited"), partner.code
        assert partner.language in LANGUAGES, partner.code
        assert partner.country is None or partner.country in cat.countries, partner.code
        assert partner.name.strip(), partner.code


def test_partner_addresses_are_placeholders(cat: Catalogues) -> None:
    for partner in cat.partners.values():
        assert partner.email is not None
        assert partner.email.endswith("@example.org"), partner.code


NORWAY = """
  - code: NO_EMB
    name: Valgdirektoratet
    kind: national
    country: NO
    language: en
    email: cicie.valg@example.org
"""


def copy_of_catalogues(tmp_path: Path, partners_tail: str) -> Path:
    folder = tmp_path / "catalogues"
    shutil.copytree(CATALOGUE_DIR, folder)
    with open(folder / "partners.yaml", "a", encoding="utf-8") as fh:
        fh.write(partners_tail)
    return folder


def test_norway_is_a_country_code_not_false(tmp_path: Path) -> None:
    """YAML 1.1 reads `NO` as false ("unknown country 'False'"); the catalogues read 1.2."""
    cat = load_catalogues(copy_of_catalogues(tmp_path, NORWAY))
    assert cat.partners["NO_EMB"].country == "NO"
    assert "NO" in cat.countries


def test_a_broken_catalogue_names_its_file_and_line(tmp_path: Path) -> None:
    folder = copy_of_catalogues(tmp_path, NORWAY.replace("country: NO", "country: !!python/none"))
    line = (folder / "partners.yaml").read_text(encoding="utf-8").splitlines().index(
        "    country: !!python/none"
    ) + 1
    with pytest.raises(InvalidCatalogue) as caught:
        load_catalogues(folder)
    assert str(caught.value) == (
        f"{folder / 'partners.yaml'}:{line}: the tag !!python/none is not allowed: "
        "write plain values (text, numbers, true/false)"
    )


# ------------------------------------------------------------------ financing

STANDARD = {
    "lodging_meals": "founders",
    "local_transport": "founders",
    "organisation_materials": "founders",
    "specialists": "founders",
    "interpretation": "founders",
    "delegates_air_tickets": "emb",
    "international_experts": "associate_partner",
}


def test_payers_and_categories(cat: Catalogues) -> None:
    assert set(cat.financing.payers) == {"founders", "emb", "associate_partner", "not_needed"}
    assert list(cat.financing.categories) == list(STANDARD)


def test_allowed_payers_are_declared(cat: Catalogues) -> None:
    for category in cat.financing.categories.values():
        assert category.allowed_payers, category.id
        assert set(category.allowed_payers) <= set(cat.financing.payers), category.id


def test_brochure_cost_sharing_is_accepted(cat: Catalogues) -> None:
    assert cat.financing.payer_problems(STANDARD) == []


@pytest.mark.parametrize(
    "category",
    ["lodging_meals", "local_transport", "organisation_materials", "specialists"],
)
def test_founders_alone_pay_their_share(cat: Catalogues, category: str) -> None:
    assert cat.financing.categories[category].allowed_payers == ("founders",)


def test_interpretation_may_be_not_needed(cat: Catalogues) -> None:
    assert cat.financing.payer_problems({**STANDARD, "interpretation": "not_needed"}) == []


def test_emb_pays_delegates_air_tickets(cat: Catalogues) -> None:
    (problem,) = cat.financing.payer_problems({**STANDARD, "delegates_air_tickets": "founders"})
    assert problem.startswith("'Delegates' air tickets to Mexico City' cannot be paid by")


def test_international_experts_paid_by_partner_or_founders(cat: Catalogues) -> None:
    for payer in ("associate_partner", "founders", "not_needed"):
        matrix = {**STANDARD, "international_experts": payer}
        assert cat.financing.payer_problems(matrix) == []
    (problem,) = cat.financing.payer_problems({**STANDARD, "international_experts": "emb"})
    assert "Fees and air tickets of international experts" in problem
