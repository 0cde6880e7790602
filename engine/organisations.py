"""Electoral management bodies (and the other organisations that request programmes): register
one, list them, repair one's name, language, e-mail address or kind, deactivate and reactivate
one, and import many from a file.

An EMB's address is where partner mail about its requests goes, so a bad one refuses every
transition that writes to it; `update` is how a coordinator repairs it. `check_organisation` is
the one check of an organisation's values: `add`, `update`, the web form (/organisations) and
the import (`cicie emb import`) all use it. Each operation is one transaction; an import is one
transaction for the whole file, and writes nothing when any row is refused.

A deactivated organisation keeps its requests and their history but may not open new ones
(`engine.operations.create` refuses, naming how to reactivate it); reactivating it undoes that."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from config.catalogues import LANGUAGES, Catalogues
from engine.clock import Clock
from engine.errors import InvalidData, NotFound
from engine.views import EmbView
from i18n import Text
from storage import embs
from storage.db import Database
from workflows.definition import ORGANISATION_KINDS
from workflows.fields import EMAIL_RE

MAX_CODE = 40
MAX_NAME = 300
MAX_EMAIL = 254
_CODE = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_CODE}}}")  # ASCII only: it is typed in commands
# the values an organisation has, in the order a form or a file gives them
FIELDS = ("code", "name", "country", "language", "email", "kind")
# territories CLDR names that no organisation is in (the catalogue's countries come from CLDR)
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"})


def organisation_countries(catalogues: Catalogues) -> frozenset[str]:
    """The country codes an organisation may have (ISO 3166-1 alpha-2)."""
    return catalogues.countries - _NOT_COUNTRIES


def _view(row: embs.EmbRow) -> EmbView:
    return EmbView(
        row.id, row.code, row.name, row.country, row.language, row.email, row.kind, row.active
    )


def check_organisation(
    values: Mapping[str, str | None], countries: Collection[str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The one check of an organisation's values (those of `FIELDS` that `values` gives; the
    others are not looked at): the values normalised (code, name and kind trimmed, country in
    capitals, language in small letters, an empty e-mail address as None: no address) and the
    problems, one `{"field", "message"}` per field, the message an `i18n.Text`."""
    clean: dict[str, Any] = {}
    problems: list[dict[str, Any]] = []

    def refuse(name: str, message: Text) -> None:
        problems.append({"field": name, "message": message})

    if "code" in values:
        code = clean["code"] = (values["code"] or "").strip()
        if not _CODE.fullmatch(code):
            refuse(
                "code",
                Text(
                    "Use 1 to %(max)s letters (A to Z), digits, hyphens or underscores, "
                    "without spaces.",
                    max=MAX_CODE,
                ),
            )
    if "name" in values:
        raw = values["name"] or ""
        name = clean["name"] = raw.strip()
        if not name or len(name) > MAX_NAME or "\n" in raw or "\r" in raw:
            refuse("name", Text("One line of 1 to %(max)s characters.", max=MAX_NAME))
    if "country" in values:
        country = clean["country"] = (values["country"] or "").strip().upper()
        if country not in countries:
            refuse("country", Text("Use a two-letter ISO 3166 country code, such as MX or PE."))
    if "language" in values:
        language = clean["language"] = (values["language"] or "").strip().lower()
        if language not in LANGUAGES:
            refuse(
                "language",
                Text("Use one of the languages of mail: %(codes)s.", codes=", ".join(LANGUAGES)),
            )
    if "email" in values:
        email = clean["email"] = values["email"] or None
        if email is not None and (len(email) > MAX_EMAIL or not EMAIL_RE.fullmatch(email)):
            refuse("email", Text("not a single valid e-mail address"))
    if "kind" in values:
        kind = clean["kind"] = (values["kind"] or "").strip()
        if kind not in ORGANISATION_KINDS:
            refuse(
                "kind",
                Text("Use one of the kinds: %(codes)s.", codes=", ".join(ORGANISATION_KINDS)),
            )
    return clean, problems


def _insert(conn: sa.Connection, values: Mapping[str, Any], now: datetime) -> int:
    """Write a new organisation (checked values): `add` and the import."""
    return embs.insert(
        conn,
        code=values["code"],
        name=values["name"],
        country=values["country"],
        language=values["language"],
        email=values["email"],
        now=now,
        kind=values.get("kind") or "emb",
    )


def _change(conn: sa.Connection, emb_id: int, changes: Mapping[str, Any]) -> None:
    """Write changes to an organisation (checked values): `update`, the import, `set_active`."""
    embs.update(conn, emb_id, **changes)


@dataclass
class ImportReport:
    """What an import did (or, with `dry_run`, would do): the codes created, updated and
    unchanged, or the problems, each `{"row", "field", "message"}` (`row`: the line of the
    file, the header being line 1; None for the file as a whole). Nothing is written when
    there is any problem."""

    dry_run: bool
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self, language: str) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [
                {
                    "row": e["row"],
                    "field": e["field"],
                    "message": e["message"].say(language)
                    if isinstance(e["message"], Text)
                    else str(e["message"]),
                }
                for e in self.errors
            ],
        }


class Organisations:
    def __init__(self, db: Database, catalogues: Catalogues, clock: Clock) -> None:
        self.db = db
        self.catalogues = catalogues
        self.clock = clock

    def add(
        self,
        *,
        code: str,
        name: str,
        country: str,
        language: str,
        email: str | None = None,
        kind: str = "emb",
    ) -> EmbView:
        given = {
            "code": code,
            "name": name,
            "country": country,
            "language": language,
            "email": email,
            "kind": kind,
        }
        clean, errors = check_organisation(given, organisation_countries(self.catalogues))
        if errors:
            raise InvalidData(Text("The organisation's data is not valid."), errors)
        with self.db.transaction() as conn:
            if embs.by_code(conn, clean["code"]) is not None:
                raise InvalidData(
                    Text(
                        "An organisation with the code %(code)s already exists.", code=clean["code"]
                    ),
                    [
                        {
                            "field": "code",
                            "message": Text("An organisation with this code already exists."),
                        }
                    ],
                )
            emb_id = _insert(conn, clean, self.clock())
        return EmbView(
            emb_id,
            clean["code"],
            clean["name"],
            clean["country"],
            clean["language"],
            clean["email"],
            clean["kind"],
        )

    def update(
        self,
        code: str,
        *,
        name: str | None = None,
        email: str | None = None,
        language: str | None = None,
        kind: str | None = None,
    ) -> EmbView:
        """Change what is given (None: keep). An empty `email` removes the address: mail for
        the EMB then goes to its request's contact person only."""
        given = {
            k: v
            for k, v in (("name", name), ("email", email), ("language", language), ("kind", kind))
            if v is not None
        }
        changes, errors = check_organisation(given, organisation_countries(self.catalogues))
        if errors:
            raise InvalidData(
                Text("The new data of the organisation %(code)s is not valid.", code=code), errors
            )
        if not changes:
            raise InvalidData(
                Text("Nothing to change: give a new name, e-mail address, language or kind."),
                [{"field": "emb", "message": Text("Nothing to change.")}],
            )
        with self.db.transaction() as conn:
            row = embs.by_code(conn, code)
            if row is None:
                raise NotFound(Text("There is no organisation with the code %(code)s.", code=code))
            _change(conn, row.id, changes)
            updated = embs.by_id(conn, row.id)
        assert updated is not None
        return _view(updated)

    def set_active(self, code: str, active: bool) -> EmbView:
        """Deactivate (no new requests; its requests and history stay) or reactivate one.
        Doing what is already done changes nothing."""
        with self.db.transaction() as conn:
            row = embs.by_code(conn, code)
            if row is None:
                raise NotFound(Text("There is no organisation with the code %(code)s.", code=code))
            if row.active != active:
                _change(conn, row.id, {"active": active})
            updated = embs.by_id(conn, row.id)
        assert updated is not None
        return _view(updated)

    def get(self, emb_id: int) -> EmbView:
        with self.db.read() as conn:
            row = embs.by_id(conn, emb_id)
        if row is None:
            raise NotFound(Text("There is no organisation number %(id)s.", id=emb_id))
        return _view(row)

    def all(self, *, active_only: bool = False) -> list[EmbView]:
        with self.db.read() as conn:
            return [_view(e) for e in embs.all_embs(conn, active_only=active_only)]

    def request_counts(self) -> dict[int, int]:
        """How many requests each organisation (by id) has made; absent: none."""
        with self.db.read() as conn:
            return embs.request_counts(conn)

    def import_rows(
        self, rows: Sequence[tuple[int, Mapping[str, str]]], *, dry_run: bool
    ) -> ImportReport:
        """Create or update the organisations of `rows` ((line, {column: cell}), cells as
        read from a file: trimmed, "" for an empty cell), in one transaction, all or none.

        A code already registered is an update: name, language and e-mail address become the
        row's (an empty e-mail cell: no address), the kind too when the row gives one; its
        country must be the same (an organisation does not move) and whether it is active
        does not change. A new code is created (kind emb when the row gives none). Every row
        is checked, against the others (a code once per file) and the database, and every
        problem reported; with any, or with `dry_run`, nothing is written."""
        report = ImportReport(dry_run=dry_run)
        checked: list[tuple[int, dict[str, Any]]] = []
        first_line: dict[str, int] = {}
        for line, cells in rows:
            given: dict[str, str | None] = {k: cells[k] for k in FIELDS if k in cells}
            if not given.get("kind"):
                given.pop("kind", None)
            clean, problems = check_organisation(given, organisation_countries(self.catalogues))
            report.errors.extend({"row": line, **p} for p in problems)
            key = clean["code"].casefold()
            if key in first_line:
                report.errors.append(
                    {
                        "row": line,
                        "field": "code",
                        "message": Text(
                            "The code %(code)s is already on line %(line)s of the file.",
                            code=clean["code"],
                            line=first_line[key],
                        ),
                    }
                )
            elif clean["code"]:
                first_line[key] = line
            checked.append((line, clean))
        with self.db.transaction() as conn:
            existing = embs.by_codes(conn, [clean["code"] for _, clean in checked])
            writes: list[tuple[embs.EmbRow | None, dict[str, Any]]] = []
            for line, clean in checked:
                row = existing.get(clean["code"])
                if row is None:
                    report.created.append(clean["code"])
                    writes.append((None, clean))
                    continue
                if clean["country"] != row.country:
                    report.errors.append(
                        {
                            "row": line,
                            "field": "country",
                            "message": Text(
                                "The organisation %(code)s is registered in %(country)s; the "
                                "country of an organisation cannot be changed.",
                                code=row.code,
                                country=row.country,
                            ),
                        }
                    )
                changes: dict[str, Any] = {
                    k: clean[k]
                    for k in ("name", "language", "email", "kind")
                    if k in clean and clean[k] != getattr(row, k)
                }
                if changes:
                    report.updated.append(row.code)
                    writes.append((row, changes))
                else:
                    report.unchanged.append(row.code)
            report.errors.sort(
                key=lambda e: (
                    e["row"] or 0,
                    FIELDS.index(e["field"]) if e["field"] in FIELDS else 99,
                )
            )
            if report.errors:  # nothing is written, so nothing was created or updated
                report.created, report.updated, report.unchanged = [], [], []
                return report
            if dry_run:
                return report
            now = self.clock()
            for row, values in writes:
                if row is None:
                    _insert(conn, values, now)
                else:
                    _change(conn, row.id, values)
        return report
