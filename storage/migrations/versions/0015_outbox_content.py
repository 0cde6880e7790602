"""outbox content: a message's rendered text and HTML kept once for the recipients of one
notification who read the same words, and the MIME assembled from it when the message is sent
(issue 16)

`outbox_content` holds the shared rendering (each recipient's name and link stand in it as
marks) and the .ics invitation's fields; an outbox row points at it (`content_id`) and keeps
its own subject, name (`to_name`) and link (`link`). `body` becomes nullable: rows written
before keep their MIME bytes and are sent as they are; new rows leave it NULL. A transition
writes about half the bytes it did (no base64, no copy per recipient).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_content",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sender", sa.String(length=400), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("name_mark", sa.String(length=60), nullable=True),
        sa.Column("link_mark", sa.String(length=60), nullable=True),
        sa.Column("invitation", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("body", existing_type=sa.LargeBinary(), nullable=True)
        batch.add_column(sa.Column("content_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("link", sa.Text(), nullable=True))
        batch.create_foreign_key("fk_outbox_content_id", "outbox_content", ["content_id"], ["id"])


def downgrade() -> None:
    # messages assembled from a content have no bytes of their own: they go with it
    op.execute("DELETE FROM outbox WHERE body IS NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("fk_outbox_content_id", type_="foreignkey")
        batch.drop_column("link")
        batch.drop_column("content_id")
        batch.alter_column("body", existing_type=sa.LargeBinary(), nullable=False)
    op.drop_table("outbox_content")
