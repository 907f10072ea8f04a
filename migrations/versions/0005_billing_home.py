"""The billing home: the customer's time zone as Lago applies it; termination settings.

Revision ID: 0005_billing_home
Revises: 0004_operations
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_billing_home'
down_revision = '0004_operations'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('billing_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applicable_timezone', sa.String(length=64), nullable=True))
    with op.batch_alter_table('billing_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('termination_credit_note', sa.String(length=10), nullable=False, server_default='credit'))
        batch_op.add_column(sa.Column('termination_invoice', sa.String(length=10), nullable=False, server_default='generate'))


def downgrade():
    with op.batch_alter_table('billing_connection', schema=None) as batch_op:
        batch_op.drop_column('termination_invoice')
        batch_op.drop_column('termination_credit_note')
    with op.batch_alter_table('billing_accounts', schema=None) as batch_op:
        batch_op.drop_column('applicable_timezone')
