"""Values derived from requests and organisations, kept in the transaction that writes what
they derive from, so the dashboard's filters and the search read indexes and never a
request's JSON (issues 15 and 16).

Three tables (storage/models.py, migration 0012):

- `request_facet`: (request, facet, value) for the filters that read a request's data — a
  theme id (facet "theme") and a year (facet "year": the event's start year and the creation
  year in the business zone, the dashboard's year rule) — with the request's programme, state
  and organisation copied, so that counts come from one index without reading a request row.
- `request_token`: the folded words of a request's title and of the names of the people it
  lists (delegates, participants, mission members, the contact).
- `emb_token`: the folded words of an organisation's code and name, its ISO country code and
  the country's names in Spanish, English and French.

"Folded": Unicode NFKD without combining marks, case-folded, so "Perú", "PERU" and "peru" are
one word. A search term matches every word it begins (a range on the token index).

Every write path calls in here: `storage.requests.insert` / `insert_many` (creation),
`storage.hot_path.record_transition` (every state change and data change), `storage.embs`
(organisation added or changed). Nothing else writes those columns.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from storage.models import (
    emb_table,
    emb_token_table,
    request_facet_table,
    request_table,
    request_token_table,
)

R = request_table
F = request_facet_table
RT = request_token_table
ET = emb_token_table

TOKEN_MAX = 80  # the column's length: longer words are cut (a prefix still finds them)
VALUE_MAX = 120
# beyond every character a folded word can hold: "peru" ≤ w < "peru" + TOP is "w begins with peru"
TOP = "\U0010ffff"
COUNTRY_LANGUAGES = ("es", "en", "fr")
# list fields whose items name people a coordinator may look for
PEOPLE_FIELDS = ("delegates", "participants", "mission_members", "speakers")
PERSON_FIELDS = ("contact_name",)

_zone: ZoneInfo = ZoneInfo("America/Mexico_City")
_WORD = re.compile(r"\w+")
# "EMB-07", "e-voting", "N.º 5/2016": kept whole as well as word by word, so that a search for
# the whole code is one narrow range, not "every code beginning with emb" cut down by "07"
_COMPOUND = re.compile(r"\w+(?:[-/.]\w+)+")


def use_zone(zone: ZoneInfo) -> None:
    """The business zone the creation year is counted in (the runtime's, at start)."""
    global _zone
    _zone = zone


# ---------------------------------------------------------------- folding and words
def fold(text: str) -> str:
    """Without accents and case: "Perú" → "peru", "MÉXICO" → "mexico", "Straße" → "strasse"."""
    if text.isascii():  # NFKD leaves ASCII as it is, and it has no combining marks
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str | None) -> set[str]:
    """The folded words of a text (letters and digits of any script), cut to the column."""
    if not text:
        return set()
    folded = fold(text)
    return {w[:TOKEN_MAX] for w in (*_WORD.findall(folded), *_COMPOUND.findall(folded))}


def query_terms(query: str, *, limit: int = 8) -> list[str]:
    """The words a search looks for, in order, at most `limit` ("#42" → "42")."""
    found: list[str] = []
    folded = fold(query)
    # a compound is looked for whole; its parts only where they stand alone
    terms = _COMPOUND.findall(folded) + _WORD.findall(_COMPOUND.sub(" ", folded))
    for w in terms:
        w = w[:TOKEN_MAX]
        if w not in found:
            found.append(w)
    return found[:limit]


@cache
def country_words(code: str) -> frozenset[str]:
    from results.countries import name

    found = words(code)
    for language in COUNTRY_LANGUAGES:
        found |= words(name(code, language))
    return frozenset(found)


def request_words(title: str, data: dict[str, Any] | None) -> set[str]:
    found = words(title)
    data = data or {}
    for field in PEOPLE_FIELDS:
        items = data.get(field)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    found |= words(item["name"])
    for field in PERSON_FIELDS:
        value = data.get(field)
        if isinstance(value, str):
            found |= words(value)
    return found


def emb_words(code: str, name: str, country: str | None) -> set[str]:
    found = words(code) | words(name) | {fold(code)[:TOKEN_MAX]}
    if country:
        found |= country_words(country.upper())
    return found


def _year_of(value: Any) -> str | None:
    if isinstance(value, str) and re.match(r"[0-9]{4}-", value):
        return value[:4]
    return None


def created_year(created_at: datetime) -> str:
    aware = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
    return f"{aware.astimezone(_zone).year:04d}"


def request_facets(data: dict[str, Any] | None, created_at: datetime) -> set[tuple[str, str]]:
    data = data or {}
    found = {("year", created_year(created_at))}
    event_year = _year_of(data.get("event_start"))
    if event_year:
        found.add(("year", event_year))
    themes = data.get("themes")
    if isinstance(themes, list):
        found |= {("theme", t[:VALUE_MAX]) for t in themes if isinstance(t, str) and t}
    return found


# ---------------------------------------------------------------- writing
def _loads(data: Any) -> dict[str, Any]:
    if isinstance(data, str | bytes):
        data = json.loads(data)
    return data if isinstance(data, dict) else {}


def _time(value: Any) -> datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value


# the statements of `refresh_request`, on the DBAPI cursor ({p}: the driver's placeholder):
# SQLAlchemy Core costs ~0.1 ms a statement, and a transition that changes a name or a theme
# runs five or six of them here
_REFRESH = {
    "row": "SELECT title, data, programme, state, emb_id, created_at FROM request WHERE id = {p}",
    "words": "SELECT token FROM request_token WHERE request_id = {p}",
    "facets": (
        "SELECT facet, value, programme, state, emb_id FROM request_facet WHERE request_id = {p}"
    ),
    "drop_word": "DELETE FROM request_token WHERE request_id = {p} AND token = {p}",
    "add_word": "INSERT INTO request_token (token, request_id) VALUES ({p}, {p})",
    "drop_facet": (
        "DELETE FROM request_facet WHERE request_id = {p} AND facet = {p} AND value = {p}"
    ),
    "add_facet": (
        "INSERT INTO request_facet (request_id, facet, value, programme, state, emb_id) "
        "VALUES ({p}, {p}, {p}, {p}, {p}, {p})"
    ),
    "state": "UPDATE request_facet SET state = {p} WHERE request_id = {p} AND state <> {p}",
}
_SQL = {
    "sqlite": {k: v.format(p="?") for k, v in _REFRESH.items()},
    "postgresql": {k: v.format(p="%s") for k, v in _REFRESH.items()},
}


def refresh_request(
    conn: sa.Connection,
    request_id: int,
    *,
    words: bool = True,
    facets: bool = True,
    row: tuple[str, dict[str, Any], str, str, int | None, datetime] | None = None,
) -> None:
    """Bring one request's facets and words up to date with its row (read in this
    transaction); `words=False` / `facets=False` leave the part whose fields did not change.
    `row`: (title, data, programme, state, emb_id, created_at) as the caller has just written
    them (a transition: its locked row and what it wrote), instead of reading them again; the
    fields read here are passed through JSON as the stored row would give them back."""
    sql = _SQL[conn.dialect.name]
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cur = dbapi.cursor()
    try:
        if row is None:
            cur.execute(sql["row"], (request_id,))
            row = cur.fetchone()
            if row is None:
                return
            title, data, programme, state, emb_id, created_at = row
            data = _loads(data)
        else:
            title, written, programme, state, emb_id, created_at = row
            data = json.loads(json.dumps({k: v for k, v in written.items() if k in DERIVED_FIELDS}))
        if words:
            want_words = request_words(title, data)
            cur.execute(sql["words"], (request_id,))
            have_words = {r[0] for r in cur.fetchall()}
            if gone := have_words - want_words:
                cur.executemany(sql["drop_word"], [(request_id, w) for w in sorted(gone)])
            if new := want_words - have_words:
                cur.executemany(sql["add_word"], [(w, request_id) for w in sorted(new)])
        if facets:
            want_facets = request_facets(data, _time(created_at))
            cur.execute(sql["facets"], (request_id,))
            have = {(f, v): (p, s, e) for f, v, p, s, e in cur.fetchall()}
            copied = (programme, state, emb_id)
            stale = [k for k, v in have.items() if k not in want_facets or v != copied]
            if stale:
                cur.executemany(sql["drop_facet"], [(request_id, f, v) for f, v in stale])
            add = [k for k in want_facets if k not in have or k in stale]
            if add:
                cur.executemany(
                    sql["add_facet"],
                    [(request_id, f, v, programme, state, emb_id) for f, v in sorted(add)],
                )
    finally:
        cur.close()


# the data fields the derived values read (request_words, request_facets)
WORD_FIELDS = frozenset({*PEOPLE_FIELDS, *PERSON_FIELDS})
FACET_FIELDS = frozenset({"themes", "event_start"})
DERIVED_FIELDS = WORD_FIELDS | FACET_FIELDS


def after_transition(
    conn: sa.Connection,
    request_id: int,
    state: str,
    data: dict[str, Any] | None,
    *,
    from_state: str | None = None,
    changes: dict[str, Any] | None = None,
    known: tuple[str, str, int | None, datetime] | None = None,
) -> None:
    """Called by `hot_path.record_transition` in the transition's transaction: the words
    again when a name changed, the facets again when a theme or the event's start changed
    (they copy the state too); otherwise only the new state copied into the facets (one
    indexed UPDATE on the DBAPI cursor), and nothing at all when the state stayed (a
    reminder, a correction of other fields). `known`: the request's (title, programme,
    emb_id, created_at), which a transition does not change, when the caller holds them (the
    row is then not read again)."""
    words = facets = False
    if data is not None:
        if changes is None:  # the data replaced without a diff: everything may have moved
            words = facets = True
        else:
            words = not WORD_FIELDS.isdisjoint(changes)
            facets = not FACET_FIELDS.isdisjoint(changes)
    if words or facets:
        row = None
        if known is not None and data is not None:
            title, programme, emb_id, created_at = known
            row = (title, data, programme, state, emb_id, created_at)
        refresh_request(conn, request_id, words=words, facets=facets, row=row)
    if facets or (from_state is not None and state == from_state):
        return
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cur = dbapi.cursor()
    try:
        cur.execute(_SQL[conn.dialect.name]["state"], (state, request_id, state))
    finally:
        cur.close()


def refresh_emb(conn: sa.Connection, emb_id: int) -> None:
    """Bring one organisation's words up to date with its row (added, renamed, moved)."""
    row = conn.execute(
        sa.select(emb_table.c.code, emb_table.c.name, emb_table.c.country).where(
            emb_table.c.id == emb_id
        )
    ).first()
    conn.execute(ET.delete().where(ET.c.emb_id == emb_id))
    if row is None:
        return
    conn.execute(ET.insert(), [{"token": w, "emb_id": emb_id} for w in sorted(emb_words(*row))])


def _batches(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def rebuild_requests(conn: sa.Connection, request_ids: Iterable[int] | None = None) -> int:
    """Recompute the facets and words of these requests (None: all) in bulk, replacing what
    was there: the migration's backfill, bulk imports, benchmarks. Returns how many."""
    if request_ids is None:
        ids = [int(i) for i in conn.execute(sa.select(R.c.id).order_by(R.c.id)).scalars()]
    else:
        ids = sorted({int(i) for i in request_ids})
    for batch in _batches(ids, 2000):
        low, high = batch[0], batch[-1]
        conn.execute(RT.delete().where(RT.c.request_id.in_(batch)))
        conn.execute(F.delete().where(F.c.request_id.in_(batch)))
        wanted = set(batch)
        tokens: list[dict[str, Any]] = []
        facets: list[dict[str, Any]] = []
        rows = conn.execute(
            sa.select(
                R.c.id, R.c.title, R.c.data, R.c.programme, R.c.state, R.c.emb_id, R.c.created_at
            ).where(R.c.id.between(low, high))
        )
        for rid, title, data, programme, state, emb_id, created_at in rows:
            if rid not in wanted:
                continue
            data = _loads(data)
            tokens += [{"token": w, "request_id": rid} for w in request_words(title, data)]
            facets += [
                {
                    "request_id": rid,
                    "facet": f,
                    "value": v,
                    "programme": programme,
                    "state": state,
                    "emb_id": emb_id,
                }
                for f, v in request_facets(data, _time(created_at))
            ]
        if tokens:
            conn.execute(RT.insert(), tokens)
        if facets:
            conn.execute(F.insert(), facets)
    return len(ids)


def rebuild_embs(conn: sa.Connection) -> None:
    for emb_id in list(conn.execute(sa.select(emb_table.c.id)).scalars()):
        refresh_emb(conn, int(emb_id))
