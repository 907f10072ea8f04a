"""The invoice centre: credit notes mirrored next to their invoices, and an index that walks a
tenant's invoices newest first by (issuing day, id).

Revision ID: 0013_invoice_centre
Revises: 0012_api_tokens_and_usage_outbox
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_invoice_centre"
down_revision = "0012_api_tokens_and_usage_outbox"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "credit_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("lago_id", sa.String(length=64), nullable=False),
        sa.Column("invoice_lago_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("credit_status", sa.String(length=20), nullable=True),
        sa.Column("refund_status", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("credit_amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("refund_amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("issuing_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("file_available", sa.Boolean(), nullable=False),
        sa.Column("source_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("lago_id"),
    )
    with op.batch_alter_table("credit_notes", schema=None) as batch_op:
        batch_op.create_index("ix_credit_notes_tenant_id", ["tenant_id"], unique=False)
        batch_op.create_index("ix_credit_notes_invoice_lago_id", ["invoice_lago_id"], unique=False)
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_tenant_issuing")
        batch_op.create_index(
            "ix_invoices_tenant_listing", ["tenant_id", "issuing_date", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_tenant_listing")
        batch_op.create_index(
            "ix_invoices_tenant_issuing", ["tenant_id", "issuing_date"], unique=False
        )
    with op.batch_alter_table("credit_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_notes_invoice_lago_id")
        batch_op.drop_index("ix_credit_notes_tenant_id")
    op.drop_table("credit_notes")
