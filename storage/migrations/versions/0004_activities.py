"""activities: programme results imported from the brochure's history (issue 6)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONData = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "activity_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("stated", JSONData, nullable=False),
        sa.Column("topics", JSONData, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("activity_source", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activity_source_name"), ["name"], unique=True)

    op.create_table(
        "activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("programme", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("period", sa.String(length=120), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=True),
        sa.Column("listed_under", sa.String(length=20), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("institutions", sa.Integer(), nullable=True),
        sa.Column("partners", JSONData, nullable=False),
        sa.Column("themes", JSONData, nullable=False),
        sa.Column("stated", JSONData, nullable=False),
        sa.Column("as_printed", sa.Text(), nullable=True),
        sa.Column("reading", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["activity_source.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "key"),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activity_programme"), ["programme"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_source_id"), ["source_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_year"), ["year"], unique=False)

    op.create_table(
        "activity_country",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activity.id"]),
        sa.PrimaryKeyConstraint("activity_id", "country", "role"),
    )
    with op.batch_alter_table("activity_country", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_country_country"), ["country"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("activity_country", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_country_country"))
    op.drop_table("activity_country")

    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_year"))
        batch_op.drop_index(batch_op.f("ix_activity_source_id"))
        batch_op.drop_index(batch_op.f("ix_activity_programme"))
    op.drop_table("activity")

    with op.batch_alter_table("activity_source", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_source_name"))
    op.drop_table("activity_source")
