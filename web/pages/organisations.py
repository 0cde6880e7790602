"""`/organisations`: the organisations that request programmes (EMBs, civil society
organisations, political parties, academic and other institutions) — list them, add one,
correct one's name, language of mail, e-mail address or kind, deactivate and reactivate one.

Every signed-in user reads; coordinators and admins change (403 page for the others). Every
change is a CSRF-checked form followed by a redirect (post/redirect/get); a refused form is
shown again (422) with what was typed, each problem next to its field and all of them
summarised at the top. The values are checked where the CLI and the import check them
(`engine.organisations.check_organisation`). A deactivated organisation keeps its requests and
their history but is not offered for new ones; reactivating it undoes that."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from config.catalogues import LANGUAGES
from engine.errors import InvalidData
from engine.organisations import MAX_CODE, MAX_EMAIL, MAX_NAME, organisation_countries
from engine.service import Engine
from engine.views import EmbView
from web import forms
from web.pages.deps import WRITER_ROLES, EngineDep, Form, PagesDep, PageUser, Writer
from web.templating import flash, gettext_for, request_language
from workflows.definition import ORGANISATION_KINDS

router = APIRouter(include_in_schema=False)
OrganisationId = Annotated[int, Path(ge=1, le=2**62)]
UNPROCESSABLE = status.HTTP_422_UNPROCESSABLE_CONTENT
NEW_FIELDS = ("code", "name", "country", "language", "email", "kind")
EDIT_FIELDS = ("name", "language", "email", "kind")
LIMITS = {"code": MAX_CODE, "name": MAX_NAME, "email": MAX_EMAIL}


def _sort_key(name: str) -> str:
    """ "Égypte" among the E's: accents do not sort a country's name after Z."""
    return "".join(
        c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
    ).casefold()


def _countries(engine: Engine, language: str) -> list[tuple[str, str]]:
    """(code, name in `language`) of every country an organisation may be in, by name."""
    from babel import Locale

    names = Locale.parse(language).territories
    pairs = [
        (code, str(names.get(code, code))) for code in organisation_countries(engine.catalogues)
    ]
    return sorted(pairs, key=lambda pair: _sort_key(pair[1]))


def _typed(form: Any, names: tuple[str, ...]) -> dict[str, str]:
    """What was typed, trimmed (and bounded: a value longer than any field allows is cut to
    one character beyond it, so the check still refuses it)."""
    values = {}
    for name in names:
        raw = form.get(name)
        text = raw.strip() if isinstance(raw, str) else ""
        values[name] = text[: LIMITS.get(name, 40) + 1]
    return values


def _form_page(
    request: Request,
    pages: PagesDep,
    engine: Engine,
    *,
    organisation: EmbView | None,
    values: dict[str, str],
    errors: dict[str, list[str]] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = request_language(request)
    countries = _countries(engine, language)
    counts = engine.organisations.request_counts() if organisation is not None else {}
    return pages.render(
        request,
        "organisation_form.html",
        {
            "organisation": organisation,
            "requests": counts.get(organisation.id, 0) if organisation is not None else 0,
            "values": values,
            "errors": errors or {},
            "message": message,
            "countries": countries,
            "country_names": dict(countries),
            "languages": LANGUAGES,
            "kinds": ORGANISATION_KINDS,
            "limits": LIMITS,
            "can_change": request.state.user.role in WRITER_ROLES,
        },
        status_code=status_code,
    )


def _values_of(organisation: EmbView) -> dict[str, str]:
    return {
        "code": organisation.code,
        "name": organisation.name,
        "country": organisation.country,
        "language": organisation.language,
        "email": organisation.email or "",
        "kind": organisation.kind,
    }


def _to_page(organisation: EmbView) -> RedirectResponse:
    return RedirectResponse(f"/organisations/{organisation.id}", status.HTTP_303_SEE_OTHER)


@router.get("/organisations")
def organisations_page(
    request: Request, pages: PagesDep, engine: EngineDep, user: PageUser
) -> Response:
    organisations = engine.list_embs()
    counts = engine.organisations.request_counts()
    return pages.render(
        request,
        "organisations.html",
        {
            "organisations": organisations,
            "counts": counts,
            "country_names": dict(_countries(engine, request_language(request))),
            "can_change": user.role in WRITER_ROLES,
            "inactive": sum(1 for o in organisations if not o.active),
        },
    )


@router.get("/organisations/new")
def new_organisation(
    request: Request, pages: PagesDep, engine: EngineDep, _user: Writer
) -> Response:
    values = {"code": "", "name": "", "country": "", "language": "es", "email": "", "kind": "emb"}
    return _form_page(request, pages, engine, organisation=None, values=values)


@router.post("/organisations")
def add_organisation(
    request: Request, pages: PagesDep, engine: EngineDep, _user: Writer, form: Form
) -> Response:
    values = _typed(form, NEW_FIELDS)
    try:
        added = engine.add_emb(
            code=values["code"],
            name=values["name"],
            country=values["country"],
            language=values["language"],
            email=values["email"] or None,
            kind=values["kind"],
        )
    except InvalidData as exc:
        language = request_language(request)
        return _form_page(
            request,
            pages,
            engine,
            organisation=None,
            values=values,
            errors=forms.errors_by_name(exc.details, language),
            message=exc.say(language),
            status_code=UNPROCESSABLE,
        )
    _ = gettext_for(request)
    flash(request, _("Organisation %(code)s added.") % {"code": added.code}, "ok")
    return _to_page(added)


@router.get("/organisations/{organisation_id}")
def organisation_page(
    request: Request,
    pages: PagesDep,
    engine: EngineDep,
    _user: PageUser,
    organisation_id: OrganisationId,
) -> Response:
    organisation = engine.organisations.get(organisation_id)
    return _form_page(
        request, pages, engine, organisation=organisation, values=_values_of(organisation)
    )


@router.post("/organisations/{organisation_id}")
def change_organisation(
    request: Request,
    pages: PagesDep,
    engine: EngineDep,
    _user: Writer,
    form: Form,
    organisation_id: OrganisationId,
) -> Response:
    _ = gettext_for(request)
    organisation = engine.organisations.get(organisation_id)
    typed = _typed(form, EDIT_FIELDS)
    current = _values_of(organisation)
    changes = {k: v for k, v in typed.items() if v != current[k]}
    if not changes:
        flash(request, _("Nothing was changed."), "info")
        return _to_page(organisation)
    try:
        changed = engine.update_emb(organisation.code, **changes)
    except InvalidData as exc:
        language = request_language(request)
        return _form_page(
            request,
            pages,
            engine,
            organisation=organisation,
            values=current | typed,
            errors=forms.errors_by_name(exc.details, language),
            message=exc.say(language),
            status_code=UNPROCESSABLE,
        )
    flash(request, _("Organisation %(code)s saved.") % {"code": changed.code}, "ok")
    return _to_page(changed)


@router.post("/organisations/{organisation_id}/deactivate")
def deactivate_organisation(
    request: Request,
    engine: EngineDep,
    _user: Writer,
    _form: Form,
    organisation_id: OrganisationId,
) -> Response:
    _ = gettext_for(request)
    said = _(
        "%(name)s is deactivated: it keeps its requests, but is no longer offered for new "
        "ones. Reactivate it here when needed."
    )
    return _set_active(request, engine, organisation_id, False, said)


@router.post("/organisations/{organisation_id}/activate")
def activate_organisation(
    request: Request,
    engine: EngineDep,
    _user: Writer,
    _form: Form,
    organisation_id: OrganisationId,
) -> Response:
    _ = gettext_for(request)
    said = _("%(name)s is active again: it may open new requests.")
    return _set_active(request, engine, organisation_id, True, said)


def _set_active(
    request: Request, engine: Engine, organisation_id: int, active: bool, said: str
) -> Response:
    """Deactivate or reactivate, say so (`said` names the organisation) and show its page."""
    organisation = engine.organisations.get(organisation_id)
    organisation = engine.organisations.set_active(organisation.code, active)
    flash(request, said % {"name": organisation.name}, "ok")
    return _to_page(organisation)
