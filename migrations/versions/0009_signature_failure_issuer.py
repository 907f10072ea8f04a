"""Signature failures keep the JWT issuer of a delivery refused only for its issuer.

Revision ID: 0009_signature_failure_issuer
Revises: 0008_user_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_signature_failure_issuer"
down_revision = "0008_user_sessions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("webhook_signature_failures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issuer", sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table("webhook_signature_failures", schema=None) as batch_op:
        batch_op.drop_column("issuer")
