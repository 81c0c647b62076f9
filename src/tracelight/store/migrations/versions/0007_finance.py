"""Follow the money: bank accounts, transactions, alerts and account <-> ad links.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fin_accounts",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(128), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        *[sa.Column(name, sa.String(200), nullable=False, server_default="")
          for name in ("business_type", "opened", "phone", "email", "handle", "crypto",
                       "address", "city", "region")],
        sa.Column("country", sa.String(3), nullable=False, server_default=""),
        sa.Column("opening_hours", sa.String(20), nullable=False, server_default=""),
    )
    op.create_table(
        "fin_transactions",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tx_id", sa.String(128), nullable=False, unique=True),
        sa.Column("ts", TS, nullable=False),
        sa.Column("tz_minutes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("from_account", sa.String(128), nullable=False, server_default=""),
        sa.Column("to_account", sa.String(128), nullable=False, server_default=""),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("merchant", sa.String(200), nullable=False, server_default=""),
        sa.Column("mcc", sa.String(4), nullable=False, server_default=""),
        sa.Column("city", sa.String(200), nullable=False, server_default=""),
        sa.Column("region", sa.String(200), nullable=False, server_default=""),
        sa.Column("country", sa.String(3), nullable=False, server_default=""),
    )
    op.create_index("ix_fin_tx_ts", "fin_transactions", ["ts", "pk"])
    op.create_index("ix_fin_tx_from", "fin_transactions", ["from_account"])
    op.create_index("ix_fin_tx_to", "fin_transactions", ["to_account"])
    op.create_table(
        "fin_alerts",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.String(32), nullable=False, unique=True),
        sa.Column("account_id", sa.String(128), nullable=False),
        sa.Column("typologies", sa.JSON, nullable=False),
        sa.Column("indicators", sa.JSON, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("linked_ads", sa.JSON, nullable=False),
        sa.Column("linked_networks", sa.JSON, nullable=False),
        sa.Column("score_reasons", sa.JSON, nullable=False),
        sa.Column("scored_at", TS, nullable=False),
    )
    op.create_index("ix_fin_alerts_score", "fin_alerts", ["score"])
    op.create_index("ix_fin_alerts_account", "fin_alerts", ["account_id"])
    op.create_table(
        "fin_account_ads",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(128), nullable=False),
        sa.Column("ad_pk", sa.Integer, sa.ForeignKey("ads.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.UniqueConstraint("account_id", "ad_pk", "kind", "value", name="uq_fin_account_ads"),
    )
    op.create_index("ix_fin_account_ads_ad", "fin_account_ads", ["ad_pk"])


def downgrade() -> None:
    op.drop_table("fin_account_ads")
    op.drop_index("ix_fin_alerts_account", "fin_alerts")
    op.drop_index("ix_fin_alerts_score", "fin_alerts")
    op.drop_table("fin_alerts")
    op.drop_table("fin_transactions")
    op.drop_table("fin_accounts")
