"""A workshop whose logistics are confirmed, with a delegation whose members read different
languages (the bundled example's path, delegates given their own language where asked)."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from engine.actor import Actor
from engine.service import Engine
from engine.views import RequestView
from tests.conftest import example_steps

DELEGATES: list[dict[str, Any]] = [
    {
        "name": "Karla Méndez Zelaya",
        "position": "Directora de Cooperación Internacional",
        "email": "karla.mendez@example.org",
        "nationality": "hondureña",
        "passport_number": "E1234567",
    },
    {"name": "Aminata Traoré", "position": "Directrice des opérations", "language": "fr"},
    {"name": "João Pereira", "position": "Assessor", "language": "pt"},
]


def workshop(engine: Engine, emb: str, state: str = "ready") -> RequestView:
    """An international workshop of `emb` driven along its example until `state`; at
    `confirm_logistics` the delegation is `DELEGATES`."""
    view = engine.create(
        "international_workshop",
        emb_code=emb,
        title="Taller internacional para Honduras",
        actor=Actor.parse("coordinator:ana"),
    )
    for step in example_steps("international_workshop"):
        if view.state == state:
            break
        data = dict(step.get("data") or {})
        if step["trigger"] == "confirm_logistics":
            data["delegates"] = DELEGATES
        view = engine.advance(view.id, step["trigger"], Actor.parse(step["as"]), data=data)
    assert view.state == state
    return view


def pdf_text(data: bytes) -> str:
    """The PDF's text, whitespace made single spaces (lines break anywhere)."""
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())
