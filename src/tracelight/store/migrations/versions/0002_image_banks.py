"""Image hash banks: banks, bank_hashes, bank_matches (alerts).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "banks",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("source", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "bank_hashes",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("bank_pk", sa.Integer, sa.ForeignKey("banks.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("label", sa.Text),
        sa.UniqueConstraint("bank_pk", "kind", "value", name="uq_bank_hashes_bank_kind_value"),
    )
    op.create_index("ix_bank_hashes_kind_value", "bank_hashes", ["kind", "value"])
    op.create_table(
        "bank_matches",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("bank_hash_pk", sa.Integer,
                  sa.ForeignKey("bank_hashes.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("image_pk", sa.Integer, sa.ForeignKey("images.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("distance", sa.Integer, nullable=False),
        sa.Column("matched_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.UniqueConstraint("bank_hash_pk", "image_pk", name="uq_bank_matches_hash_image"),
    )
    op.create_index("ix_bank_matches_image", "bank_matches", ["image_pk"])


def downgrade() -> None:
    for table in ("bank_matches", "bank_hashes", "banks"):
        op.drop_table(table)
