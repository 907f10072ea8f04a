"""Why an invoice is unpaid (declined, 3-D Secure, no card), and Lago's card setup link.

Revision ID: 0010_payment_issues
Revises: 0009_signature_failure_issuer
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_payment_issues"
down_revision = "0009_signature_failure_issuer"
branch_labels = None
depends_on = None

ISSUE = sa.Enum(
    "declined",
    "authentication_required",
    "no_payment_method",
    name="paymentissue",
    native_enum=False,
    length=32,
)


def upgrade():
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_issue", ISSUE, nullable=True))
        batch_op.add_column(sa.Column("payment_issue_detail", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("payment_action_url", sa.Text(), nullable=True))
    with op.batch_alter_table("billing_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_issue", ISSUE, nullable=True))
        batch_op.add_column(sa.Column("card_setup_url", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("billing_accounts", schema=None) as batch_op:
        batch_op.drop_column("card_setup_url")
        batch_op.drop_column("payment_issue")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_column("payment_action_url")
        batch_op.drop_column("payment_issue_detail")
        batch_op.drop_column("payment_issue")
