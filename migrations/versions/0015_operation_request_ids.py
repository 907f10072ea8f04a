"""Operations remember the request id of the action that recorded them.

Revision ID: 0015_operation_request_ids
Revises: 0014_usage_alerts
"""

import sqlalchemy as sa
from alembic import op


revision = "0015_operation_request_ids"
down_revision = "0014_usage_alerts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))
        batch.create_index("ix_operations_request_id", ["request_id"])


def downgrade():
    with op.batch_alter_table("operations") as batch:
        batch.drop_index("ix_operations_request_id")
        batch.drop_column("request_id")
