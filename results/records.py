"""What the results are made of, wherever they come from (an imported file, the database, a
request handled in the system), and the check of a source's stated figures against its own
entries — one function, so the import and every later report say the same thing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from results import countries

PROGRAMMES = (
    "international_workshop",
    "internship",
    "specialization_course",
    "seminar",
    "technical_assistance",
)
STATUSES = ("held", "planned")
NOUNS = {
    "international_workshop": ("workshop", "workshops"),
    "internship": ("internship", "internships"),
    "specialization_course": ("specialization course", "specialization courses"),
    "seminar": ("seminar", "seminars"),
    "technical_assistance": ("technical assistance mission", "technical assistance missions"),
}
# Programmes that serve one requesting country: an entry of theirs must name it.
SERVES_A_COUNTRY = ("international_workshop", "internship", "technical_assistance")


def noun(programme: str, n: int = 2) -> str:
    singular, plural = NOUNS.get(programme, (programme, programme))
    return singular if n == 1 else plural


@dataclass(frozen=True)
class ActivityRecord:
    """One activity. `key` identifies it within its source across re-imports."""

    key: str
    programme: str
    year: int
    status: str = "held"
    countries: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    period: str | None = None
    title: str = ""
    region: str | None = None
    listed_under: str | None = None
    participants: int | None = None
    institutions: int | None = None
    partners: tuple[str, ...] = ()
    # organisations invited to take part (the brochure's "invitation to international
    # specialized bodies: OSCE, IDEA International, NDI"): not co-organisers, not partners
    invited: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    stated_countries: int | None = None
    stated_continents: int | tuple[str, ...] | None = None
    as_printed: str | None = None
    reading: str | None = None
    notes: str | None = None
    source: str = ""
    request_id: int | None = None
    line: int = 0  # where it was read from (files only; never stored)

    @property
    def continent(self) -> str | None:
        """Derived from the countries. An entry whose countries span continents counts under
        the continent its source printed it in (`listed_under`), else under its region's
        continent when its countries include it (the 2011 course "for authorities from Africa
        and Haiti"), else it is inter-regional (`countries.INTER_REGIONAL`) — never the
        continent of its first country."""
        found = {c for c in (countries.continent(code) for code in self.countries) if c}
        if not found:
            return self.listed_under
        if len(found) == 1:
            return found.pop()
        if self.listed_under:
            return self.listed_under
        by_region = countries.REGION_CONTINENT.get(self.region or "")
        return by_region if by_region in found else countries.INTER_REGIONAL

    def continents_reached(self) -> set[str]:
        """The continents this entry counts in: its own, or each of its countries' when it is
        inter-regional ("4 of the 5 continents" counts continents, not categories)."""
        own = self.continent
        if own != countries.INTER_REGIONAL:
            return {own} if own else set()
        return {c for code in self.countries if (c := countries.continent(code))}

    def describe(self) -> str:
        """How a person finds this entry in the source."""
        if self.title:
            when = f" ({self.period})" if self.period else ""
            return f"{self.year} {noun(self.programme, 1)} '{self.title}'{when}"
        where = self.as_printed or ", ".join(countries.name(c) for c in self.countries)
        return f"{self.year} {noun(self.programme, 1)} for {where}"

    def stated(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.stated_countries is not None:
            out["countries"] = self.stated_countries
        if self.stated_continents is not None:
            sc = self.stated_continents
            out["continents"] = sc if isinstance(sc, int) else list(sc)
        return out


@dataclass(frozen=True)
class Claim:
    """A figure a source prints about a set of its entries: how many activities, how many
    distinct countries, how many (or which) continents — for a programme, optionally a year
    and a continent."""

    programme: str
    status: str = "held"
    year: int | None = None
    continent: str | None = None
    activities: int | None = None
    countries: int | None = None
    continents: int | tuple[str, ...] | None = None
    as_printed: str | None = None
    line: int = 0

    def matches(self, activity: ActivityRecord) -> bool:
        return (
            activity.programme == self.programme
            and activity.status == self.status
            and (self.year is None or activity.year == self.year)
            and (self.continent is None or activity.continent == self.continent)
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"programme": self.programme, "status": self.status}
        for name in ("year", "continent", "activities", "countries", "as_printed"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.continents is not None:
            c = self.continents
            out["continents"] = c if isinstance(c, int) else list(c)
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Claim:
        continents = raw.get("continents")
        return cls(
            programme=raw["programme"],
            status=raw.get("status", "held"),
            year=raw.get("year"),
            continent=raw.get("continent"),
            activities=raw.get("activities"),
            countries=raw.get("countries"),
            continents=tuple(continents) if isinstance(continents, list) else continents,
            as_printed=raw.get("as_printed"),
        )


@dataclass(frozen=True)
class Discrepancy:
    """A place where a source's stated figure disagrees with what its entries list."""

    source: str
    where: str
    message: str
    stated: Any = None
    listed: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "where": self.where,
            "message": self.message,
            "stated": self.stated,
            "listed": self.listed,
        }


@dataclass
class Topic:
    """A topic the source says was most requested, with the catalogue theme it maps to."""

    text: str
    theme: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "theme": self.theme}


@dataclass
class HistorySource:
    """Everything one file says: its entries, its stated figures, its most-requested topics."""

    name: str
    title: str
    activities: list[ActivityRecord] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)


def _scope(claim: Claim, matched: Sequence[ActivityRecord]) -> str:
    status = "planned " if claim.status == "planned" else ""
    text = f"{status}{noun(claim.programme)}"
    if claim.continent:
        text += f" in {claim.continent}"
    if claim.year is not None:
        text += f" {claim.year}"
    elif matched:
        first, last = min(a.year for a in matched), max(a.year for a in matched)
        text += f" {first}–{last}" if first != last else f" {first}"
    return text


def _continent_figure(stated: int | tuple[str, ...], reached: set[str]) -> tuple[bool, Any, Any]:
    """(agrees, stated, listed) for a continents figure given as a number or as names."""
    if isinstance(stated, int):
        return stated == len(reached), stated, len(reached)
    return set(stated) == reached, sorted(stated), sorted(reached)


def check(
    source: str, activities: Iterable[ActivityRecord], claims: Iterable[Claim]
) -> list[Discrepancy]:
    """Every stated figure of `source` that its entries do not bear out, in source order."""
    entries = list(activities)
    found: list[Discrepancy] = []
    for claim in claims:
        matched = [a for a in entries if claim.matches(a)]
        where = _scope(claim, matched)
        printed = f" (printed: {claim.as_printed!r})" if claim.as_printed else ""
        if claim.activities is not None and claim.activities != len(matched):
            found.append(
                Discrepancy(
                    source,
                    where,
                    f"{where}: the source states {claim.activities} "
                    f"{noun(claim.programme, claim.activities)} but its entries list "
                    f"{len(matched)}{printed}",
                    claim.activities,
                    len(matched),
                )
            )
        reached = sorted({c for a in matched for c in a.countries})
        if claim.countries is not None and claim.countries != len(reached):
            found.append(
                Discrepancy(
                    source,
                    where,
                    f"{where}: the source states {claim.countries} countries but its entries "
                    f"name {len(reached)} distinct countries ({', '.join(reached)}){printed}",
                    claim.countries,
                    len(reached),
                )
            )
        if claim.continents is not None:
            conts = {c for a in matched for c in a.continents_reached()}
            agrees, stated, listed = _continent_figure(claim.continents, conts)
            if not agrees:
                found.append(
                    Discrepancy(
                        source,
                        where,
                        f"{where}: the source states continents {stated} but its entries "
                        f"reach {listed}{printed}",
                        stated,
                        listed,
                    )
                )
    for a in entries:
        distinct = sorted(set(a.countries))
        if a.stated_countries is not None and a.stated_countries != len(distinct):
            found.append(
                Discrepancy(
                    source,
                    a.describe(),
                    f"{a.describe()}: the source states {a.stated_countries} countries but "
                    f"lists {len(distinct)} ({', '.join(distinct)})",
                    a.stated_countries,
                    len(distinct),
                )
            )
        derived = {c for code in a.countries if (c := countries.continent(code))}
        if a.stated_continents is not None:
            agrees, stated, listed = _continent_figure(a.stated_continents, derived)
            if not agrees:
                found.append(
                    Discrepancy(
                        source,
                        a.describe(),
                        f"{a.describe()}: the source states continents {stated} but its "
                        f"countries are in {listed}",
                        stated,
                        listed,
                    )
                )
        if a.listed_under and derived and a.listed_under not in derived:
            found.append(
                Discrepancy(
                    source,
                    a.describe(),
                    f"{a.describe()}: listed under {a.listed_under} but its countries are in "
                    f"{', '.join(sorted(derived))}",
                    a.listed_under,
                    sorted(derived),
                )
            )
    return found
