"""Dunning cron: suspend accounts that stayed overdue past the grace period."""

from __future__ import annotations

from jobs.runtime import in_app_context
from portal.billing import dunning
from portal.extensions import db
from portal.models import Tenant, utcnow


@in_app_context
def suspend_overdue_accounts() -> int:
    """Suspend each account overdue for longer than `suspension_grace_days`; returns how many."""
    now = utcnow()
    suspended = 0
    for tenant_id in dunning.overdue_past_grace(now):
        tenant = db.session.get(Tenant, tenant_id)
        if tenant is not None and dunning.suspend_if_due(tenant, now):
            suspended += 1
        db.session.commit()
    return suspended
