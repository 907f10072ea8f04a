"""Usage cron: read each tenant's current usage from Lago and announce the alerts it reaches."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from jobs.runtime import in_app_context
from portal.billing.connection import NotConnected
from portal.extensions import db
from portal.lago import LagoError
from portal.models import Tenant, UsageAlert
from portal.usage import alerts, current

log = logging.getLogger(__name__)


@in_app_context
def check_usage_alerts() -> int:
    """Evaluate every tenant's usage alerts; returns how many levels were newly reached."""
    tenant_ids = db.session.scalars(sa.select(UsageAlert.tenant_id).distinct()).all()
    announced = 0
    for tenant_id in tenant_ids:
        tenant = db.session.get(Tenant, tenant_id)
        if tenant is None:
            continue
        try:
            usage = current.current_usage(tenant, fresh=True)
        except NotConnected:
            return announced
        except LagoError as error:
            log.warning("usage of tenant %s not read: %s", tenant_id, error)
            db.session.rollback()
            continue
        announced += alerts.notify(tenant, usage)
    return announced
