"""The webhook inbox: every verified delivery, stored before it is processed."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow


class EventSource(enum.StrEnum):
    """Who sent the webhook."""

    lago = "lago"
    stripe = "stripe"


class EventStatus(enum.StrEnum):
    """Where an inbox event stands."""

    received = "received"
    processing = "processing"
    processed = "processed"
    failed = "failed"  # will be retried
    dead = "dead"  # retry budget spent; replay by hand
    ignored = "ignored"  # a type Pier does not handle


class WebhookEvent(db.Model):
    """One webhook delivery, unique per (source, unique key); duplicates only bump a counter."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        sa.UniqueConstraint("source", "unique_key"),
        sa.Index("ix_webhook_events_status_received", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[EventSource] = mapped_column(
        sa.Enum(EventSource, native_enum=False, length=16, validate_strings=True), nullable=False
    )
    unique_key: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    event_type: Mapped[str] = mapped_column(sa.String(100), nullable=False, index=True)
    object_type: Mapped[str | None] = mapped_column(sa.String(100))
    object_key: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    headers: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    status: Mapped[EventStatus] = mapped_column(
        sa.Enum(EventStatus, native_enum=False, length=16, validate_strings=True),
        nullable=False,
        default=EventStatus.received,
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(nullable=False, default=0)
    duplicates: Mapped[int] = mapped_column(nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.Text)
    processing_ms: Mapped[float | None] = mapped_column(sa.Float)


class SignatureFailure(db.Model):
    """A webhook refused for its signature; counted for the admin's health card."""

    __tablename__ = "webhook_signature_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[EventSource] = mapped_column(
        sa.Enum(EventSource, native_enum=False, length=16, validate_strings=True), nullable=False
    )
    reason: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    # The JWT issuer of a delivery refused only for its issuer (its signature verified).
    issuer: Mapped[str | None] = mapped_column(sa.String(500))
    received_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, index=True
    )
