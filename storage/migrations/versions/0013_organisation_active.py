"""organisation active: an organisation can be deactivated (and reactivated) instead of deleted

A coordinator who no longer works with an organisation (a body that was merged, a party that
was dissolved) deactivates it from /organisations: it keeps its requests and their history, but
is no longer offered for new requests (the web form, `cicie request new --org`, the API refuse
it and say how to reactivate it). Each row of `emb` gets `active`; every existing row is active
(the server default). The downgrade drops the column in place (the rows, and the requests that
point at them, stay).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # not in batch mode either: SQLite adds a NOT NULL column with a default in place, without
    # rebuilding a table that requests reference
    op.add_column(
        "emb", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
    )


def downgrade() -> None:
    # not in batch mode: rebuilding `emb` on SQLite would drop a table the requests reference,
    # which foreign keys forbid inside the migration's transaction; SQLite (3.35+) drops a
    # column in place
    op.drop_column("emb", "active")
