"""A transition refused because a recipient's address is unusable says whose address it is and
how to fix it: the EMB and `cicie emb update`, or the request's field and which entry of it —
never "the recipient field". Addresses are validated when entered, so these rows are written
as an older version would have stored them. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from engine.actor import Actor
from engine.bootstrap import Runtime
from engine.errors import InvalidData
from engine.service import Engine
from engine.views import RequestView
from notifications.wiring import install_mail
from storage import embs
from storage.models import outbox_table, request_table
from tests.conftest import example_steps

COORDINATOR = Actor("coordinator", "ana")
ACCEPT = example_steps("international_workshop")[0]
# since issue 14 only the internship asks its interns (field `delegates`) for the final report
FINISH = next(s for s in example_steps("internship") if s["trigger"] == "finish")


@pytest.fixture
def mail_engine(runtime: Runtime) -> Engine:
    install_mail(runtime)
    return runtime.engine


def legacy_emb(runtime: Runtime, code: str, email: str) -> str:
    """An EMB stored before addresses were checked with `\\Z` (the newline got through)."""
    with runtime.db.transaction() as conn:
        embs.insert(
            conn,
            code=code,
            name="Jurado Nacional de Elecciones",
            country="PE",
            language="es",
            email=email,
            now=runtime.engine.clock(),
        )
    return code


def queued_to(runtime: Runtime, request_id: int) -> set[str]:
    with runtime.db.read() as conn:
        rows = conn.execute(
            sa.select(outbox_table.c.to_addr).where(outbox_table.c.request_id == request_id)
        )
        return {r[0] for r in rows}


def test_an_emb_address_with_a_final_newline_names_the_emb_and_the_command(
    runtime: Runtime, mail_engine: Engine
) -> None:
    code = legacy_emb(runtime, "INE-PE", "jne@example.org\n")
    view = mail_engine.create(
        "international_workshop", emb_code=code, title="Taller", actor=COORDINATOR
    )
    with pytest.raises(InvalidData) as refused:
        mail_engine.advance(view.id, ACCEPT["trigger"], COORDINATOR, data=ACCEPT["data"])
    message = refused.value.message
    assert "EMB 'INE-PE' (Jurado Nacional de Elecciones)" in message
    assert "cicie emb update INE-PE --email" in message
    assert "line break" in message
    assert refused.value.details == [{"field": "emb", "message": message}]
    assert mail_engine.get(view.id).state == "intake"  # nothing was written
    assert queued_to(runtime, view.id) == set()

    mail_engine.update_emb(code, email="jne@example.org")
    mail_engine.advance(view.id, ACCEPT["trigger"], COORDINATOR, data=ACCEPT["data"])
    assert "jne@example.org" in queued_to(runtime, view.id)


def with_legacy_data(runtime: Runtime, view: RequestView, **fields: Any) -> None:
    """Write data as an older version would have accepted it (no validation)."""
    with runtime.db.transaction() as conn:
        conn.execute(
            request_table.update()
            .where(request_table.c.id == view.id)
            .values(data={**view.data, **fields})
        )


def test_a_delegate_address_names_the_delegate_and_the_field(
    runtime: Runtime, mail_engine: Engine, make_request: Callable[..., RequestView]
) -> None:
    view = make_request("internship", "in_progress")
    delegates = [*view.data["delegates"]]
    delegates[1] = {**delegates[1], "email": "brian.otieno@example.org\n"}
    with_legacy_data(runtime, view, delegates=delegates)
    with pytest.raises(InvalidData) as refused:
        mail_engine.advance(view.id, FINISH["trigger"], COORDINATOR, data=FINISH["data"])
    message = refused.value.message
    assert "the e-mail of delegate 2 (field 'delegates')" in message
    assert f"cicie request update {view.id}" in message
    assert refused.value.details[0]["field"] == "delegates.1.email"
    assert mail_engine.get(view.id).state == "in_progress"


def test_a_contact_address_names_the_contact_field(
    runtime: Runtime, mail_engine: Engine, make_emb: Callable[..., str]
) -> None:
    view = mail_engine.create(
        "international_workshop", emb_code=make_emb(), title="Taller", actor=COORDINATOR
    )
    mail_engine.update(view.id, COORDINATOR, data=ACCEPT["data"])
    two = "karla@example.org,x@y.org"  # one field, two recipients
    with_legacy_data(runtime, mail_engine.get(view.id), contact_email=two)
    with pytest.raises(InvalidData) as refused:
        mail_engine.advance(view.id, ACCEPT["trigger"], COORDINATOR)
    assert "the contact person's e-mail (field 'contact_email')" in refused.value.message
    assert "contains a comma" in refused.value.message
    assert refused.value.details[0]["field"] == "contact_email"
