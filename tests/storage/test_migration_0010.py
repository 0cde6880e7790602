"""Migration 0010: every organisation that requests programmes has a kind. The brochure ("To
whom are the Center's programs are addressed to?"): at the beginning the programmes were
"directed only to the officials from the Electoral Administration Organisms (OAE)", and now
also take requests "from civil society and political parties organisms". Every row registered
before is an EMB; a new row without a kind is one too; the downgrade drops the column and keeps
the rows (and the requests that point at them)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from storage import migrate
from storage.db import Database

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _move(db: Database, revision: str, down: bool) -> None:
    cfg = migrate.alembic_config(db)
    with db.engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _emb(*columns: str) -> sa.TableClause:
    return sa.table("emb", *(sa.column(c) for c in columns))


BASE = ("code", "name", "country", "language", "email", "created_at")


def _row(code: str) -> dict[str, object]:
    return {
        "code": code,
        "name": code,
        "country": "HN",
        "language": "es",
        "email": None,
        "created_at": NOW,
    }


def test_existing_organisations_become_embs_and_new_ones_default_to_emb(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        _move(db, "0009", down=True)
        with db.engine.begin() as conn:
            conn.execute(_emb(*BASE).insert().values(**_row("HN-CNE")))
        _move(db, "0010", down=False)
        with db.engine.begin() as conn:
            conn.execute(_emb(*BASE).insert().values(**_row("HN-TJE")))
            conn.execute(
                _emb(*BASE, "kind").insert().values(**_row("MX-PARTY"), kind="political_party")
            )
            kinds: dict[str, str] = dict(conn.execute(sa.text("SELECT code, kind FROM emb")).all())
        assert kinds == {"HN-CNE": "emb", "HN-TJE": "emb", "MX-PARTY": "political_party"}
        with db.engine.begin() as conn:
            emb_id = conn.execute(sa.text("SELECT id FROM emb WHERE code = 'HN-CNE'")).scalar()
            conn.execute(
                sa.table(
                    "request",
                    *(
                        sa.column(c)
                        for c in (
                            "programme",
                            "workflow_version",
                            "emb_id",
                            "title",
                            "state",
                            "data",
                            "version",
                            "created_at",
                            "updated_at",
                        )
                    ),
                )
                .insert()
                .values(
                    programme="seminar",
                    workflow_version=1,
                    emb_id=emb_id,
                    title="Foro",
                    state="intake",
                    data="{}",
                    version=1,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        _move(db, "0009", down=True)
        with db.engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("emb")}
            codes = set(conn.execute(sa.text("SELECT code FROM emb")).scalars())
            requested = conn.execute(sa.text("SELECT emb_id FROM request")).scalars().all()
        assert "kind" not in columns
        assert codes == {"HN-CNE", "HN-TJE", "MX-PARTY"}
        assert requested == [emb_id]
        migrate.upgrade(db)
    finally:
        db.dispose()
