"""mail language wanted: each outbox row records the recipient's own language next to the
language the message is written in, so the coordinator sees when a mail fell back (the
catalogue lacked the event's sentences in the recipient's language)

Existing rows get NULL ("not recorded"): no fallback is shown for them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("wanted_language", sa.String(length=35), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("wanted_language")
