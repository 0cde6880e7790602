"""The in-transaction listener that turns a transition's `notify:` into outbox rows.

It runs inside the engine's transaction: messages are rendered now (a template error refuses
the transition, with the template's name in the message) and stored with a fixed Message-ID,
so a rollback queues nothing and delivery later cannot fail on rendering. What is stored is
the rendering itself — text and HTML once for the recipients of a notification who read the
same words, each one's subject, name and link on their row, the invitation's fields once —
and the MIME is written from it when the message is sent (notifications/stored.py): the
transition neither encodes nor stores each recipient's copy (issue 16). The addresses, the
sender and the invitation's dates are checked here, so that writing it cannot fail later.
"""

from __future__ import annotations

from datetime import date, timedelta
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from config.settings import Settings
from engine.clock import Clock, system_clock
from engine.events import DomainEvent, RequestCreated, RequestUpdated, TimerFired
from engine.timers import parse_date
from engine.views import RequestView
from notifications import attachments as delegate_documents
from notifications import ics
from notifications.links import link_maker, preview_link
from notifications.recipient import Recipient
from notifications.recipients import RecipientResolver, check_address
from notifications.render import MailRenderer, Stored, check_sender, make_message_id
from notifications.stored import invitation_fields
from storage import hot_path, outbox
from storage.embs import EmbRow
from workflows.definition import NotifyDef, WorkflowDefinition


class OutboxWriter:
    def __init__(
        self,
        renderer: MailRenderer,
        resolver: RecipientResolver,
        settings: Settings,
        clock: Clock = system_clock,
    ) -> None:
        self.renderer = renderer
        self.resolver = resolver
        self.sender = settings.mail_from
        self.links = link_maker(settings, clock)
        address = parseaddr(settings.mail_from)[1]
        self.domain = address.rpartition("@")[2] or "cicie.localhost"
        self.organizer = address or f"cicie@{self.domain}"
        self.zone = ZoneInfo(settings.timezone)  # whose "today" a due date is compared with

    def __call__(self, conn: sa.Connection, event: DomainEvent) -> None:
        notes = self._notifications(event)
        if not notes:
            return
        request = event.request
        # the organisation, and the links epoch every link carries: one statement
        emb, epoch = hot_path.emb_and_epoch(conn, request.id, request.emb)
        comment = None if isinstance(event, TimerFired) else event.comment
        today = event.at.astimezone(self.zone).date()  # the centre's day, not UTC's
        check_sender(self.sender)  # the From every message will carry
        queued: list[outbox.NewMessage] = []  # written together once all are rendered
        contents: list[outbox.NewContent] = []  # the renderings they share
        for note in notes:
            due = _due_date(request.data, note)
            if due is not None and due < today:  # nobody is asked "by" a day gone by
                due = None
            batch = _Note(note)
            for recipient, source in self.resolver.resolve_sourced(note.to, request, emb):
                check_address(recipient, source)  # else: whose address, and how to fix it
                queued.append(
                    self._message(event, batch, recipient, emb, due, comment, epoch, contents)
                )
        outbox.insert_many(conn, queued, event.at, contents)

    @staticmethod
    def _notifications(event: DomainEvent) -> list[NotifyDef]:
        states = event.definition.states
        if isinstance(event, RequestCreated):
            return list(states[event.request.state].notify)
        if isinstance(event, TimerFired):
            return list(event.timer.notify)
        if isinstance(event, RequestUpdated):
            return [
                note
                for rule in event.definition.on_change
                if event.request.state in rule.states and set(rule.fields) & set(event.changes)
                for note in rule.notify
            ]
        notes = list(event.transition.notify)
        if event.request.state != event.from_state:
            notes.extend(states[event.request.state].notify)
        return notes

    def _message(
        self,
        event: DomainEvent,
        batch: _Note,
        recipient: Recipient,
        emb: EmbRow | None,
        due: date | None,
        comment: str | None,
        epoch: int,
        contents: list[outbox.NewContent],
    ) -> outbox.NewMessage:
        """One recipient's message of a notification, rendered, with its Message-ID; its
        text and HTML added to `contents` unless it shares them with an earlier recipient."""
        request, note = event.request, batch.note
        key = f"{request.id}:{event.history_id}:{note.template}:{recipient.address.lower()}"
        # the language first (the recipient's, else the next of their chain the catalogue
        # has the event's sentences in): the link opens its public page in that language
        language = batch.chosen.get(recipient.language)
        if language is None:  # once per language asked for in this note
            language = batch.chosen[recipient.language] = self.renderer.choose(
                note.template, recipient
            )
        link_kind, link = self.links.link(request, recipient, epoch, language)
        context = _context(request, event.definition, emb, recipient, link, link_kind, due)
        context["comment"] = comment
        # issue 15: the delegates' documents this notification declares (`attach:
        # [invitation_letter, agenda_pack]`) are made by the dispatcher when it sends; the row
        # keeps references to them (notifications/attachments.py), and the text says which
        # kinds come attached
        documents = delegate_documents.references(note, recipient, request)
        kinds = {d["kind"] for d in documents}
        context["documents"] = tuple(k for k in note.attach if k in kinds)
        if isinstance(event, RequestUpdated):
            context["changes"] = event.changes
        if isinstance(event, TimerFired):
            context["what"] = event.timer.label  # said in the mail's language (`.get`)
        # rendered once for the recipients of this note who read the same words (same
        # language, role and kind of link), with marks where each one's name and link go
        stored = self.renderer.render_stored(
            note.template, recipient, context, language=language, shared=batch.shared
        )
        invitation = None
        if "ics" in note.attach:
            invitation = self._invitation(event, stored.language, batch)
        return outbox.NewMessage(
            key=key,
            request_id=request.id,
            history_id=event.history_id,
            template=note.template,
            language=stored.language,
            wanted_language=recipient.language,  # differs from `language` on a fallback
            to_addr=recipient.address,
            to_name=recipient.name,
            subject=stored.subject,
            message_id=make_message_id(key, self.domain),
            attachments=documents,  # the references, on the row
            content=self._content(stored, invitation, batch, contents),
            link=link,
        )

    def _content(
        self,
        stored: Stored,
        invitation: dict[str, Any] | None,
        batch: _Note,
        contents: list[outbox.NewContent],
    ) -> int:
        """The index in `contents` of the rendering `stored` shares (added if new)."""
        index = batch.placed.get(stored.key) if stored.key is not None else None
        if index is None:
            index = len(contents)
            contents.append(
                outbox.NewContent(
                    self.sender,
                    stored.text,
                    stored.html,
                    stored.name_mark,
                    stored.link_mark,
                    invitation,
                )
            )
            if stored.key is not None:
                batch.placed[stored.key] = index
        return index

    def _invitation(self, event: DomainEvent, lang: str, batch: _Note) -> dict[str, Any] | None:
        """The fields of the .ics invitation the message carries (None: the request has no
        dates), made and checked once per language of the notification; the invitation is
        written for each recipient when the message is sent (their address is checked by
        `check_address`)."""
        if lang in batch.invitations:
            return batch.invitations[lang]
        request = event.request
        start = parse_date(request.data.get("event_start"))
        end = parse_date(request.data.get("event_end"))
        fields = None
        if start is not None and end is not None:
            uid = f"cicie-request-{request.id}@{self.domain}"
            sequence = request.version  # grows with every change: calendars update, not add
            ics.check(
                uid=uid,
                sequence=sequence,
                start=start,
                end=end,
                organizer=self.organizer,
                now=event.at,
            )
            fields = invitation_fields(
                uid=uid,
                sequence=sequence,
                title=f"{event.definition.title.get(lang)}: {request.title}",
                start=start,
                end=end,
                location=str(request.data.get("venue") or "") or None,
                organizer=self.organizer,
            )
        batch.invitations[lang] = fields
        return fields


class _Note:
    """One notification of an event being written: its renderings shared by recipients, the
    contents they went to, the languages chosen and the invitation's fields per language."""

    def __init__(self, note: NotifyDef) -> None:
        self.note = note
        self.shared: dict[tuple[Any, ...], tuple[str, str, str]] = {}
        self.placed: dict[tuple[Any, ...], int] = {}
        self.chosen: dict[str, str] = {}  # language wanted → language written
        self.invitations: dict[str, dict[str, Any] | None] = {}


def _context(
    request: RequestView,
    definition: WorkflowDefinition,
    emb: EmbRow | None,
    recipient: Recipient,
    link: str,
    link_kind: str,
    due: date | None,
) -> dict[str, Any]:
    """What every template is given; labels stay labels, said in the mail's language by the
    `label` filter."""
    return {
        "request": {
            "id": request.id,
            "title": request.title,
            "programme": request.programme,
            "programme_label": definition.title,
            "state": request.state,
            "state_label": definition.states[request.state].label,
            "emb": request.emb,
            "data": request.data,
        },
        "emb": (
            {"name": emb.name, "country": emb.country, "language": emb.language} if emb else None
        ),
        "recipient": {"name": recipient.name, "role": recipient.role},
        "link": link,
        "link_kind": link_kind,
        "due_date": due.isoformat() if due else None,
    }


def preview_context(
    request: RequestView,
    definition: WorkflowDefinition,
    emb: EmbRow | None,
    recipient: Recipient,
    base_url: str,
    language: str | None = None,
) -> dict[str, Any]:
    """The context a message about `request` would get, for previews (due: 30 days ahead;
    the link: the kind of page the recipient's role gets, with a placeholder token)."""
    start = parse_date(request.data.get("event_start"))
    due = start - timedelta(days=30) if start else None
    shown = preview_link(base_url, request, recipient.role, language or recipient.language)
    context = _context(request, definition, emb, recipient, shown.url, shown.purpose, due)
    context["comment"] = None
    return context


def _due_date(data: dict[str, Any], note: NotifyDef) -> date | None:
    if note.due_field is None:
        return None
    anchor = parse_date(data.get(note.due_field))
    return anchor + timedelta(days=note.due_days) if anchor else None
