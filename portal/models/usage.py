"""Usage alerts a customer sets: tell me when a metric's units (or the whole amount) reach X."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import UTCDateTime


class UsageAlert(db.Model):
    """A target for one metric's units, or (no metric) the period's usage amount in cents;
    Pier tells the tenant at 50, 80 and 100 % of it, once per level and period."""

    __tablename__ = "usage_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    metric_code: Mapped[str | None] = mapped_column(sa.String(255))
    metric_name: Mapped[str | None] = mapped_column(sa.String(255))
    target: Mapped[str] = mapped_column(sa.String(40), nullable=False)  # a decimal
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # The external ids of the subscriptions on which Lago holds this alert (code
    # `lago_code`) and sends `alert.triggered`; Pier's job evaluates the others.
    lago_subscriptions: Mapped[list | None] = mapped_column(sa.JSON)

    @property
    def lago_code(self) -> str:
        """The alert's code in Lago."""
        return f"pier_alert_{self.id}"

    def held_by_lago(self, external_subscription_id: str) -> bool:
        """Whether Lago evaluates this alert on that subscription."""
        return external_subscription_id in (self.lago_subscriptions or [])


class UsageDay(db.Model):
    """The usage amount of one subscription's period as Pier last read it on one day of that
    period (day 1 is the period's first day in the tenant's zone)."""

    __tablename__ = "usage_days"
    __table_args__ = (
        sa.UniqueConstraint(
            "tenant_id",
            "external_subscription_id",
            "period_start",
            "day",
            name="uq_usage_days_period_day",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    external_subscription_id: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    day: Mapped[int] = mapped_column(nullable=False)
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
