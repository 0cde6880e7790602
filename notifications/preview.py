"""`cicie mail preview`: a template rendered for a real request, or for the bundled example."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.bootstrap import Runtime
from engine.demo import example_steps
from engine.views import RequestView
from notifications.outbox_writer import preview_context
from notifications.recipient import Recipient
from notifications.render import MailRenderer, Rendered
from storage import embs
from storage.embs import EmbRow

SAMPLE_PROGRAMME = "international_workshop"


def _sample_request(template: str) -> tuple[RequestView, EmbRow]:
    """The workshop example's data as it stands at the end of its path (in the state where
    the final report is awaited for the final report's request, so that a delegate's preview
    shows their report form's link)."""
    steps = example_steps(SAMPLE_PROGRAMME)  # YAML 1.2: `yes`/`no` stay text
    data: dict[str, Any] = {}
    for step in steps:
        data.update(step.get("data") or {})
    now = datetime(2016, 5, 2, 16, 0, tzinfo=UTC)
    view = RequestView(
        id=0,
        programme=SAMPLE_PROGRAMME,
        workflow_version=1,
        emb="HN-TSE",
        title="Taller internacional para el TSE de Honduras",
        state="final_report" if template == "final_report_requested" else "logistics",
        state_label="Logistics",
        held_from=None,
        data=data,
        version=5,
        created_at=now,
        updated_at=now,
    )
    emb = EmbRow(0, "HN-TSE", "Tribunal Supremo Electoral", "HN", "es", "tse@example.org")
    return view, emb


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
        view, emb = _sample_request(template)
        definition = runtime.registry.current(view.programme).definition
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
    return renderer.render(template, recipient, context, language=language)
