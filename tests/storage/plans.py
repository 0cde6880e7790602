"""The query plan of a statement, as the index tests read it on either database."""

from __future__ import annotations

import sqlalchemy as sa

from storage.db import Database


def plan_text(db: Database, statement: sa.Select) -> str:
    """The plan of `statement` with its values inlined, as one line: SQLite's `EXPLAIN QUERY
    PLAN` steps, or PostgreSQL's `EXPLAIN` with sequential scans discouraged (the tables of a
    test are small enough for a scan to win, which says nothing about a real table)."""
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
            return " ".join(str(r[-1]) for r in rows)
        conn.exec_driver_sql("SET enable_seqscan = off")
        return " ".join(str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
