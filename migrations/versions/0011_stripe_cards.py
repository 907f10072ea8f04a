"""Stripe keys, cards and card setups per tenant, and the Stripe link state of billing accounts.

Revision ID: 0011_stripe_cards
Revises: 0010_payment_issues

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_stripe_cards'
down_revision = '0010_payment_issues'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stripe_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('secret_key_encrypted', sa.Text(), nullable=True),
    sa.Column('publishable_key', sa.String(length=255), nullable=True),
    sa.Column('webhook_secrets_encrypted', sa.Text(), nullable=True),
    sa.Column('payment_provider_code', sa.String(length=120), nullable=False),
    sa.Column('api_base', sa.String(length=500), nullable=True),
    sa.Column('js_url', sa.String(length=500), nullable=True),
    sa.Column('account_id', sa.String(length=64), nullable=True),
    sa.Column('account_name', sa.String(length=255), nullable=True),
    sa.Column('last_tested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_settings'))
    )
    op.create_table('card_setups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('setup_intent_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('error_code', sa.String(length=80), nullable=True),
    sa.Column('payment_method_id', sa.String(length=255), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_card_setups_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_setups')),
    sa.UniqueConstraint('setup_intent_id', name=op.f('uq_card_setups_setup_intent_id'))
    )
    with op.batch_alter_table('card_setups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_setups_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('stripe_id', sa.String(length=255), nullable=False),
    sa.Column('brand', sa.String(length=32), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('exp_month', sa.Integer(), nullable=True),
    sa.Column('exp_year', sa.Integer(), nullable=True),
    sa.Column('funding', sa.String(length=16), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('wallet', sa.String(length=32), nullable=True),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('stripe_created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_cards_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cards')),
    sa.UniqueConstraint('stripe_id', name=op.f('uq_cards_stripe_id'))
    )
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cards_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('billing_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stripe_linked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('stripe_link_error', sa.Text(), nullable=True))



def downgrade():
    with op.batch_alter_table('billing_accounts', schema=None) as batch_op:
        batch_op.drop_column('stripe_link_error')
        batch_op.drop_column('stripe_linked_at')

    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cards_tenant_id'))

    op.drop_table('cards')
    with op.batch_alter_table('card_setups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_setups_tenant_id'))

    op.drop_table('card_setups')
    op.drop_table('stripe_settings')
