"""derived filters and search: `request_facet` (themes and years of each request, with its
programme, state and organisation copied, so dashboard counts read one index), `request_token`
and `emb_token` (folded words for the search of issue 15), and an index on the request's
organisation, programme and state; existing rows are backfilled with the same derivation the
write paths use (storage/derived.py) (issues 15 and 16)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKEN = sa.String(80).with_variant(sa.String(80, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_index("ix_request_emb_programme_state", "request", ["emb_id", "programme", "state"])
    op.create_index("ix_request_state_programme", "request", ["state", "programme"])
    op.create_table(
        "request_facet",
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("request.id"), nullable=False),
        sa.Column("facet", sa.String(20), nullable=False),
        sa.Column("value", sa.String(120), nullable=False),
        sa.Column("programme", sa.String(80), nullable=False),
        sa.Column("state", sa.String(80), nullable=False),
        sa.Column("emb_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("request_id", "facet", "value"),
    )
    op.create_index(
        "ix_request_facet_count",
        "request_facet",
        ["facet", "value", "programme", "state", "emb_id", "request_id"],
    )
    op.create_table(
        "request_token",
        sa.Column("token", TOKEN, nullable=False),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("request.id"), nullable=False),
        sa.PrimaryKeyConstraint("token", "request_id"),
    )
    op.create_index("ix_request_token_request", "request_token", ["request_id"])
    op.create_table(
        "emb_token",
        sa.Column("token", TOKEN, nullable=False),
        sa.Column("emb_id", sa.Integer(), sa.ForeignKey("emb.id"), nullable=False),
        sa.PrimaryKeyConstraint("token", "emb_id"),
    )
    op.create_index("ix_emb_token_emb", "emb_token", ["emb_id"])

    from storage import derived  # the same derivation as the write paths

    conn = op.get_bind()
    derived.rebuild_embs(conn)
    derived.rebuild_requests(conn)


def downgrade() -> None:
    op.drop_index("ix_emb_token_emb", table_name="emb_token")
    op.drop_table("emb_token")
    op.drop_index("ix_request_token_request", table_name="request_token")
    op.drop_table("request_token")
    op.drop_index("ix_request_facet_count", table_name="request_facet")
    op.drop_table("request_facet")
    op.drop_index("ix_request_state_programme", table_name="request")
    op.drop_index("ix_request_emb_programme_state", table_name="request")
