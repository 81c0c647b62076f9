"""Networks: linked ads, their evidence, hubs, and the linker's saved state.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "networks",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("network_id", sa.String(64), nullable=False, unique=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("first_seen", TS),
        sa.Column("last_seen", TS),
        sa.Column("risk_max", sa.Float),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_networks_size", "networks", ["size"])
    op.create_table(
        "network_members",
        sa.Column("ad_pk", sa.Integer, sa.ForeignKey("ads.pk", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("network_pk", sa.Integer, sa.ForeignKey("networks.pk", ondelete="CASCADE"),
                  nullable=False),
    )
    op.create_index("ix_network_members_network", "network_members", ["network_pk"])
    op.create_table(
        "network_evidence",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("network_pk", sa.Integer, sa.ForeignKey("networks.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("strength", sa.String(16), nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("ad_ids", sa.JSON, nullable=False),
    )
    op.create_index("ix_network_evidence_network", "network_evidence", ["network_pk"])
    op.create_index("ix_network_evidence_kind_value", "network_evidence", ["kind", "value"])
    op.create_table(
        "link_hubs",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("ads", sa.Integer, nullable=False),
        sa.Column("groups", sa.Integer),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("example_ad", sa.Text),
    )
    op.create_table(
        "link_state",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "link_runs",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("ads", sa.Integer, nullable=False),
        sa.Column("new_ads", sa.Integer, nullable=False),
        sa.Column("networks", sa.Integer, nullable=False),
        sa.Column("stats", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in ("link_runs", "link_state", "link_hubs", "network_evidence",
                  "network_members", "networks"):
        op.drop_table(table)
