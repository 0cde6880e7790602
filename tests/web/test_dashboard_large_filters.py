"""The dashboard's filters over more requests than one statement's first look (issue 16): the
"no change for 30 days" list under a theme that hundreds of requests share, the counts of an
organisation filter that spans several organisations, a theme and a year together. What the
coordinator sees must not depend on how the statements split the work."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from engine.bootstrap import Runtime
from engine.dashboard import LIST_LIMIT
from engine.service import Engine
from storage import dashboard as store
from storage import requests as request_rows
from tests.web.conftest import SignIn

THEME = "electoral_cycle.voter_registry"


def _insert(runtime: Runtime, emb_code: str, rows: list[dict[str, Any]]) -> list[int]:
    """International workshops of `emb_code` written in one statement; their ids in order."""
    wf = runtime.registry.current("international_workshop")
    with runtime.db.transaction() as conn:
        emb_id = conn.exec_driver_sql(f"SELECT id FROM emb WHERE code = '{emb_code}'").scalar()
        before = conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM request").scalar()
        request_rows.insert_many(
            conn,
            [
                {
                    "programme": "international_workshop",
                    "workflow_version": wf.version,
                    "emb_id": emb_id,
                    "held_from": None,
                    "version": 1,
                    **row,
                }
                for row in rows
            ],
        )
        made = conn.exec_driver_sql(f"SELECT id FROM request WHERE id > {before} ORDER BY id")
        return [int(i) for i in made.scalars()]


def _section(html: str, heading: str) -> str:
    found = re.search(rf'id="{heading}">.*?</section>', html, re.S)
    assert found is not None, heading
    return found.group(0)


def test_a_theme_many_requests_share_lists_the_stale_ones_past_the_first_hundreds(
    runtime: Runtime,
    engine: Engine,
    sign_in: SignIn,
    make_emb: Callable[..., str],
) -> None:
    code = make_emb("HN-CNE", country="HN")
    now = engine.clock()
    fresh = store.STALE_FIRST_IDS + 30  # changed today: not stale
    themed = {"themes": [THEME], "event_start": "2016-06-06"}
    rows = [
        {"title": f"Fresh {i}", "state": "intake", "data": themed, "created_at": now}
        | {"updated_at": now}
        for i in range(fresh)
    ] + [
        {"title": f"Idle {i}", "state": "ready", "data": themed, "created_at": now}
        | {"updated_at": now - timedelta(days=40)}
        for i in range(25)
    ]
    ids = _insert(runtime, code, rows)
    idle = ids[fresh:]
    browser = sign_in("viewer")
    for path in (f"/?theme={THEME}", "/"):
        stuck = _section(browser.get(path).text, "blocked-heading")
        assert "No change for 30 days" in stuck, path
        shown = [int(i) for i in re.findall(r'href="/requests/(\d+)"', stuck)]
        assert shown == idle[:LIST_LIMIT], path
        assert f"({LIST_LIMIT + 1}+)" in stuck, path  # one past what is shown: "and more"


def test_a_region_adds_up_its_organisations_counts(
    runtime: Runtime,
    engine: Engine,
    sign_in: SignIn,
    make_emb: Callable[..., str],
) -> None:
    now = engine.clock()
    plain = {"event_start": "2016-06-06"}
    honduras = make_emb("HN-CNE", country="HN")
    guatemala = make_emb("GT-TSE", country="GT")
    kenya = make_emb("KE-IEBC", country="KE", language="en")
    for code, n in ((honduras, 3), (guatemala, 2), (kenya, 4)):
        _insert(
            runtime,
            code,
            [
                {"title": f"{code} {i}", "state": "intake", "data": plain}
                | {"created_at": now, "updated_at": now}
                for i in range(n)
            ],
        )
    browser = sign_in("viewer")
    cell = r'programme=international_workshop&amp;state=intake">(\d+)</a>'
    america = re.search(cell, browser.get("/?region=America").text)
    africa = re.search(cell, browser.get("/?region=Africa").text)
    everyone = re.search(cell, browser.get("/?kind=emb").text)
    assert america is not None
    assert africa is not None
    assert everyone is not None
    assert (int(america.group(1)), int(africa.group(1)), int(everyone.group(1))) == (5, 4, 9)


def test_a_theme_and_a_year_together_count_the_requests_that_have_both(
    runtime: Runtime,
    engine: Engine,
    sign_in: SignIn,
    make_emb: Callable[..., str],
) -> None:
    code = make_emb("HN-CNE", country="HN")
    now = engine.clock()
    both = {"themes": [THEME], "event_start": "2016-06-06"}
    theme_only = {"themes": [THEME], "event_start": "2019-06-06"}
    year_only = {"themes": ["strengthening.civic_education"], "event_start": "2016-03-01"}
    made = _insert(
        runtime,
        code,
        [
            {"title": f"{name} {i}", "state": "ready", "data": data}
            | {"created_at": now, "updated_at": now}
            for name, data, n in (
                ("both", both, 3),
                ("theme", theme_only, 4),
                ("year", year_only, 5),
            )
            for i in range(n)
        ],
    )
    html = sign_in("viewer").get(f"/?theme={THEME}&year=2016").text
    found = re.search(r'programme=international_workshop&amp;state=ready">(\d+)</a>', html)
    assert found is not None
    assert int(found.group(1)) == 3
    table = re.search(r'<table class="requests">(.*?)</table>', html, re.S)
    assert table is not None
    listed = [int(i) for i in re.findall(r'href="/requests/(\d+)"', table.group(1))]
    assert listed == sorted(made[:3], reverse=True)
