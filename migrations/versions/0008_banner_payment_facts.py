"""A billing account remembers why its last payment failed and where the bank's confirmation waits.

Revision ID: 0008_banner_payment_facts
Revises: 0007_plan_to_assign
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_banner_payment_facts'
down_revision = '0007_plan_to_assign'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('billing_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_failure_code', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('payment_action_url', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('billing_accounts', schema=None) as batch_op:
        batch_op.drop_column('payment_action_url')
        batch_op.drop_column('payment_failure_code')
