"""Plans mirror Lago's entitlements: the features each plan grants, with privilege values.

Revision ID: 0019_plan_entitlements
Revises: 0018_applied_coupons
"""

import sqlalchemy as sa
from alembic import op


revision = "0019_plan_entitlements"
down_revision = "0018_applied_coupons"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("plans") as batch:
        batch.add_column(
            sa.Column("entitlements", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade():
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("entitlements")
