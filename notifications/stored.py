"""A queued message's bytes, assembled when it is sent from what its transition stored.

Since migration 0015 the outbox keeps, for the recipients of one notification who read the
same words, their text and HTML once (`outbox_content`, with marks where each one's name and
link go) and, on each row, the recipient's subject, name and link; the .ics invitation's
fields are kept once too. Everything that can fail — rendering, addresses, the invitation's
dates — was checked in the transition, which stored them; what is left here is string work:
put the name and link in, write the MIME (`render.build_message`) and the invitation
(`ics.invitation`), exactly as the transition would have written them (tests compare the
two). Rows written before 0015 keep their bytes and are sent as they are."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from notifications import attachments as delegate_documents
from notifications import ics
from notifications.recipient import Recipient
from notifications.render import Attachment, Rendered, build_message, fill
from storage import outbox
from storage.db import Database
from storage.outbox import Claimed

log = logging.getLogger(__name__)


# the dead letter's reason, on the outbox page (the details are in the log)
UNASSEMBLED = "not sent: the message could not be written from what was stored (see the log)"


class Unassembled(Exception):
    """A stored message whose bytes cannot be written (its content row is missing)."""


def assemble(claim: Claimed) -> bytes:
    """The message as it is sent (with the documents' marker line first when it has any:
    notifications/attachments.py attaches them)."""
    parts = claim.parts
    if parts is None:
        return claim.body
    content = parts.content
    if content.id < 0:
        raise Unassembled(f"message {claim.id} has neither its bytes nor its content")
    link = parts.link or ""
    text, html = fill(
        content.text, content.html, content.name_mark, content.link_mark, parts.to_name, link
    )
    files = []
    if content.invitation:
        files.append(Attachment.invitation(invitation(content.invitation, claim, link)))
    body = build_message(
        rendered=Rendered(language=parts.language, subject=parts.subject, text=text, html=html),
        sender=content.sender,
        recipient=Recipient("", parts.to_name, claim.to_addr, parts.language),
        message_id=claim.message_id,
        date=parts.created_at,
        attachments=files,
    )
    return delegate_documents.mark(body, parts.attachments or [])


def invitation_fields(
    *,
    uid: str,
    sequence: int,
    title: str,
    start: date,
    end: date,
    location: str | None,
    organizer: str,
) -> dict[str, Any]:
    """What a notification's recipients' invitations share, as stored (JSON)."""
    return {
        "uid": uid,
        "sequence": sequence,
        "title": title,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "location": location,
        "organizer": organizer,
    }


def invitation(fields: dict[str, Any], claim: Claimed, link: str) -> bytes:
    """One recipient's invitation: the shared fields, their address, their link, and the
    moment the message was decided (DTSTAMP)."""
    assert claim.parts is not None
    return write_invitation(fields, attendee=claim.to_addr, link=link, now=claim.parts.created_at)


def write_invitation(fields: dict[str, Any], *, attendee: str, link: str, now: datetime) -> bytes:
    """The .ics of `invitation_fields` for one attendee."""
    return ics.invitation(
        uid=fields["uid"],
        sequence=int(fields["sequence"]),
        title=fields["title"],
        start=date.fromisoformat(fields["start"]),
        end=date.fromisoformat(fields["end"]),
        location=fields.get("location"),
        organizer=fields["organizer"],
        attendee=attendee,
        description=link,
        now=now,
    )


def ready(
    db: Database, claims: Sequence[Claimed], *, worker: str, now: datetime
) -> tuple[list[Claimed], int]:
    """The claims with their bytes, and how many could not be assembled: each of those
    becomes a dead letter with the reason (a coordinator sees it on the outbox page), rather
    than stopping the others."""
    out: list[Claimed] = []
    dead: list[tuple[int, str]] = []
    for claim in claims:
        if claim.parts is None:
            out.append(claim)
            continue
        try:
            out.append(dataclasses.replace(claim, body=assemble(claim)))
        except Exception:  # any fault: this message only, visibly
            log.exception("outbox message %s cannot be assembled", claim.id)
            dead.append((claim.id, UNASSEMBLED))
    if dead:
        outbox.settle(db, worker=worker, now=now, dead=dead)
    return out, len(dead)


def message_bytes(conn: sa.Connection, id: int) -> bytes | None:
    """A queued message's bytes as they would be sent (to show it on the outbox page)."""
    found = outbox.message(conn, id)
    if found is None:
        return None
    try:
        return assemble(found)
    except Exception:  # shown as missing; the dispatcher makes it a dead letter
        return None
