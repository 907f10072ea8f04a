"""A tenant may keep the Lago customer an older integration keyed by a user id.

Revision ID: 0016_legacy_customer_keys
Revises: 0015_operation_request_ids
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_legacy_customer_keys"
down_revision = "0015_operation_request_ids"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("legacy_external_id", sa.String(length=255), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_tenants_legacy_external_id"), ["legacy_external_id"]
        )


def downgrade():
    with op.batch_alter_table("tenants") as batch:
        batch.drop_constraint(op.f("uq_tenants_legacy_external_id"), type_="unique")
        batch.drop_column("legacy_external_id")
