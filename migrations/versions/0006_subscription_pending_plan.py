"""A subscription's scheduled downgrade: the pending plan and the day it takes over.

Revision ID: 0006_subscription_pending_plan
Revises: 0005_billing_home
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006_subscription_pending_plan"
down_revision = "0005_billing_home"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_plan_code", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("pending_plan_starts_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("pending_plan_starts_at")
        batch_op.drop_column("pending_plan_code")
