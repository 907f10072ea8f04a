"""The coupons applied to each tenant's Lago customer, mirrored for the billing home.

Revision ID: 0018_applied_coupons
Revises: 0017_usage_lago
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_applied_coupons"
down_revision = "0017_usage_lago"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "applied_coupons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("lago_id", sa.String(length=64), nullable=False),
        sa.Column("coupon_code", sa.String(length=255), nullable=False),
        sa.Column("coupon_name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("frequency", sa.String(length=20), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("amount_cents_remaining", sa.BigInteger(), nullable=True),
        sa.Column("amount_currency", sa.String(length=3), nullable=True),
        sa.Column("percentage_rate", sa.String(length=20), nullable=True),
        sa.Column("frequency_duration", sa.Integer(), nullable=True),
        sa.Column("frequency_duration_remaining", sa.Integer(), nullable=True),
        sa.Column("expiration_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("terminated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_applied_coupons_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applied_coupons")),
        sa.UniqueConstraint("lago_id", name=op.f("uq_applied_coupons_lago_id")),
    )
    op.create_index(
        op.f("ix_applied_coupons_tenant_id"), "applied_coupons", ["tenant_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_applied_coupons_tenant_id"), table_name="applied_coupons")
    op.drop_table("applied_coupons")
