"""The host application's access to Pier: API tokens, and the usage events it reports."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import Timestamps, UTCDateTime


class Scope(enum.StrEnum):
    """What a token may do: read, or also write."""

    read = "read"
    write = "write"


class ApiToken(Timestamps, db.Model):
    """A token for the JSON API; only a hash of the secret is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    prefix: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    scopes: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_ip: Mapped[str | None] = mapped_column(sa.String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def allows(self, scope: Scope) -> bool:
        """Write includes read."""
        return scope.value in self.scopes or (scope is Scope.read and "write" in self.scopes)

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class OutboxState(enum.StrEnum):
    """Where a usage event stands on its way to Lago."""

    pending = "pending"
    sent = "sent"
    failed = "failed"


class UsageEvent(db.Model):
    """A usage event accepted from the host application, kept until Lago has it."""

    __tablename__ = "usage_events"
    __table_args__ = (sa.Index("ix_usage_events_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[str] = mapped_column(sa.String(255), unique=True, nullable=False)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    external_subscription_id: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    code: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    properties: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    precise_total_amount_cents: Mapped[str | None] = mapped_column(sa.String(40))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    state: Mapped[OutboxState] = mapped_column(
        sa.Enum(OutboxState, native_enum=False, length=12, validate_strings=True),
        nullable=False,
        default=OutboxState.pending,
    )
    attempts: Mapped[int] = mapped_column(nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    request_id: Mapped[str | None] = mapped_column(sa.String(64))


class UsageSnapshot(db.Model):
    """A tenant's current usage per billable metric as Lago last said it (entitlements read it)."""

    __tablename__ = "usage_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    units: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    from_datetime: Mapped[datetime | None] = mapped_column(UTCDateTime)
    to_datetime: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
