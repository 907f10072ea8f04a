"""The webhook inbox, the billing mirror, notices and the email log.

Revision ID: 0003_inbox_and_mirror
Revises: 0002_billing_connection
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_inbox_and_mirror'
down_revision = '0002_billing_connection'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('billing_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trial_reminder_days', sa.Integer(), nullable=False, server_default='3'))
        batch_op.add_column(sa.Column('suspension_grace_days', sa.Integer(), nullable=False, server_default='14'))
    op.create_table('webhook_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('lago', 'stripe', name='eventsource', native_enum=False, length=16), nullable=False),
    sa.Column('unique_key', sa.String(length=255), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('object_type', sa.String(length=100), nullable=True),
    sa.Column('object_key', sa.String(length=255), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('received', 'processing', 'processed', 'failed', 'dead', 'ignored', name='eventstatus', native_enum=False, length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('processing_ms', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events')),
    sa.UniqueConstraint('source', 'unique_key', name=op.f('uq_webhook_events_source'))
    )
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_events_event_type'), ['event_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_events_object_key'), ['object_key'], unique=False)
        batch_op.create_index('ix_webhook_events_status_received', ['status', 'received_at'], unique=False)

    op.create_table('webhook_signature_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('lago', 'stripe', name='eventsource', native_enum=False, length=16), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_signature_failures'))
    )
    with op.batch_alter_table('webhook_signature_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_signature_failures_received_at'), ['received_at'], unique=False)

    op.create_table('billing_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('payment_provider', sa.String(length=32), nullable=True),
    sa.Column('provider_customer_id', sa.String(length=255), nullable=True),
    sa.Column('payment_provider_error', sa.Text(), nullable=True),
    sa.Column('wallet_lago_id', sa.String(length=64), nullable=True),
    sa.Column('wallet_balance_cents', sa.BigInteger(), nullable=True),
    sa.Column('wallet_credits', sa.String(length=40), nullable=True),
    sa.Column('wallet_currency', sa.String(length=3), nullable=True),
    sa.Column('wallet_depleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dunning_state', sa.Enum('ok', 'payment_failed', 'overdue', 'suspended', name='dunningstate', native_enum=False, length=20), nullable=False),
    sa.Column('dunning_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dunning_invoice_lago_id', sa.String(length=64), nullable=True),
    sa.Column('payment_failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reconciled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_billing_accounts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_accounts')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_billing_accounts_tenant_id'))
    )
    op.create_table('email_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=255), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('template', sa.String(length=60), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_email_log_tenant_id_tenants'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_log')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_email_log_dedupe_key'))
    )
    with op.batch_alter_table('email_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_log_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('lago_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=True),
    sa.Column('invoice_type', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('payment_status', sa.String(length=20), nullable=True),
    sa.Column('payment_overdue', sa.Boolean(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total_amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('taxes_amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('total_due_amount_cents', sa.BigInteger(), nullable=True),
    sa.Column('issuing_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('payment_due_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('file_available', sa.Boolean(), nullable=False),
    sa.Column('lago_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_invoices_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('lago_id', name=op.f('uq_invoices_lago_id'))
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoices_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_invoices_tenant_issuing', ['tenant_id', 'issuing_date'], unique=False)

    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notices_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
    sa.UniqueConstraint('key', name=op.f('uq_notices_key'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=False),
    sa.Column('lago_id', sa.String(length=64), nullable=False),
    sa.Column('plan_code', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('billing_time', sa.String(length=20), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('subscription_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('trial_ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('trial_ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('current_period_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('current_period_ending_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ending_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('terminated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('canceled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_plan_code', sa.String(length=255), nullable=True),
    sa.Column('downgrade_plan_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('previous_plan_code', sa.String(length=255), nullable=True),
    sa.Column('source_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_subscriptions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions')),
    sa.UniqueConstraint('lago_id', name=op.f('uq_subscriptions_lago_id'))
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriptions_tenant_id'), ['tenant_id'], unique=False)



def downgrade():
    with op.batch_alter_table('billing_connection', schema=None) as batch_op:
        batch_op.drop_column('suspension_grace_days')
        batch_op.drop_column('trial_reminder_days')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriptions_tenant_id'))

    op.drop_table('subscriptions')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_tenant_id'))

    op.drop_table('notices')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_invoices_tenant_issuing')
        batch_op.drop_index(batch_op.f('ix_invoices_tenant_id'))

    op.drop_table('invoices')
    with op.batch_alter_table('email_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_log_tenant_id'))

    op.drop_table('email_log')
    op.drop_table('billing_accounts')
    with op.batch_alter_table('webhook_signature_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_signature_failures_received_at'))

    op.drop_table('webhook_signature_failures')
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_events_status_received')
        batch_op.drop_index(batch_op.f('ix_webhook_events_object_key'))
        batch_op.drop_index(batch_op.f('ix_webhook_events_event_type'))

    op.drop_table('webhook_events')
