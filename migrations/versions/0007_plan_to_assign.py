"""A new organisation remembers the plan it is to be given in Lago.

Revision ID: 0007_plan_to_assign
Revises: 0006_subscription_pending_plan
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_plan_to_assign'
down_revision = '0006_subscription_pending_plan'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_to_assign', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('plan_to_assign')
