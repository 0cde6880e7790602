"""The dashboard's facets and the search's words follow every transition (storage/derived,
written on the DBAPI cursor): after each step of a request's path they are exactly what a
rebuild from the request's row would write, so a filter or a search never shows a request
under a state, theme, year or name it no longer has."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from engine.actor import Actor
from engine.bootstrap import Runtime
from storage import derived
from storage.models import request_facet_table, request_table, request_token_table
from tests.conftest import example_steps

R, F, RT = request_table, request_facet_table, request_token_table


def _stored(runtime: Runtime, request_id: int) -> tuple[set[str], set[tuple[Any, ...]]]:
    with runtime.db.read() as conn:
        words = set(
            conn.execute(sa.select(RT.c.token).where(RT.c.request_id == request_id)).scalars()
        )
        facets = {
            tuple(r)
            for r in conn.execute(
                sa.select(F.c.facet, F.c.value, F.c.programme, F.c.state, F.c.emb_id).where(
                    F.c.request_id == request_id
                )
            )
        }
    return words, facets


def _from_scratch(runtime: Runtime, request_id: int) -> tuple[set[str], set[tuple[Any, ...]]]:
    with runtime.db.read() as conn:
        row = conn.execute(
            sa.select(
                R.c.title, R.c.data, R.c.programme, R.c.state, R.c.emb_id, R.c.created_at
            ).where(R.c.id == request_id)
        ).one()
    words = derived.request_words(row.title, row.data)
    facets = {
        (f, v, row.programme, row.state, row.emb_id)
        for f, v in derived.request_facets(row.data, row.created_at)
    }
    return words, facets


@pytest.mark.parametrize("programme", ["international_workshop", "internship"])
def test_facets_and_words_match_a_rebuild_after_every_step(
    runtime: Runtime, make_emb: Callable[..., str], programme: str
) -> None:
    view = runtime.engine.create(
        programme, emb_code=make_emb(), title="Taller — Perú 2026", actor=Actor("coordinator", "a")
    )
    seen_states = set()
    for step in example_steps(programme):
        view = runtime.engine.advance(
            view.id, step["trigger"], Actor.parse(step["as"]), data=step.get("data") or {}
        )
        seen_states.add(view.state)
        assert _stored(runtime, view.id) == _from_scratch(runtime, view.id), step["trigger"]
    words, facets = _stored(runtime, view.id)
    assert {"peru", "taller", "2026"} <= words
    assert {f[3] for f in facets} == {"closed"}  # every facet carries the last state
    assert len(seen_states) > 3


def test_a_renamed_delegate_is_found_by_the_new_name_only(
    runtime: Runtime, make_request: Callable[..., Any]
) -> None:
    view = make_request("international_workshop", state="logistics")
    delegates = [{"name": "Zoë Ñúñez", "position": "Vocal", "email": "zoe@example.org"}]
    moved = runtime.engine.update(view.id, Actor("coordinator", "a"), data={"delegates": delegates})
    words, _ = _stored(runtime, moved.id)
    assert {"zoe", "nunez"} <= words
    delegates = [{"name": "Ximena Ortiz", "position": "Vocal", "email": "zoe@example.org"}]
    moved = runtime.engine.update(
        moved.id, Actor("coordinator", "a"), data={"delegates": delegates}
    )
    assert _stored(runtime, moved.id) == _from_scratch(runtime, moved.id)
    words, _ = _stored(runtime, moved.id)
    assert {"ximena", "ortiz"} <= words
    assert not {"zoe", "nunez"} & words
