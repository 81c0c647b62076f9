"""Room photos an analyst uploaded to match and then attached to a case, with the hotel
candidates shown at the time (the bytes are in the content-addressed image store).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "room_uploads",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_pk", sa.Integer, sa.ForeignKey("cases.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("exclude", sa.String(100), nullable=False, server_default=""),
        sa.Column("candidates", sa.JSON, nullable=False),
        sa.UniqueConstraint("case_pk", "sha256", name="uq_room_uploads"),
    )


def downgrade() -> None:
    op.drop_table("room_uploads")
