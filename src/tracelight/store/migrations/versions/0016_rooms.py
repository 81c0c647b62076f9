"""Room gallery: hotels and their room photos (content-addressed), for hotel-room matching.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "room_hotels",
        sa.Column("hotel_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("chain", sa.Text),
        sa.Column("address", sa.Text),
        sa.Column("city", sa.String(200)),
        sa.Column("country", sa.String(8)),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
    )
    op.create_index("ix_room_hotels_city", "room_hotels", ["city"])
    op.create_index("ix_room_hotels_country", "room_hotels", ["country"])
    op.create_table(
        "room_images",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("hotel_id", sa.String(64),
                  sa.ForeignKey("room_hotels.hotel_id", ondelete="CASCADE"), nullable=False),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("keypoints", sa.Integer),
        sa.Column("source", sa.Text),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_room_images_hotel", "room_images", ["hotel_id"])


def downgrade() -> None:
    op.drop_index("ix_room_images_hotel", table_name="room_images")
    op.drop_table("room_images")
    op.drop_index("ix_room_hotels_country", table_name="room_hotels")
    op.drop_index("ix_room_hotels_city", table_name="room_hotels")
    op.drop_table("room_hotels")
