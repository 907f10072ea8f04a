"""Each tenant's current usage as Lago last said it, so entitlements answer without calling Lago."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.billing.connection import lago_client
from portal.billing.summary import current_subscription
from portal.extensions import db
from portal.lago import NoUsageYet
from portal.models import Tenant, UsageSnapshot, utcnow

FRESH_FOR = timedelta(seconds=60)


def snapshot(tenant_id: int) -> UsageSnapshot | None:
    return db.session.scalar(sa.select(UsageSnapshot).where(UsageSnapshot.tenant_id == tenant_id))


def refresh(tenant: Tenant, now: datetime | None = None, *, max_age: timedelta = FRESH_FOR) -> bool:
    """Ask Lago for the tenant's usage unless the cached one is younger than `max_age`.

    Returns True when Lago was asked. Raises LagoError or NotConnected (the caller commits).
    """
    now = now or utcnow()
    cached = snapshot(tenant.id)
    if cached is not None and now - cached.fetched_at < max_age:
        return False
    subscription = current_subscription(tenant.id)
    if subscription is None:
        return False
    usage = lago_client().get_current_usage(tenant.customer_external_id, subscription.external_id)
    if cached is None:
        cached = UsageSnapshot(tenant_id=tenant.id)
        db.session.add(cached)
    cached.fetched_at = now
    if isinstance(usage, NoUsageYet):
        cached.units, cached.from_datetime, cached.to_datetime = {}, None, None
        return True
    totals: dict[str, Decimal] = {}
    for charge in usage.charges_usage:
        code = charge.billable_metric_code
        totals[code] = totals.get(code, Decimal(0)) + charge.units
    cached.units = {code: format(total.normalize(), "f") for code, total in totals.items()}
    cached.from_datetime = usage.from_datetime
    cached.to_datetime = usage.to_datetime
    return True
