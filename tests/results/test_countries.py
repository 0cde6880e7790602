"""Country names as CICIE's documents spell them resolve to ISO codes; continents follow the
brochure's own grouping."""

from __future__ import annotations

import pytest

from results import countries


@pytest.mark.parametrize(
    ("printed", "code"),
    [
        ("Haití", "HT"),
        ("Irak", "IQ"),
        ("Bosnia & Herzegovina", "BA"),
        ("Timor Leste", "TL"),
        ("Afganistan", "AF"),
        ("Macedonia", "MK"),
        ("The Russian Federation", "RU"),
        ("Rusia", "RU"),
        ("Lituania", "LT"),
        ("Mauricio", "MU"),
        ("the Dominican Republic", "DO"),
        ("el Salvador", "SV"),
        ("Palestine", "PS"),
        ("Czech Republic", "CZ"),
        ("PE", "PE"),
    ],
)
def test_brochure_spellings_resolve_to_iso_codes(printed: str, code: str) -> None:
    assert countries.resolve(printed) == code


@pytest.mark.parametrize("text", ["Narnia", "The Russian Federatioin", "XX", "EU", "pe"])
def test_unknown_names_and_non_countries_do_not_resolve(text: str) -> None:
    assert countries.resolve(text) is None


def test_georgia_counts_as_europe_as_the_brochure_lists_it() -> None:
    assert countries.continent("GE") == "Europe"
    assert countries.continent("LB") == "Asia"
    assert countries.continent("MX") == "America"


def test_every_country_but_antarctica_has_one_of_the_five_continents() -> None:
    without = {c for c in countries.codes() if countries.continent(c) is None}
    assert without == {"AQ"}
    assert set(countries.CONTINENT_OF.values()) == set(countries.CONTINENTS)
