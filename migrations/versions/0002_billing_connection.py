"""The billing connection, the plan catalogue and tenant billing details.

Revision ID: 0002_billing_connection
Revises: 0001_accounts
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0002_billing_connection"
down_revision = "0001_accounts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "billing_connection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "provider",
            sa.Enum(
                "lago_self_hosted",
                "lago_cloud_us",
                "lago_cloud_eu",
                name="provider",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("api_url", sa.String(length=500), nullable=False),
        sa.Column("api_key_encrypted", sa.Text(), nullable=False),
        sa.Column(
            "webhook_algorithm",
            sa.Enum("jwt", "hmac", name="webhookalgorithm", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("hmac_key_encrypted", sa.Text(), nullable=True),
        sa.Column("webhook_public_key", sa.Text(), nullable=True),
        sa.Column("webhook_issuer", sa.String(length=500), nullable=True),
        sa.Column("webhook_endpoint_id", sa.String(length=64), nullable=True),
        sa.Column("organization_id", sa.String(length=64), nullable=True),
        sa.Column("organization_name", sa.String(length=255), nullable=True),
        sa.Column("organization_currency", sa.String(length=3), nullable=True),
        sa.Column("organization_timezone", sa.String(length=64), nullable=True),
        sa.Column("lago_version", sa.String(length=40), nullable=True),
        sa.Column("default_currency", sa.String(length=3), nullable=False),
        sa.Column("default_trial_days", sa.Integer(), nullable=False),
        sa.Column("auto_create_customers", sa.Boolean(), nullable=False),
        sa.Column("default_plan_code", sa.String(length=255), nullable=True),
        sa.Column("sync_plans_to_lago", sa.Boolean(), nullable=False),
        sa.Column("lago_sends_invoice_emails", sa.Boolean(), nullable=False),
        sa.Column("overage_enabled", sa.Boolean(), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_tested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_plan_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_connection")),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=255), nullable=False),
        sa.Column("lago_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("interval", sa.String(length=16), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("trial_period_days", sa.Float(), nullable=False),
        sa.Column("pay_in_advance", sa.Boolean(), nullable=False),
        sa.Column("charges", sa.JSON(), nullable=False),
        sa.Column("lago_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("removed_from_lago_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("display_name", sa.String(length=120), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("highlighted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("code", name=op.f("uq_plans_code")),
        sa.UniqueConstraint("lago_id", name=op.f("uq_plans_lago_id")),
    )
    op.create_table(
        "plan_transitions",
        sa.Column("from_plan_id", sa.Integer(), nullable=False),
        sa.Column("to_plan_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_transitions_from_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_transitions_to_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("from_plan_id", "to_plan_id", name=op.f("pk_plan_transitions")),
    )
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("address_line1", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("address_line2", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("city", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("zipcode", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("state", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch_op.add_column(
            sa.Column("tax_identification_number", sa.String(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("lago_customer_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("sync_next_attempt_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tenants_created_by_id_users"),
            "users",
            ["created_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_tenants_created_by_id_users"), type_="foreignkey")
        batch_op.drop_column("sync_next_attempt_at")
        batch_op.drop_column("lago_customer_id")
        batch_op.drop_column("created_by_id")
        batch_op.drop_column("tax_identification_number")
        batch_op.drop_column("country")
        batch_op.drop_column("state")
        batch_op.drop_column("zipcode")
        batch_op.drop_column("city")
        batch_op.drop_column("address_line2")
        batch_op.drop_column("address_line1")
        batch_op.drop_column("currency")

    op.drop_table("plan_transitions")
    op.drop_table("plans")
    op.drop_table("billing_connection")
