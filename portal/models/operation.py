"""Operations: a customer's action on Lago or Stripe, recorded before it is made.

A row names who asked for what (`kind`, `params`), the end state that proves it happened
(`expected`), and an idempotency key that the form carried, so a double click or a replayed
request finds the same row and changes nothing twice.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import Timestamps, UTCDateTime


class OperationState(enum.StrEnum):
    """Where an operation stands."""

    pending = "pending"  # recorded, not yet sent
    submitted = "submitted"  # sent and accepted; waiting for the mirror to show it
    confirmed = "confirmed"  # the mirror shows the expected end state
    failed = "failed"  # refused or could not be sent; nothing changed

    @property
    def finished(self) -> bool:
        return self in (OperationState.confirmed, OperationState.failed)


class Operation(Timestamps, db.Model):
    """One customer action, from the click to its confirmation."""

    __tablename__ = "operations"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_operations_tenant_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    params: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    expected: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    state: Mapped[OperationState] = mapped_column(
        sa.Enum(OperationState, native_enum=False, length=16, validate_strings=True),
        nullable=False,
        default=OperationState.pending,
    )
    message: Mapped[str | None] = mapped_column(sa.Text)
    error_code: Mapped[str | None] = mapped_column(sa.String(80))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The request that recorded it: finds its Lago call, job, webhook and email in the logs.
    request_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
