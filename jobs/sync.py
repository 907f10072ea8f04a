"""Customer sync jobs."""

from __future__ import annotations

from jobs.runtime import in_app_context
from portal.billing import customers
from portal.extensions import db
from portal.models import Tenant


@in_app_context
def sync_tenant(tenant_id: int) -> str:
    """Write the tenant's Lago customer; raises on a transient failure so RQ retries."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return "gone"
    try:
        synced = customers.sync_tenant(tenant)
    finally:
        db.session.commit()
    return "synced" if synced else "failed"


@in_app_context
def sweep_pending_syncs() -> int:
    """Queue every sync that is due but not queued; returns how many."""
    due = customers.due_for_sync()
    for tenant_id in due:
        customers.request_sync(tenant_id)
    return len(due)
