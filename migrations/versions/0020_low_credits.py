"""Billing accounts keep the tenant's low-credits level and its crossing.

Revision ID: 0020_low_credits
Revises: 0019_plan_entitlements
"""

import sqlalchemy as sa
from alembic import op

import portal.models.base

revision = "0020_low_credits"
down_revision = "0019_plan_entitlements"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("billing_accounts") as batch:
        batch.add_column(sa.Column("low_credits", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("low_credits_lago_wallet", sa.String(length=255), nullable=True))
        batch.add_column(
            sa.Column(
                "low_credits_since", portal.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade():
    with op.batch_alter_table("billing_accounts") as batch:
        batch.drop_column("low_credits_since")
        batch.drop_column("low_credits_lago_wallet")
        batch.drop_column("low_credits")
