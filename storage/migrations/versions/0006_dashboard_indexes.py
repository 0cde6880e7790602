"""dashboard indexes: counts by programme and state, stale requests by state and last change

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_request_programme_state", "request", ["programme", "state"])
    op.create_index("ix_request_state_updated", "request", ["state", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_request_state_updated", table_name="request")
    op.drop_index("ix_request_programme_state", table_name="request")
