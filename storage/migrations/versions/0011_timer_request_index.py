"""timer request index: a request's timers by status in due order (every transition and every
request page asks for them); the planner used ix_timer_due(status) and read every pending timer
of every request, so a transition slowed down as the table grew (issue 16)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_timer_request_status_due", "timer", ["request_id", "status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_timer_request_status_due", table_name="timer")
