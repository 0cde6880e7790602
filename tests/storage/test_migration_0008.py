"""Migration 0008: a user's interface language is stored only once they choose it. The old
default "es" (and any language the interface does not speak) becomes "not chosen"; English and
French, which only an explicit choice could have set, are kept. The downgrade gives "not
chosen" users the old default back."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from storage import migrate
from storage.db import Database

USERS = sa.table(
    "user_account",
    sa.column("username", sa.String),
    sa.column("role", sa.String),
    sa.column("password_hash", sa.String),
    sa.column("language", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _move(db: Database, revision: str, down: bool) -> None:
    cfg = migrate.alembic_config(db)
    with db.engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _languages(db: Database) -> dict[str, str]:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(USERS.c.username, USERS.c.language))
        return {r.username: r.language for r in rows}


def test_the_old_default_becomes_not_chosen_and_real_choices_stay(database_url: str) -> None:
    db = Database(database_url)
    try:
        _move(db, "0007", down=True)
        now = datetime(2026, 11, 30, tzinfo=UTC)
        with db.engine.begin() as conn:
            for name, language in (("ana", "es"), ("ben", "en"), ("chloe", "fr"), ("rui", "pt")):
                conn.execute(
                    USERS.insert().values(
                        username=name,
                        role="viewer",
                        password_hash="x",
                        language=language,
                        created_at=now,
                    )
                )
        _move(db, "0008", down=False)
        assert _languages(db) == {"ana": "", "ben": "en", "chloe": "fr", "rui": ""}
        _move(db, "0007", down=True)
        assert _languages(db) == {"ana": "es", "ben": "en", "chloe": "fr", "rui": "es"}
        migrate.upgrade(db)
    finally:
        db.dispose()
