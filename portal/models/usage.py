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
