"""Countries: ISO 3166-1 alpha-2 codes ↔ names ↔ continents.

Names come from Babel (CLDR) in the languages the brochure and its readers mix — English,
Spanish, French, Portuguese — plus the few spellings CLDR does not have ("Macedonia",
"Palestine", "The Russian Federation"), so that a file can name a country either way and an
unknown name is caught instead of guessed.

Continents are the brochure's five ("4 of the 5 continents"): Africa, America, Asia, Europe,
Oceania, following the UN M49 regions except where the brochure itself decides otherwise:
it lists Georgia under Europe (workshops 2011, course of December 2013), so the South
Caucasus (Georgia, Armenia, Azerbaijan) and Cyprus count as Europe here. Antarctica and
CLDR's pseudo-regions have no continent.

An activity whose countries span several continents (a course for Latin America and the Arab
world, say) belongs to none of them: it is **inter-regional** (`INTER_REGIONAL`), a category
of its own in every table and chart, never the continent of its first country.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from babel import Locale

CONTINENTS = ("Africa", "America", "Asia", "Europe", "Oceania")
# the category of an activity spanning continents (a key of i18n.vocabulary.CONTINENTS)
INTER_REGIONAL = "Inter-regional"
# the continent of each region of the history format and the course workflow (results/
# history_format.py REGIONS); the Arab States span Africa and Asia, so they decide nothing
REGION_CONTINENT: dict[str, str] = {
    "latin_america": "America",
    "caribbean": "America",
    "north_america": "America",
    "africa": "Africa",
    "europe": "Europe",
    "asia_pacific": "Asia",
}

_BY_CONTINENT = {
    "Africa": (
        "AC DG DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EA EG GQ ER SZ ET GA GM GH GN GW IC "
        "IO KE LS LR LY MG MW ML MR MU YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD TA "
        "TF TZ TG TN UG EH ZM ZW"
    ),
    "America": (
        "AI AG AR AW BS BB BZ BM BO BQ BV BR CA KY CL CO CR CU CW DM DO EC SV FK GF GL GD GP "
        "GT GY HT HN JM MQ MX MS NI PA PY PE PR BL KN LC MF PM VC SX GS SR TT TC US UY VE VG VI"
    ),
    "Asia": (
        "AF BH BD BT BN KH CN HK IN ID IR IQ IL JP JO KZ KP KR KW KG LA LB MO MY MV MN MM NP "
        "OM PK PS PH QA SA SG LK SY TW TJ TH TL TR TM AE UZ VN YE"
    ),
    "Europe": (
        "AX AL AD AM AT AZ BY BE BA BG CQ HR CY CZ DK EE FO FI FR GE DE GI GR GG VA HU IS IE "
        "IM IT JE LV LI LT LU MT MD MC ME NL MK NO PL PT RO RU SM RS SK SI ES SJ SE CH UA GB XK"
    ),
    "Oceania": (
        "AS AU CC CK CP CX FJ PF GU HM KI MH FM NR NC NZ NU NF MP PW PG PN WS SB TK TO TV UM VU WF"
    ),
}
CONTINENT_OF: dict[str, str] = {
    code: continent for continent, codes in _BY_CONTINENT.items() for code in codes.split()
}

# CLDR regions that are not countries: never matched by name, never accepted as a code.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})

# Spellings found in CICIE's documents (and common ones) that CLDR does not list.
ALIASES: dict[str, str] = {
    "macedonia": "MK",
    "fyr macedonia": "MK",
    "former yugoslav republic of macedonia": "MK",
    "palestine": "PS",
    "state of palestine": "PS",
    "palestina": "PS",
    "russian federation": "RU",
    "federacion de rusia": "RU",
    "east timor": "TL",
    "timor oriental": "TL",
    "czech republic": "CZ",
    "republica checa": "CZ",
    "ivory coast": "CI",
    "swaziland": "SZ",
    "burma": "MM",
    "republic of korea": "KR",
    "democratic republic of the congo": "CD",
    "republic of the congo": "CG",
    "united states of america": "US",
    "usa": "US",
    "uk": "GB",
    "great britain": "GB",
    "vatican": "VA",
    "holy see": "VA",
    "turkey": "TR",
    "cabo verde": "CV",
    "moldavia": "MD",
    "republic of moldova": "MD",
    "bolivia plurinational state of": "BO",
    "venezuela bolivarian republic of": "VE",
    "iran islamic republic of": "IR",
    "tanzania united republic of": "TZ",
    "united republic of tanzania": "TZ",
    "lao pdr": "LA",
    "viet nam": "VN",
    "syrian arab republic": "SY",
}


def normalise_name(text: str) -> str:
    """The key names are compared by: no accents, no case, no punctuation, no leading 'the'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    plain = plain.replace("&", " and ")
    plain = re.sub(r"[^\w]+", " ", plain).strip()
    plain = re.sub(r"^(the|la|le|les|el|los|las|l) ", "", plain)
    return re.sub(r"\s+", " ", plain)


@cache
def _territories(language: str) -> dict[str, str]:
    return {
        str(code): str(name)
        for code, name in Locale(language).territories.items()
        if isinstance(code, str) and len(code) == 2 and code not in _NOT_COUNTRIES
    }


@cache
def _name_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for language in ("en", "es", "fr", "pt"):
        for code, name in _territories(language).items():
            index.setdefault(normalise_name(name), code)
            # CLDR's "Myanmar (Burma)", "Hong Kong SAR China": the part before the bracket too
            short = re.split(r"\(| SAR ", name)[0]
            index.setdefault(normalise_name(short), code)
    for alias, code in ALIASES.items():
        index.setdefault(normalise_name(alias), code)
    return index


def codes() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 code accepted."""
    return frozenset(_territories("en"))


def is_code(text: str) -> bool:
    return text in codes()


def resolve(text: str) -> str | None:
    """An ISO code (given as a code or as a name in en/es/fr/pt) or None when unknown."""
    stripped = text.strip()
    if len(stripped) == 2 and stripped.isupper():
        return stripped if is_code(stripped) else None
    return _name_index().get(normalise_name(stripped))


def name(code: str, language: str = "en") -> str:
    """The country's name in `language`, or the code itself if CLDR has none."""
    return _territories(language).get(code) or _territories("en").get(code) or code


def continent(code: str) -> str | None:
    return CONTINENT_OF.get(code)
