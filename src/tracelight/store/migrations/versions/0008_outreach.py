"""Outreach to possible victims and buyer deterrence, in tables nothing else joins.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outreach_batches",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("template", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("approved_by", sa.String(64)),
        sa.Column("approved_at", TS),
        sa.Column("sent_at", TS),
    )
    op.create_table(
        "outreach_messages",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("batch_pk", sa.Integer,
                  sa.ForeignKey("outreach_batches.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("provider_id", sa.String(128)),
        sa.Column("sent_at", TS),
        sa.UniqueConstraint("batch_pk", "phone", name="uq_outreach_messages_batch_phone"),
    )
    op.create_index("ix_outreach_messages_phone", "outreach_messages", ["phone"])
    op.create_table(
        "outreach_contacts",
        sa.Column("phone", sa.String(32), primary_key=True),
        sa.Column("opted_out_at", TS),
        sa.Column("last_contacted_at", TS),
        sa.Column("do_not_contact", sa.Text),
        sa.Column("advocate", sa.String(64)),
    )
    op.create_table(
        "outreach_conversations",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("batch_pk", sa.Integer),
        sa.Column("advocate", sa.String(64)),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_outreach_conversations_phone", "outreach_conversations", ["phone"])
    op.create_table(
        "outreach_referrals",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_table(
        "deterrence_log",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("decoy", sa.String(120), nullable=False),
        sa.Column("buyer", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("dry_run", sa.Integer, nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_deterrence_log_buyer", "deterrence_log", ["buyer"])


def downgrade() -> None:
    op.drop_index("ix_deterrence_log_buyer", "deterrence_log")
    op.drop_table("deterrence_log")
    op.drop_table("outreach_referrals")
    op.drop_index("ix_outreach_conversations_phone", "outreach_conversations")
    op.drop_table("outreach_conversations")
    op.drop_table("outreach_contacts")
    op.drop_index("ix_outreach_messages_phone", "outreach_messages")
    op.drop_table("outreach_messages")
    op.drop_table("outreach_batches")
