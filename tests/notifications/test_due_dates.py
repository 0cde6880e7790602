"""A mail asks for something "by" a day only while that day is still to come, counted in the
centre's own day (Mexico City), not UTC's: a request recorded after its event (issue 14, "Sane
dates": "the intern is asked for a report 'by 9 April 2024'") is asked at the earliest
convenience instead. The brochure's own lead time: air tickets "30 days before" the activity.
On SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.clock import ManualClock
from engine.service import Engine
from notifications.stored import message_bytes
from notifications.wiring import install_mail
from storage.models import outbox_table
from tests.conftest import example_steps

CONTACT = "karla.mendez@example.org"


@pytest.fixture
def mail_engine(runtime: Runtime) -> Engine:
    install_mail(runtime)
    return runtime.engine


def _confirmed_workshop(engine: Engine, make_emb: Callable[..., str], **logistics: Any) -> int:
    """The workshop example run until its logistics are confirmed, with `logistics` as its
    dates; the contact person reads English."""
    view = engine.create(
        "international_workshop",
        emb_code=make_emb(),
        title="Taller",
        actor=Actor("coordinator", "ana"),
    )
    for step in example_steps("international_workshop"):
        data = dict(step.get("data") or {})
        if "contact_language" in data:
            data["contact_language"] = "en"
        if step["trigger"] == "confirm_logistics":
            data.pop("past_event", None)
            data.update(logistics)
        view = engine.advance(view.id, step["trigger"], Actor.parse(step["as"]), data=data)
        if step["trigger"] == "confirm_logistics":
            return view.id
    raise AssertionError("the workshop example never confirms its logistics")


def _logistics_mail(runtime: Runtime, request_id: int) -> str:
    with runtime.db.read() as conn:
        id = conn.execute(
            sa.select(outbox_table.c.id).where(
                outbox_table.c.request_id == request_id,
                outbox_table.c.template == "logistics_confirmed",
                outbox_table.c.to_addr == CONTACT,
            )
        ).scalar_one()
        body = message_bytes(conn, id) or b""
    message = email.message_from_bytes(body, policy=email.policy.default)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_a_past_event_is_not_given_a_due_date_gone_by(
    runtime: Runtime, mail_engine: Engine, make_emb: Callable[..., str]
) -> None:
    """Recorded after the 2016 workshop: its tickets were "due" on 7 May 2016."""
    request_id = _confirmed_workshop(
        mail_engine, make_emb, event_start="2016-06-06", event_end="2016-06-10", past_event=True
    )
    text = _logistics_mail(runtime, request_id)
    assert "2016" in text  # the dates of the event are still told
    assert "May 7, 2016" not in text
    assert "at your earliest convenience" in text


def test_an_event_to_come_gives_the_day_its_tickets_are_due(
    runtime: Runtime, mail_engine: Engine, make_emb: Callable[..., str]
) -> None:
    """Today is 12 January 2026; the event begins on 2 March: tickets by 31 January."""
    request_id = _confirmed_workshop(
        mail_engine, make_emb, event_start="2026-03-02", event_end="2026-03-06"
    )
    text = _logistics_mail(runtime, request_id)
    assert "flight itineraries to Mexico City by January 31, 2026" in text


def test_a_due_date_that_is_today_in_mexico_city_is_still_given_late_in_the_evening(
    runtime: Runtime, mail_engine: Engine, make_emb: Callable[..., str], clock: ManualClock
) -> None:
    """21:00 on 12 January in Mexico City is already 13 January in UTC: the tickets due on the
    12th are due today, not gone by."""
    clock.set(datetime(2026, 1, 13, 3, 0, tzinfo=UTC))
    request_id = _confirmed_workshop(
        mail_engine, make_emb, event_start="2026-02-11", event_end="2026-02-13"
    )
    text = _logistics_mail(runtime, request_id)
    assert "flight itineraries to Mexico City by January 12, 2026" in text
