"""Usage alerts a customer sets on a metric or on the period's amount.

Revision ID: 0014_usage_alerts
Revises: 0013_invoice_centre
"""

import sqlalchemy as sa
from alembic import op


revision = "0014_usage_alerts"
down_revision = "0013_invoice_centre"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "usage_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("metric_code", sa.String(length=255), nullable=True),
        sa.Column("metric_name", sa.String(length=255), nullable=True),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_usage_alerts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_usage_alerts_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_alerts")),
    )
    op.create_index(op.f("ix_usage_alerts_tenant_id"), "usage_alerts", ["tenant_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_usage_alerts_tenant_id"), table_name="usage_alerts")
    op.drop_table("usage_alerts")
