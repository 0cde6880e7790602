"""outbox attachments: the documents an outbox row asks the dispatcher to attach when it
sends (issue 15: each delegate's invitation letter and agenda pack, as PDF)

A JSON list of references, [{"kind": "invitation_letter" | "agenda_pack", "delegate": n}],
written by the outbox writer for a notification that declares them (`attach:` in the
workflow); the PDFs themselves are made from the request's current data at sending time
(notifications/attachments.py), never stored. Existing rows get NULL: nothing to attach.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column(
                "attachments",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("attachments")
