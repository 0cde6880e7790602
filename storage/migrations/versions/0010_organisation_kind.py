"""organisation kind: the organisations that request programmes are no longer only EMBs

The brochure ("To whom are the Center's programs addressed to?") says requests now also come
from civil society organisations and political parties. Each row of `emb` gets a `kind`: emb,
civil_society, political_party, academic or other. Every existing row was registered as an EMB,
so it gets "emb" (the server default); the downgrade drops the column (in place: the rows, and
the requests that point at them, stay).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("emb") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=20), nullable=False, server_default="emb")
        )


def downgrade() -> None:
    # not in batch mode: rebuilding `emb` on SQLite would drop a table the requests reference,
    # which foreign keys forbid inside the migration's transaction; SQLite (3.35+) drops a
    # column in place
    op.drop_column("emb", "kind")
