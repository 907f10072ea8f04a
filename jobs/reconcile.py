"""Reconciliation jobs: hourly for every tenant, and on demand."""

from __future__ import annotations

import logging

from jobs.runtime import in_app_context
from portal.billing import reconcile
from portal.billing.connection import NotConnected, get_connection
from portal.extensions import db
from portal.lago import LagoError
from portal.models import Tenant

log = logging.getLogger(__name__)


@in_app_context
def reconcile_all() -> dict:
    """Reconcile every synced tenant, one commit each; a failing tenant does not stop the rest."""
    if get_connection() is None:
        return {"skipped": "billing is not connected"}
    summary = {"tenants": 0, "repaired": 0, "failed": 0}
    for tenant_id in reconcile.tenants_to_reconcile():
        summary["tenants"] += 1
        try:
            repair = reconcile.reconcile_tenant(db.session.get(Tenant, tenant_id))
        except (LagoError, NotConnected) as exc:
            db.session.rollback()
            summary["failed"] += 1
            log.warning("reconciliation of tenant %s failed: %s", tenant_id, exc)
            continue
        db.session.commit()
        summary["repaired"] += bool(repair.fixed)
    return summary


@in_app_context
def reconcile_one(tenant_id: int) -> list[str]:
    """Reconcile one tenant now."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return []
    repair = reconcile.reconcile_tenant(tenant)
    db.session.commit()
    return repair.fixed
