"""revocable access: user activity and last sign-in, server-side sessions, token expiry and
last use, sign-in attempts shared by every instance, a links epoch per request

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("last_login", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_used", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("request") as batch:
        batch.add_column(
            sa.Column("links_epoch", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "user_session",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"])
    op.create_index("ix_user_session_expires_at", "user_session", ["expires_at"])
    op.create_table(
        "sign_in_attempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sign_in_attempt_key_at", "sign_in_attempt", ["key", "at"])
    op.create_index("ix_sign_in_attempt_at", "sign_in_attempt", ["at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_attempt_at", table_name="sign_in_attempt")
    op.drop_index("ix_sign_in_attempt_key_at", table_name="sign_in_attempt")
    op.drop_table("sign_in_attempt")
    op.drop_index("ix_user_session_expires_at", table_name="user_session")
    op.drop_index("ix_user_session_user_id", table_name="user_session")
    op.drop_table("user_session")
    with op.batch_alter_table("request") as batch:
        batch.drop_column("links_epoch")
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("last_used")
        batch.drop_column("expires_at")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("last_login")
        batch.drop_column("active")
