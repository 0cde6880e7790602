"""Electoral management bodies (and the other organisations that request programmes): register
one, list them, and repair one's name, language or e-mail address.

An EMB's address is where partner mail about its requests goes, so a bad one refuses every
transition that writes to it; `update` is how a coordinator repairs it. Every value is checked
as when the EMB was added; each operation is one transaction."""

from __future__ import annotations

import re
from typing import Any

from config.catalogues import LANGUAGES, Catalogues
from engine.clock import Clock
from engine.errors import InvalidData, NotFound
from engine.views import EmbView
from storage import embs
from storage.db import Database
from workflows.definition import ORGANISATION_KINDS
from workflows.fields import EMAIL_RE

MAX_CODE = 40
MAX_NAME = 300
MAX_EMAIL = 254
_CODE = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_CODE}}}")  # ASCII only: it is typed in commands


def _view(row: embs.EmbRow) -> EmbView:
    return EmbView(row.id, row.code, row.name, row.country, row.language, row.email, row.kind)


def _kind_problem(kind: str) -> dict[str, str] | None:
    if kind not in ORGANISATION_KINDS:
        return {"field": "kind", "message": f"one of {', '.join(ORGANISATION_KINDS)}"}
    return None


def _name_problem(name: str) -> dict[str, str] | None:
    if not name.strip() or len(name) > MAX_NAME or "\n" in name or "\r" in name:
        return {"field": "name", "message": f"one line of 1–{MAX_NAME} characters"}
    return None


def _language_problem(language: str) -> dict[str, str] | None:
    if language not in LANGUAGES:
        return {"field": "language", "message": f"one of {', '.join(LANGUAGES)}"}
    return None


def _email_problem(email: str | None) -> dict[str, str] | None:
    if email is not None and (len(email) > MAX_EMAIL or not EMAIL_RE.fullmatch(email)):
        return {"field": "email", "message": "not a single valid e-mail address"}
    return None


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
        code = code.strip()
        country = country.strip().upper()
        errors = []
        if not _CODE.fullmatch(code):
            errors.append({"field": "code", "message": f"1–{MAX_CODE} letters, digits, - or _"})
        country_problem = (
            None
            if country in self.catalogues.countries
            else {"field": "country", "message": f"'{country}' is not an ISO2 code"}
        )
        checks = (
            _name_problem(name),
            country_problem,
            _language_problem(language),
            _email_problem(email),
            _kind_problem(kind),
        )
        errors.extend(problem for problem in checks if problem is not None)
        if errors:
            raise InvalidData("the EMB's data is not valid", errors)
        with self.db.transaction() as conn:
            if embs.by_code(conn, code) is not None:
                raise InvalidData(
                    f"an EMB with code '{code}' already exists",
                    [{"field": "code", "message": "already exists"}],
                )
            emb_id = embs.insert(
                conn,
                code=code,
                name=name.strip(),
                country=country,
                language=language,
                email=email,
                now=self.clock(),
                kind=kind,
            )
        return EmbView(emb_id, code, name.strip(), country, language, email, kind)

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
        changes: dict[str, Any] = {}
        checks = []
        if name is not None:
            changes["name"] = name.strip()
            checks.append(_name_problem(name))
        if language is not None:
            changes["language"] = language
            checks.append(_language_problem(language))
        if email is not None:
            changes["email"] = email or None
            checks.append(_email_problem(changes["email"]))
        if kind is not None:
            changes["kind"] = kind
            checks.append(_kind_problem(kind))
        errors = [problem for problem in checks if problem is not None]
        if errors:
            raise InvalidData(f"the new data of EMB '{code}' is not valid", errors)
        if not changes:
            raise InvalidData(
                "nothing to change: give a new name, e-mail address, language or kind",
                [{"field": "emb", "message": "nothing to change"}],
            )
        with self.db.transaction() as conn:
            row = embs.by_code(conn, code)
            if row is None:
                raise NotFound(f"no EMB with code '{code}'")
            embs.update(conn, row.id, **changes)
            updated = embs.by_id(conn, row.id)
        assert updated is not None
        return _view(updated)

    def all(self) -> list[EmbView]:
        with self.db.read() as conn:
            return [_view(e) for e in embs.all_embs(conn)]
