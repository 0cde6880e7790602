"""A request's pages: create one, see it (data by stage, the workflow diagram, the actions the
user's role may take, the history with the mail each change queued, the timers ahead), save
its fields, advance it, print it.

Every refusal re-renders the page with what the user typed still in the form: a broken rule
(422) lists its reasons under the action, invalid data (422) is shown next to the fields, and
a change someone else made first (409) shows their values beside the user's, with the page's
version moved on so that submitting again applies the user's values deliberately."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from config.planning import lead_times_of
from engine import links_ops
from engine.account_views import UserView
from engine.compiler import CompiledWorkflow
from engine.dashboard import states_left, working_state
from engine.errors import CicieError, GuardFailed, InvalidData, NotAllowed, VersionConflict
from engine.reports import SUBMIT_TRIGGER
from engine.service import Engine
from engine.views import HistoryEntry, RequestView
from i18n import say, vocabulary
from notifications.links import LinkMaker, SharedLink
from notifications.recipients import RecipientResolver
from web import diagram_svg, forms
from web.forms import Formatter
from web.mailed_fields import mailed_fields
from web.pages.deps import WRITER_ROLES, EngineDep, Form, PagesDep, PageUser, Writer, actor_of
from web.params import COMMENT_MAX, TITLE_MAX, RequestPageId
from web.templating import flash, gettext_for, request_language
from workflows.definition import WorkflowDefinition

router = APIRouter(include_in_schema=False)
RequestId = RequestPageId  # a bad or out-of-range id is the 404 page
NO_STORE = {"Cache-Control": "no-store"}


@dataclass
class Problems:
    """What went wrong with a submission, for the page to show where it belongs."""

    status_code: int = 200
    message: str | None = None
    trigger: str | None = None  # the action that was refused
    guard_reasons: list[str] = field(default_factory=list)
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    # every problem once, at the top of the page: {"text", "target": the id it links to}
    error_summary: list[dict[str, str | None]] = field(default_factory=list)
    conflict: list[dict[str, Any]] | None = None  # the changes made by others since loading
    conflict_fields: list[str] = field(default_factory=list)  # changed by both
    section: str = "current"  # which form the submission came from


def _formatter(request: Request, engine: Engine) -> Formatter:
    return Formatter(engine.catalogues, request_language(request))


def _reason(failure: Any, definition: WorkflowDefinition, fmt: Formatter) -> str:
    """A refusal in the reader's language: the engine gives each as an `i18n.Text` (a required
    field named by its label, a broken rule with its parameters), said here."""
    if isinstance(failure, dict) and failure.get("message") is not None:
        return say(failure["message"], fmt.language)
    if isinstance(failure, dict):
        return str(failure.get("reason") or "")
    return str(failure)


def _int(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if number >= 1 else None


def _comment(form: FormData) -> str | None:
    """The comment as typed (never cut: one over `COMMENT_MAX` is refused, see
    `_comment_problem`)."""
    text = str(form.get("comment") or "").strip()
    return text or None


def _comment_problem(
    request: Request, comment: str | None, section: str = "current"
) -> Problems | None:
    """A comment longer than the history keeps is refused as it is, next to its field."""
    if comment is None or len(comment) <= COMMENT_MAX:
        return None
    _ = gettext_for(request)
    message = _(
        "The comment has %(count)s characters; at most %(max)s are allowed. Shorten it: "
        "nothing was cut."
    ) % {"count": len(comment), "max": COMMENT_MAX}
    field = "comment-earlier" if section == "earlier" else "comment"
    return Problems(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        message=message,
        field_errors={field: [message]},
        error_summary=[{"text": message, "target": field}],
        section=section,
    )


def title_problem(request: Request, title: str) -> str | None:
    """Why a title cannot be used as typed (said, never mended: a long title is not cut)."""
    _ = gettext_for(request)
    if not title:
        return _("A request needs a title.")
    if len(title) > TITLE_MAX:
        return _(
            "The title has %(count)s characters; at most %(max)s are allowed. Shorten it: "
            "nothing was cut."
        ) % {"count": len(title), "max": TITLE_MAX}
    return None


# ---------------------------------------------------------------- new request
def _new_page(
    request: Request,
    pages: PagesDep,
    engine: Engine,
    *,
    values: dict[str, str],
    errors: dict[str, list[str]] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = request_language(request)
    programmes = [
        (name, engine.registry.current(name).definition.title.get(language))
        for name in engine.registry.names()
    ]
    return pages.render(
        request,
        "request_new.html",
        {
            "programmes": programmes,
            "embs": engine.list_embs(active_only=True),  # deactivated ones open no request
            "values": values,
            "errors": errors or {},
            "message": message,
            "title_max": TITLE_MAX,
        },
        status_code=status_code,
    )


@router.get("/requests/new")
def new_request(request: Request, pages: PagesDep, engine: EngineDep, _user: Writer) -> Response:
    return _new_page(request, pages, engine, values={"programme": "", "emb": "", "title": ""})


@router.post("/requests")
def create_request(
    request: Request, pages: PagesDep, engine: EngineDep, user: Writer, form: Form
) -> Response:
    values = {k: str(form.get(k) or "").strip() for k in ("programme", "emb", "title")}
    errors: dict[str, list[str]] = {}
    _ = gettext_for(request)
    if values["programme"] not in engine.registry.names():
        errors["programme"] = [_("Choose a programme.")]
    title_refused = title_problem(request, values["title"])
    if title_refused is not None:
        errors["title"] = [title_refused]
    if not errors:
        try:
            view = engine.create(
                values["programme"],
                emb_code=values["emb"] or None,
                title=values["title"],
                actor=actor_of(user),
            )
        except CicieError as exc:
            language = request_language(request)
            errors = forms.errors_by_name(exc.details, language)
            return _new_page(
                request,
                pages,
                engine,
                values=values,
                errors=errors,
                message=exc.say(language),
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            )
        _ = gettext_for(request)
        flash(request, _("Request %(id)s created.") % {"id": view.id}, "ok")
        return RedirectResponse(f"/requests/{view.id}", status.HTTP_303_SEE_OTHER)
    return _new_page(
        request,
        pages,
        engine,
        values=values,
        errors=errors,
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


# ---------------------------------------------------------------- the request page
def _stages(
    wf: CompiledWorkflow, view: RequestView
) -> list[tuple[str, str, list[tuple[Any, Any]]]]:
    """(state, state label key, [(FieldDef, value)]) for each state that collects data, in
    workflow order; then the fields only transitions collect (reasons), under "other"."""
    d = wf.definition
    seen: set[str] = set()
    out: list[tuple[str, str, list[tuple[Any, Any]]]] = []
    for name, state in d.states.items():
        if not state.collects:
            continue
        fresh = [f for f in state.collects if f not in seen]
        seen.update(state.collects)
        rows = [(d.fields[f], view.data.get(f)) for f in fresh]
        if rows:
            out.append((name, name, rows))
    other = [(d.fields[f], v) for f, v in view.data.items() if f not in seen and f in d.fields]
    if other:
        out.append(("", "", other))
    return out


def _transition_labels(wf: CompiledWorkflow) -> dict[str, Any]:
    return {t.trigger: t.label for t in wf.definition.transitions}


def _conflict_changes(
    history: list[HistoryEntry], since_version: int
) -> tuple[list[dict[str, Any]], dict[str, tuple[Any, Any]]]:
    """The changes others made after `since_version`, and per field (value when the user loaded
    the page, value now)."""
    entries = [h for h in history if h.version > since_version]
    fields: dict[str, tuple[Any, Any]] = {}
    for h in entries:
        for name, change in (h.changes or {}).items():
            old, new = [*change, None, None][:2] if isinstance(change, list) else (None, change)
            fields[name] = (fields[name][0] if name in fields else old, new)
    summary = [
        {
            "actor": h.actor,
            "at": h.at,
            "trigger": h.trigger,
            "from": h.from_state,
            "to": h.to_state,
            "fields": sorted((h.changes or {}).keys()),
            "comment": h.comment,
        }
        for h in entries
    ]
    return summary, fields


def _typed_again(
    request: Request,
    pages: PagesDep,
    engine: Engine,
    user: UserView,
    request_id: int,
    comment: str | None,
) -> Callable[[Problems, dict[str, Any]], HTMLResponse]:
    """The request's page again, with why a form was refused and what was typed in it (the
    comment too), for a handler to answer with."""

    def again(problems: Problems, patch: dict[str, Any]) -> HTMLResponse:
        return _render_request(
            request,
            pages,
            engine,
            user,
            request_id,
            problems=problems,
            patch=patch,
            comment=comment,
        )

    return again


def _render_request(
    request: Request,
    pages: PagesDep,
    engine: Engine,
    user: UserView,
    request_id: int,
    *,
    problems: Problems | None = None,
    patch: dict[str, Any] | None = None,
    comment: str | None = None,
) -> HTMLResponse:
    problems = problems or Problems()
    actor = actor_of(user)
    view, available = engine.show(request_id, actor)
    wf = engine.definition_of(view)
    d = wf.definition
    fmt = _formatter(request, engine)
    history = engine.history(request_id)
    timeline = engine.timeline(request_id)
    writer = user.role in WRITER_ROLES
    working = working_state(d, view.state, view.held_from)
    final = d.states[view.state].final

    draft = forms.apply(view.data, patch or {})
    errors = problems.field_errors
    current_fields = [d.fields[f] for f in d.states[working].collects]
    mine = set(wf.triggers_for(view.state, user.role))
    labels = _transition_labels(wf)
    actions = []
    for a in available:
        if a.trigger not in mine:
            continue
        extra = [
            d.fields[f]
            for c in wf.candidates.get((view.state, a.trigger), ())
            for f in c.transition.collects
        ]
        extra = list({fd.name: fd for fd in extra}.values())
        tried = problems.trigger == a.trigger
        # a step that asks for typed input (a reason for declining…) shows its field and its
        # button; "fill it in" is said only once the user tried without it, next to the field
        own = {fd.name for fd in extra}
        failures = [f for f in a.failures if tried or f.get("field") not in own]
        reasons = [_reason(f, d, fmt) for f in failures]
        if not a.failures:
            reasons = list(a.reasons)
        if tried and (problems.guard_reasons or problems.field_errors):
            reasons = problems.guard_reasons
        actions.append(
            {
                "trigger": a.trigger,
                "label": labels.get(a.trigger),
                "allowed": a.allowed,
                "reasons": reasons,
                "refused": problems.trigger == a.trigger,
                "widgets": _note_mailed(forms.build_all(extra, draft, fmt, errors), d, request),
            }
        )
    left = [s for s in states_left(d, history, working) if d.states[s].collects]
    earlier_fields = [
        d.fields[f]
        for s in left
        for f in d.states[s].collects
        if f not in d.states[working].collects
    ]
    earlier_fields = list({fd.name: fd for fd in earlier_fields}.values())
    earlier_draft = draft if problems.section == "earlier" else view.data
    current_draft = draft if problems.section == "current" else view.data
    submitted = any(h.trigger == SUBMIT_TRIGGER for h in history)
    language = request_language(request)
    context = {
        # what does not block but must be seen (engine/warnings.py), near the top of the page
        "warnings": [
            {
                "code": w["code"],
                "message": w["message"],
                "field": fmt.label(d.fields[w["field"]]) if w["field"] in d.fields else None,
            }
            for w in view.warnings_dicts(language)
        ],
        "shared_links": _shared_links(request, engine, view) if writer else [],
        "report_submitted": submitted,
        "view": view,
        "organisation": engine.emb_row(view.emb),  # its name and kind in the header
        "definition": d,
        "fmt": fmt,
        "writer": writer,
        "final": final,
        "working": working,
        "stages": _stages(wf, view),
        "diagram": Markup(
            diagram_svg.render(d, view.state, request_language(request), held_from=view.held_from)
        ),
        "diagram_text": diagram_svg.text_alternative(d, request_language(request)),
        "actions": actions,
        "current_widgets": _note_mailed(
            forms.build_all(
                current_fields, current_draft, fmt, errors if problems.section == "current" else {}
            ),
            d,
            request,
        ),
        "earlier_widgets": _note_mailed(
            forms.build_all(
                earlier_fields, earlier_draft, fmt, errors if problems.section == "earlier" else {}
            ),
            d,
            request,
        ),
        "comment_max": COMMENT_MAX,
        "history": list(reversed(history)),
        "timer_due": _timer_due(history),
        "timeline": timeline,
        "timer_labels": {t.id: t.label for t in d.timers}
        | {f"lead_time.{i.id}": i.label for i in lead_times_of(view.programme)},
        "transition_labels": labels,
        "problems": problems,
        "comment": comment or "",
    }
    return pages.render(
        request,
        "request.html",
        context,
        status_code=problems.status_code,
        headers=NO_STORE,  # writers see the signed links to share: never cached
    )


def _note_mailed(
    widgets: list[forms.Widget], definition: WorkflowDefinition, request: Request
) -> list[forms.Widget]:
    """Under each field a mail prints for partners, whom it goes to (from the definitions:
    `web.mailed_fields`), so nobody types an internal remark into the EMB's e-mail."""
    mailed = mailed_fields(definition)
    language = request_language(request)
    _ = gettext_for(request)
    for w in widgets:
        roles = mailed.get(w.name)
        if roles:
            who = vocabulary.terms("recipient", list(roles), language)
            w.mailed_to = _("Sent word for word to %(recipients)s by e-mail.") % {"recipients": who}
    return widgets


def _timer_due(history: list[HistoryEntry]) -> dict[int, Any]:
    """The due time of each change a timer made, read from the comment it left ("reminder
    due 2026-12-01T21:40:30+00:00"), so the page says it as a local time, not as a code."""
    due = {}
    for h in history:
        found = vocabulary.timer_comment(h.comment) if h.actor.startswith("system:") else None
        if found is not None:
            due[h.id] = found[1]
    return due


def _shared_links(request: Request, engine: Engine, view: RequestView) -> list[SharedLink]:
    """The signed links coordinators may hand to partners, interns and delegates."""
    runtime = request.app.state.runtime
    maker: LinkMaker = request.app.state.link_maker
    resolver = RecipientResolver(runtime.catalogues, runtime.settings)
    return maker.shared(
        view, engine.emb_row(view.emb), resolver, links_ops.current_epoch(engine, view.id)
    )


@router.get("/requests/{request_id}")
def show_request(
    request: Request, request_id: RequestId, pages: PagesDep, engine: EngineDep, user: PageUser
) -> Response:
    return _render_request(request, pages, engine, user, request_id)


def _refused(
    exc: CicieError,
    engine: Engine,
    request_id: int,
    expected: int | None,
    patch: dict[str, Any],
    fmt: Formatter,
    wf: CompiledWorkflow,
    *,
    trigger: str | None,
    section: str,
) -> tuple[Problems, dict[str, Any]]:
    """The problems to show for a refused submission, and the values to put back in the form."""
    problems = Problems(message=exc.say(fmt.language), trigger=trigger, section=section)
    if isinstance(exc, GuardFailed):
        problems.status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
        # a field the step itself asks for (its reason) is marked at that field; the other
        # rules are listed under the step's button; all of them are summarised at the top
        own = {
            f
            for c in wf.candidates.get((engine.get(request_id).state, trigger or ""), ())
            for f in c.transition.collects
        }
        for d in exc.details:
            if not isinstance(d, dict) or not d.get("reason"):
                continue
            reason = _reason(d, wf.definition, fmt)
            name = str(d.get("field") or "")
            if name and name in own:
                problems.field_errors.setdefault(forms.error_name(name), []).append(reason)
                target: str | None = "f-" + forms.error_name(name)
            else:
                problems.guard_reasons.append(reason)
                target = f"action-{trigger}" if trigger else None
            problems.error_summary.append({"text": reason, "target": target})
    elif isinstance(exc, InvalidData):
        problems.status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
        problems.field_errors = forms.errors_by_name(exc.details, fmt.language)
        problems.error_summary = [
            {
                "text": say(d["message"], fmt.language),
                "target": "f-" + forms.error_name(str(d["field"])),
            }
            for d in exc.details
            if isinstance(d, dict) and "field" in d
        ]
    elif isinstance(exc, VersionConflict):
        problems.status_code = status.HTTP_409_CONFLICT
        summary, changed = _conflict_changes(engine.history(request_id), expected or 0)
        problems.conflict = summary
        current = engine.get(request_id).data
        merged = dict(patch)
        for name, (loaded, _now) in changed.items():
            if name not in merged:
                continue
            if merged[name] == loaded or (merged[name] is None and loaded is None):
                merged[name] = current.get(name)  # the user left it: take the other change
            else:
                problems.conflict_fields.append(name)
        patch = merged
    elif isinstance(exc, NotAllowed):
        problems.status_code = status.HTTP_403_FORBIDDEN
    else:
        raise exc
    return problems, patch


@router.post("/requests/{request_id}/data")
def save_data(
    request: Request,
    request_id: RequestId,
    pages: PagesDep,
    engine: EngineDep,
    user: Writer,
    form: Form,
) -> Response:
    view = engine.get(request_id)
    wf = engine.definition_of(view)
    d = wf.definition
    section = "earlier" if form.get("section") == "earlier" else "current"
    working = working_state(d, view.state, view.held_from)
    if section == "current":
        names = list(d.states[working].collects)
    else:
        history = engine.history(request_id)
        names = [f for s in states_left(d, history, working) for f in d.states[s].collects]
    fields = [d.fields[n] for n in dict.fromkeys(names)]
    patch = forms.parse(fields, form, view.data)
    expected = _int(form.get("expected_version"))
    comment = _comment(form)
    again = _typed_again(request, pages, engine, user, request_id, comment)
    too_long = _comment_problem(request, comment, section)
    if too_long is not None:
        return again(too_long, patch)
    try:
        engine.update(
            request_id, actor_of(user), data=patch, expected_version=expected, comment=comment
        )
    except CicieError as exc:
        fmt = _formatter(request, engine)
        return again(
            *_refused(
                exc, engine, request_id, expected, patch, fmt, wf, trigger=None, section=section
            )
        )
    _ = gettext_for(request)
    flash(request, _("Saved."), "ok")
    return RedirectResponse(f"/requests/{request_id}", status.HTTP_303_SEE_OTHER)


@router.post("/requests/{request_id}/advance")
def advance(
    request: Request,
    request_id: RequestId,
    pages: PagesDep,
    engine: EngineDep,
    user: Writer,
    form: Form,
) -> Response:
    view = engine.get(request_id)
    wf = engine.definition_of(view)
    d = wf.definition
    trigger = str(form.get("trigger") or "")[:80]
    section = "current"
    names = list(d.states[view.state].collects)
    for cand in wf.candidates.get((view.state, trigger), ()):
        names.extend(cand.transition.collects)
    fields = [d.fields[n] for n in dict.fromkeys(names)]
    patch = forms.parse(fields, form, view.data)
    expected = _int(form.get("expected_version"))
    comment = _comment(form)
    again = _typed_again(request, pages, engine, user, request_id, comment)
    too_long = _comment_problem(request, comment, section)
    if too_long is not None:
        return again(too_long, patch)
    try:
        moved = engine.advance(
            request_id,
            trigger,
            actor_of(user),
            data=patch,
            expected_version=expected,
            comment=comment,
        )
    except CicieError as exc:
        fmt = _formatter(request, engine)
        return again(
            *_refused(
                exc, engine, request_id, expected, patch, fmt, wf, trigger=trigger, section=section
            )
        )
    label = _transition_labels(wf).get(trigger)
    done = label.get(request_language(request)) if label is not None else trigger
    state = d.states[moved.state].label.get(request_language(request))
    flash(request, f"{done}: {state}.", "ok")
    return RedirectResponse(f"/requests/{request_id}", status.HTTP_303_SEE_OTHER)


@router.post("/requests/{request_id}/links/revoke")
def revoke_links(
    request: Request, request_id: RequestId, engine: EngineDep, user: Writer, form: Form
) -> Response:
    """Every report and status link of the request stops working; the page then shows the new
    ones to send. The form's confirmation box must be ticked (no script asks for it)."""
    _ = gettext_for(request)
    if form.get("confirm") != "yes":
        flash(request, _("Tick the box to confirm, then revoke the links again."), "error")
    else:
        links_ops.revoke_links(engine, request_id, actor_of(user))
        flash(
            request,
            _(
                "All report and status links of this request were revoked. The links below are "
                "new: send them to the people who still need them."
            ),
            "ok",
        )
    return RedirectResponse(f"/requests/{request_id}#links-heading", status.HTTP_303_SEE_OTHER)


@router.get("/requests/{request_id}/print")
def print_request(
    request: Request, request_id: RequestId, pages: PagesDep, engine: EngineDep, user: PageUser
) -> Response:
    view = engine.get(request_id)
    wf = engine.definition_of(view)
    return pages.render(
        request,
        "request_print.html",
        {
            "view": view,
            "definition": wf.definition,
            "fmt": _formatter(request, engine),
            "stages": _stages(wf, view),
            "emb": next((e for e in engine.list_embs() if e.code == view.emb), None),
        },
    )
