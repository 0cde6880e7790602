"""`cicie mail preview`: a template rendered for a real request, or for the bundled example."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from engine.bootstrap import Runtime
from engine.demo import example_steps
from engine.views import RequestView
from notifications.outbox_writer import preview_context
from notifications.recipient import Recipient
from notifications.render import MailRenderer, Rendered
from storage import embs
from storage.embs import EmbRow
from workflows.definition import WorkflowDefinition

SAMPLE_PROGRAMME = "international_workshop"


def _sample_for(template: str, programmes: dict[str, WorkflowDefinition]) -> tuple[str, str]:
    """The programme whose workflow sends `template` (the workshop when several do) and the
    state a request is in once it has been sent — so the preview reads as the real mail
    (the internship's final-report request shows the intern's report-form link)."""
    found: list[tuple[str, str]] = []
    for name, definition in programmes.items():
        for transition in definition.transitions:
            if any(n.template == template for n in transition.notify):
                dest = transition.dest if transition.dest in definition.states else None
                found.append((name, dest or next(iter(definition.states))))
                break
    if not found:  # a reminder or escalation: the state its first timer waits in
        for name, definition in programmes.items():
            for timer in definition.timers:
                if any(n.template == template for n in timer.notify) and timer.states:
                    found.append((name, timer.states[0]))
                    break
    for name, state in found:
        if name == SAMPLE_PROGRAMME:
            return name, state
    if found:
        return found[0]
    return SAMPLE_PROGRAMME, "logistics"


def _sample_request(programme: str, state: str, label: str) -> tuple[RequestView, EmbRow]:
    """The programme's example data as it stands at the end of its path, in `state`."""
    steps = example_steps(programme)  # YAML 1.2: `yes`/`no` stay text
    data: dict[str, Any] = {}
    for step in steps:
        data.update(step.get("data") or {})
    now = datetime(2016, 5, 2, 16, 0, tzinfo=UTC)
    view = RequestView(
        id=0,
        programme=programme,
        workflow_version=1,
        emb="HN-TSE",
        title="Taller internacional para el TSE de Honduras",
        state=state,
        state_label=label,
        held_from=None,
        data=data,
        version=5,
        created_at=now,
        updated_at=now,
    )
    emb = EmbRow(0, "HN-TSE", "Tribunal Supremo Electoral", "HN", "es", "tse@example.org")
    return view, emb


def _week_earlier(value: str) -> str:
    try:
        return (date.fromisoformat(value) - timedelta(days=7)).isoformat()
    except ValueError:
        return value


def preview(
    runtime: Runtime,
    template: str,
    language: str,
    *,
    request_id: int | None = None,
    role: str = "emb_contacts",
) -> Rendered:
    emb: EmbRow | None
    if request_id is None:
        programmes = {n: runtime.registry.current(n).definition for n in runtime.registry.names()}
        programme, state = _sample_for(template, programmes)
        definition = programmes[programme]
        view, emb = _sample_request(programme, state, definition.states[state].label.get("en"))
    else:
        view = runtime.engine.get(request_id)
        definition = runtime.engine.definition_of(view).definition
        with runtime.db.read() as conn:
            emb = embs.by_code(conn, view.emb) if view.emb else None
    recipient = Recipient(role, "Preview", "preview@example.org", language)
    renderer = MailRenderer(timezone=runtime.settings.timezone)
    language = renderer.choose(template, recipient)
    context = preview_context(
        view, definition, emb, recipient, runtime.settings.resolved_base_url, language
    )
    if template == "dates_changed" and "changes" not in context:  # a sample move by a week
        start, end = view.data.get("event_start"), view.data.get("event_end")
        context["changes"] = {
            name: [_week_earlier(value), value]
            for name, value in (("event_start", start), ("event_end", end))
            if isinstance(value, str)
        }
    if "what" not in context:  # what a reminder or escalation is about: its timer
        timer = next(
            (t for t in definition.timers if any(n.template == template for n in t.notify)),
            None,
        )
        if timer is not None:
            context["what"] = timer.label
    return renderer.render(template, recipient, context, language=language)
