"""Usage alerts Lago evaluates, whether the Lago instance has the alerts API, and each day's
usage amount Pier reads (to compare a period with the last one at the same day).

Revision ID: 0017_usage_lago
Revises: 0016_legacy_customer_keys
"""

import sqlalchemy as sa
from alembic import op


revision = "0017_usage_lago"
down_revision = "0016_legacy_customer_keys"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("usage_alerts") as batch:
        batch.add_column(sa.Column("lago_subscriptions", sa.JSON(), nullable=True))
    with op.batch_alter_table("billing_connection") as batch:
        batch.add_column(sa.Column("lago_alerts", sa.Boolean(), nullable=True))
    op.create_table(
        "usage_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("external_subscription_id", sa.String(length=255), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_usage_days_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_days")),
        sa.UniqueConstraint(
            "tenant_id",
            "external_subscription_id",
            "period_start",
            "day",
            name=op.f("uq_usage_days_period_day"),
        ),
    )


def downgrade():
    op.drop_table("usage_days")
    with op.batch_alter_table("billing_connection") as batch:
        batch.drop_column("lago_alerts")
    with op.batch_alter_table("usage_alerts") as batch:
        batch.drop_column("lago_subscriptions")
