"""Pages for people without an account, reached through signed links (engine/links.py):

- `/report/{token}`: an intern or delegate writes the final report of one request — saves a
  draft, attaches PDF files, submits it (`submit_report`, as `intern` for an internship and
  `delegate` otherwise, named by the address the link was issued to);
- `/status/{token}`: a partner follows one request, read-only, with nothing internal in it
  (no comments, no names from the history, no costs).

The request id comes only from the token: a link for request A never reaches request B. An
expired link is a 410 page, an altered one a 404 page. On every use (each page, draft, upload
and submission) a link must also still be honoured (`notifications.links.admit`): made in the
request's current links epoch (not revoked) — else a 410 page — and for an address that is
still a recipient of the request — else a 403 page; both say whom to ask.

These pages, their error pages included, speak every language of `i18n.LANGUAGES` (Arabic
right to left), chosen as web/public_language.py says — the address's `?lang=`, a choice made
with the page's language switcher, the recipient's correspondence language, the browser's —
and are built on `public_base.html` (no signed-in navigation).

Coordinators read the report and download its attachments at `/requests/{id}/final-report`
and `/requests/{id}/attachments/{attachment_id}`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request, status
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from engine.errors import GuardFailed, InvalidData, NotAllowed
from engine.links import LinkClaim, LinkExpired, LinkInvalid, LinkRevoked, LinkSigner, Purpose
from engine.links_ops import current_epoch
from engine.reports import (
    MAX_SECTION_CHARS,
    PDF_MAGIC,
    REPORT_FIELDS,
    AttachmentRefused,
    AttachmentTooLarge,
    FinalReports,
    NotAwaitingReport,
    ReportState,
    TooManyAttachments,
    clean_filename,
)
from engine.service import Engine
from engine.views import RequestView
from i18n import Text, say, translations
from notifications.links import USERS_OF, admit
from notifications.recipients import RecipientResolver
from web.pages.deps import EngineDep, Form, PagesDep, PageUser
from web.params import AttachmentPageId, RequestPageId
from web.public_language import (
    choose_language,
    language_choices,
    public_language,
    remember,
    valid,
)
from web.templating import Pages, flash, request_language
from web.uploads import posted_files, read_uploads
from workflows.definition import INTERNAL_RECIPIENTS, WorkflowDefinition

router = APIRouter(include_in_schema=False)

ATTACHMENTS_FIELD = "attachments"
# pages reached by a link carry the link in their address: never cached, never indexed
LINK_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
Token = Annotated[str, Path(max_length=1000)]
MAX_ID = 2**62  # as the request pages' ids


# ---------------------------------------------------------------- wiring
def get_link_signer(request: Request) -> LinkSigner:
    """The application's link signer (`create_app` makes it from the site's secret and clock)."""
    signer: LinkSigner = request.app.state.links
    return signer


def get_final_reports(request: Request) -> FinalReports:
    reports: FinalReports | None = getattr(request.app.state, "final_reports", None)
    if reports is None:
        runtime = request.app.state.runtime
        reports = FinalReports(
            runtime.engine,
            max_bytes=runtime.settings.upload_max_bytes,
            max_files=runtime.settings.upload_max_files,
        )
        request.app.state.final_reports = reports
    return reports


ReportsDep = Annotated[FinalReports, Depends(get_final_reports)]


class LinkRefused(Exception):
    """A link that opens nothing: its page (`_render_refusal`) says why and whom to ask, in
    the visitor's language."""

    def __init__(self, status_code: int, heading: Text, message: Text) -> None:
        super().__init__(str(message))
        self.status_code = status_code
        self.heading = heading
        self.message = message


@dataclass(frozen=True)
class Visit:
    """A genuine, honoured link: its claim, and the language its address is written to in
    (the recipient's correspondence language, None when the request does not say)."""

    claim: LinkClaim
    correspondence: str | None


def verified(request: Request, token: str, purpose: Purpose, engine: Engine) -> Visit:
    """The link's claim, once it is genuine and still honoured. An expired link is a 410 page,
    a revoked one a 410 page, one whose address left the request a 403 page, any other bad
    link a 404 page (`LinkRefused`)."""
    try:
        claim = get_link_signer(request).verify(token, purpose)
    except LinkExpired:
        raise LinkRefused(
            status.HTTP_410_GONE,
            Text("This link has expired"),
            Text("This link has expired. Ask CICIE's coordination for a new link."),
        ) from None
    except LinkInvalid:
        raise LinkRefused(
            status.HTTP_404_NOT_FOUND,
            Text("This link is not valid"),
            Text("This link is not valid. Check that it was copied whole."),
        ) from None
    runtime = request.app.state.runtime
    view = engine.get(claim.request_id)
    emb = engine.emb_row(view.emb)
    resolver = RecipientResolver(runtime.catalogues, runtime.settings)
    try:
        admit(claim, view, emb, resolver, current_epoch(engine, view.id))
    except LinkRevoked as exc:
        email = runtime.settings.coordinator_email
        if exc.reason == "revoked":
            raise LinkRefused(
                status.HTTP_410_GONE,
                Text("This link was withdrawn"),
                Text(
                    "This link is no longer valid: CICIE's coordination has withdrawn it. "
                    "Ask them for a new link: %(email)s.",
                    email=email,
                ),
            ) from None
        raise LinkRefused(
            status.HTTP_403_FORBIDDEN,
            Text("This link is no longer valid"),
            Text(
                "This link is no longer valid: the address it was sent to no longer takes part "
                "in this request. If you should still have access, ask CICIE's coordination: "
                "%(email)s.",
                email=email,
            ),
        ) from None
    language = next(
        (
            r.language
            for r in resolver.resolve(USERS_OF[claim.purpose], view, emb)
            if r.address.lower() == claim.email.lower()
        ),
        None,
    )
    return Visit(claim, valid(language))


def _render_refusal(request: Request, pages: Pages, token: str, refused: LinkRefused) -> Response:
    """The page of a link that opens nothing, in the language the address or the browser asks
    for (the link names no recipient one could trust)."""
    language = choose_language(request, token)
    return pages.render(
        request,
        "public_error.html",
        {
            "heading": refused.heading.say(language),
            "message": refused.message.say(language),
            "languages": language_choices(request, language),
        },
        status_code=refused.status_code,
        headers=LINK_HEADERS,
        language=language,
    )


def attachment_id(raw: str) -> int | None:
    """An attachment's id as the form sends it, or None: ASCII digits only (`"²".isdigit()`
    is true and `int("²")` fails) and within the range of ids (a 30-digit number would
    overflow the database's integer)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(MAX_ID)):
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# ---------------------------------------------------------------- final report
def _sections(
    definition: WorkflowDefinition,
    language: str,
    values: dict[str, str],
    errors: dict[str, str],
) -> list[dict[str, Any]]:
    out = []
    for name in REPORT_FIELDS:
        spec = definition.fields.get(name)
        label = spec.label.get(language) if spec is not None and spec.label else name
        out.append(
            {"name": name, "label": label, "value": values.get(name, ""), "error": errors.get(name)}
        )
    return out


def _event(view: RequestView) -> dict[str, Any]:
    data = view.data
    return {
        "start": data.get("event_start"),
        "end": data.get("event_end"),
        "venue": data.get("venue") if isinstance(data.get("venue"), str) else None,
    }


def _megabytes(reports: FinalReports) -> int:
    return max(1, reports.max_bytes // (1024 * 1024))


def _render_form(
    request: Request,
    pages: Pages,
    engine: Engine,
    reports: FinalReports,
    token: str,
    state: ReportState,
    language: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    definition = engine.definition_of(state.view).definition
    if values is None:
        values = dict(state.draft.fields) if state.draft else {}
    return pages.render(
        request,
        "report_form.html",
        {
            "token": token,
            "view": state.view,
            "programme": definition.title.get(language),
            "event": _event(state.view),
            "overdue": state.view.state == "report_overdue",
            "sections": _sections(definition, language, values, errors or {}),
            "attachments_error": (errors or {}).get(ATTACHMENTS_FIELD),
            "problems": problems or [],
            "draft_saved_at": state.draft.updated_at if state.draft else None,
            "attachments": state.attachments,
            "max_files": reports.max_files,
            "max_megabytes": _megabytes(reports),
            "section_max": MAX_SECTION_CHARS,
            "languages": language_choices(request, language),
        },
        status_code=status_code,
        headers=LINK_HEADERS,
        language=language,
    )


def _render_done(
    request: Request,
    pages: Pages,
    engine: Engine,
    state: ReportState,
    language: str | None = None,
    *,
    staff: bool = False,
    status_code: int = 200,
) -> Response:
    """The report as sent: for the intern or delegate (`language`: the link's), the "report
    received" page — or the page saying no report is awaited; for coordinators (`staff`, in
    the signed-in interface's language), the report itself."""
    shown = request_language(request) if staff or language is None else language
    definition = engine.definition_of(state.view).definition
    values = {n: v for n, v in state.view.data.items() if n in REPORT_FIELDS and isinstance(v, str)}
    return pages.render(
        request,
        "report_done.html",
        {
            "view": state.view,
            "programme": definition.title.get(shown),
            "state_label": definition.states[state.view.state].label.get(shown),
            "event": _event(state.view),
            "awaiting": state.awaiting,
            "submitted": state.submitted,
            "sections": _sections(definition, shown, values, {}),
            "has_report": any(values.values()),
            "attachments": state.attachments,
            "draft_saved_at": state.draft.updated_at if state.draft else None,
            "staff": staff,
            "languages": [] if staff else language_choices(request, shown),
        },
        status_code=status_code,
        headers=None if staff else LINK_HEADERS,
        language=None if staff else shown,
    )


@router.get("/report/{token}")
def report_page(
    request: Request, token: Token, pages: PagesDep, engine: EngineDep, reports: ReportsDep
) -> Response:
    try:
        visit = verified(request, token, "report", engine)
    except LinkRefused as refused:
        return _render_refusal(request, pages, token, refused)
    language = choose_language(request, token, visit.correspondence)
    state = reports.state(visit.claim.request_id)
    if state.awaiting:
        return _render_form(request, pages, engine, reports, token, state, language)
    return _render_done(request, pages, engine, state, language)


@router.post("/report/{token}")
async def report_post(
    request: Request,
    token: Token,
    pages: PagesDep,
    engine: EngineDep,
    reports: ReportsDep,
    form: Form,
) -> Response:
    try:
        return await _handle_report_post(request, token, pages, engine, reports, form)
    finally:
        await form.close()  # the spooled upload files


def _section_error(message: object, language: str, typed: str = "") -> str:
    """A field's refusal in the page's language (the engine says a missing or too long
    section in English words of its own)."""
    gettext = translations(language).gettext
    if str(message).strip().lower() == "this section must be written":
        return gettext("Write this section before submitting the report.")
    if str(message).strip().lower().startswith("at most"):
        return gettext(
            "This section has %(count)s characters; at most %(max)s are allowed. Shorten it: "
            "nothing was cut."
        ) % {"count": len(typed.replace("\r\n", "\n")), "max": MAX_SECTION_CHARS}
    return say(message, language)


async def _refused_file(form: FormData, language: str) -> str:
    """Why an attachment was refused, in plain words: which file, and whether its name or
    its content is not a PDF's (a file renamed to .pdf keeps the content of its kind)."""
    gettext = translations(language).gettext
    for item in posted_files(form, ATTACHMENTS_FIELD):
        name = clean_filename(item.filename or "")
        await item.seek(0)
        head = await item.read(len(PDF_MAGIC))
        if not (item.filename or "").lower().endswith(".pdf"):
            return gettext(
                "“%(name)s” is not a PDF file: only PDF files can be attached. Save it as PDF "
                "and attach it again. Nothing was saved."
            ) % {"name": name}
        if not head.startswith(PDF_MAGIC):
            return gettext(
                "“%(name)s” is not a real PDF file: its name ends in .pdf, but what is inside "
                "is another kind of file (perhaps renamed). Open it and save or export it as "
                "PDF, then attach it again. Nothing was saved."
            ) % {"name": name}
    return gettext("Only PDF files can be attached. Nothing was saved.")


async def _handle_report_post(
    request: Request,
    token: str,
    pages: Pages,
    engine: Engine,
    reports: FinalReports,
    form: FormData,
) -> Response:
    try:
        visit = await run_in_threadpool(verified, request, token, "report", engine)
    except LinkRefused as refused:
        return _render_refusal(request, pages, token, refused)
    claim = visit.claim
    request_id = claim.request_id
    values = {name: _text(form, name) for name in REPORT_FIELDS}
    action = _text(form, "action")
    remove = _text(form, "remove")
    # the language switcher of the form: the draft as typed is saved, then the page is shown
    # again in the language chosen (an unknown value is a plain "save draft")
    switch = valid(_text(form, "lang"))
    if switch is not None:
        remember(request, token, switch)
    language = public_language(request, token, visit.correspondence)

    _ = translations(language).gettext

    async def again(status_code: int, **kw: Any) -> Response:
        state = await run_in_threadpool(reports.state, request_id)
        if not state.awaiting:
            return _render_done(
                request, pages, engine, state, language, status_code=status.HTTP_409_CONFLICT
            )
        return _render_form(
            request,
            pages,
            engine,
            reports,
            token,
            state,
            language,
            values=values,
            status_code=status_code,
            **kw,
        )

    removed: list[int] = []
    if remove and switch is None:
        attachment = attachment_id(remove)
        if attachment is None:
            message = _("This file is not attached to the report. Nothing was changed.")
            return await again(
                status.HTTP_422_UNPROCESSABLE_CONTENT, errors={ATTACHMENTS_FIELD: message}
            )
        removed = [attachment]
    try:
        uploads = await read_uploads(
            form, ATTACHMENTS_FIELD, max_bytes=reports.max_bytes, max_files=reports.max_files
        )
        if switch is None and action == "submit":
            await run_in_threadpool(
                lambda: reports.submit(
                    request_id, email=claim.email, fields=values, uploads=uploads
                )
            )
            # post/redirect/get: reload and Back show pages got with GET, never a re-post
            return RedirectResponse(f"/report/{token}/received", status.HTTP_303_SEE_OTHER)
        if switch is not None and not uploads and not any(v.strip() for v in values.values()):
            # nothing typed, nothing attached: only the language changes
            return RedirectResponse(request.url.path, status.HTTP_303_SEE_OTHER)
        await run_in_threadpool(
            lambda: reports.save_draft(
                request_id, email=claim.email, fields=values, uploads=uploads, remove=removed
            )
        )
        flash(request, _("The file was removed.") if removed else _("Your draft was saved."), "ok")
        return RedirectResponse(request.url.path, status.HTTP_303_SEE_OTHER)
    except (AttachmentTooLarge, TooManyAttachments) as exc:
        message = (
            _("A file is larger than %(mb)s MB. Nothing was saved: attach a smaller PDF.")
            % {"mb": _megabytes(reports)}
            if isinstance(exc, AttachmentTooLarge)
            else _("At most %(n)s files can be attached. Nothing was saved.")
            % {"n": reports.max_files}
        )
        return await again(status.HTTP_413_CONTENT_TOO_LARGE, errors={ATTACHMENTS_FIELD: message})
    except AttachmentRefused:
        message = await _refused_file(form, language)
        return await again(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, errors={ATTACHMENTS_FIELD: message}
        )
    except InvalidData as exc:
        errors = {
            d["field"]: _section_error(d.get("message"), language, values.get(d["field"], ""))
            for d in exc.details
            if isinstance(d, dict) and "field" in d
        }
        return await again(status.HTTP_422_UNPROCESSABLE_CONTENT, errors=errors)
    except GuardFailed as exc:
        problems = [
            say(d.get("message") or d.get("reason"), language)
            for d in exc.details
            if isinstance(d, dict)
        ]
        return await again(status.HTTP_422_UNPROCESSABLE_CONTENT, problems=problems)
    except (NotAwaitingReport, NotAllowed):
        return await again(status.HTTP_409_CONFLICT)


@router.get("/report/{token}/received")
def report_received(
    request: Request, token: Token, pages: PagesDep, engine: EngineDep, reports: ReportsDep
) -> Response:
    """Where a submitted report lands (post/redirect/get): "report received", with what was
    sent. While a report is still awaited it is the form again."""
    try:
        visit = verified(request, token, "report", engine)
    except LinkRefused as refused:
        return _render_refusal(request, pages, token, refused)
    language = choose_language(request, token, visit.correspondence)
    state = reports.state(visit.claim.request_id)
    if state.awaiting:
        return RedirectResponse(f"/report/{token}", status.HTTP_303_SEE_OTHER)
    return _render_done(request, pages, engine, state, language)


# ---------------------------------------------------------------- coordinators' side
@router.get("/requests/{request_id}/final-report")
def final_report_for_staff(
    request: Request,
    request_id: RequestPageId,
    user: PageUser,
    pages: PagesDep,
    engine: EngineDep,
    reports: ReportsDep,
) -> Response:
    return _render_done(request, pages, engine, reports.state(request_id), staff=True)


def _disposition(filename: str) -> str:
    fallback = (
        "".join(
            ch if ch.isascii() and (ch.isalnum() or ch in "._- ") else "_" for ch in filename
        ).strip()
        or "attachment.pdf"
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get("/requests/{request_id}/attachments/{attachment_id}")
def download_attachment(
    request_id: RequestPageId,
    attachment_id: AttachmentPageId,
    user: PageUser,
    reports: ReportsDep,
) -> Response:
    row, data = reports.attachment(request_id, attachment_id)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": _disposition(row.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


# ---------------------------------------------------------------- partner status
def main_path(definition: WorkflowDefinition) -> list[str]:
    """The states a request passes through when all goes well, from the initial state to a
    final one: at each step the first way forward to a state not yet on the path (an active
    state rather than a final one; no hold, no system-only move such as `mark_overdue`)."""
    path = [definition.initial]
    while not definition.states[path[-1]].final:
        current = path[-1]
        options = [
            t.dest
            for t in definition.transitions
            if current in t.sources
            and current not in t.generic_sources
            and t.dest in definition.states
            and not definition.states[t.dest].hold
            and t.roles != ("system",)
            and t.dest not in path
        ]
        if not options:
            break
        active = [d for d in options if not definition.states[d].final]
        path.append((active or options)[0])
    return path


def _progress(
    definition: WorkflowDefinition, view: RequestView, visited: set[str]
) -> tuple[list[dict[str, Any]], str | None]:
    """Each main-path state as done / current / next (or not reached, for a request that
    left the path: declined, withdrawn); and the state whose expectations apply."""
    path = main_path(definition)
    state = view.state
    focus: str | None = state
    if definition.states[state].hold and view.held_from:
        focus = view.held_from
    elif definition.states[state].final and state not in path:
        focus = None  # declined, withdrawn: no step is current
    elif state not in path:
        # e.g. report_overdue: the step it belongs to is the one it was moved from
        sources = [t.sources for t in definition.transitions if t.dest == state]
        focus = next((s for srcs in sources for s in srcs if s in path), None)
    steps = []
    if focus in path:
        at = path.index(focus)
        for i, name in enumerate(path):
            progress = "done" if i < at else "current" if i == at else "next"
            if i == at and definition.states[name].final:
                progress = "done"
            steps.append(
                {"state": name, "label": definition.states[name].label, "progress": progress}
            )
    else:
        for name in path:
            progress = "done" if name in visited else "not_reached"
            steps.append(
                {"state": name, "label": definition.states[name].label, "progress": progress}
            )
    return steps, focus


def _partner_reminders(
    engine: Engine, definition: WorkflowDefinition, request_id: int, language: str
) -> list[dict[str, Any]]:
    timers = {t.id: t for t in definition.timers}
    out = []
    for entry in engine.timeline(request_id):
        if entry.kind == "transition":
            continue
        if not [r for r in entry.recipients if r not in INTERNAL_RECIPIENTS]:
            continue
        timer = timers.get(entry.timer)
        label = timer.label.get(language) if timer is not None else entry.label
        out.append({"due_at": entry.due_at, "label": label})
    return out


@router.get("/status/{token}")
def status_page(request: Request, token: Token, pages: PagesDep, engine: EngineDep) -> Response:
    try:
        visit = verified(request, token, "status", engine)
    except LinkRefused as refused:
        return _render_refusal(request, pages, token, refused)
    language = choose_language(request, token, visit.correspondence)
    view = engine.get(visit.claim.request_id)
    definition = engine.definition_of(view).definition
    visited = {h.to_state for h in engine.history(view.id)}
    steps, focus = _progress(definition, view, visited)
    return pages.render(
        request,
        "status.html",
        {
            "workflow_title": definition.title.get(language),
            "title": view.title,
            "state": view.state,
            "state_label": definition.states[view.state].label.get(language),
            "on_hold": bool(definition.states[view.state].hold),
            "final": bool(definition.states[view.state].final),
            "steps": steps,
            "focus": focus,
            "event": _event(view),
            "reminders": _partner_reminders(engine, definition, view.id, language),
            "updated_at": view.updated_at,
            "languages": language_choices(request, language),
        },
        headers=LINK_HEADERS,
        language=language,
    )
