"""Usage jobs: forward the event outbox to Lago, and announce the usage alerts tenants reach."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import sqlalchemy as sa

from jobs.runtime import in_app_context
from portal.billing import usage_cache, usage_outbox
from portal.billing.connection import NotConnected
from portal.extensions import db
from portal.lago import LagoError
from portal.models import SubscriptionMirror, Tenant, UsageAlert
from portal.usage import alerts, compare, current, lago_alerts
from portal.usage.current import CurrentUsage

log = logging.getLogger(__name__)

MAX_BATCHES = 500


@in_app_context
def forward_due(max_batches: int = MAX_BATCHES) -> dict:
    """Send every due event (100 at a time) until none is due or Lago stops taking them."""
    total = usage_outbox.Outcome()
    tenants: set[int] = set()
    for _ in range(max_batches):
        ids = usage_outbox.claim_batch()
        db.session.commit()
        if not ids:
            break
        outcome = usage_outbox.forward(ids)
        db.session.commit()
        total.sent += outcome.sent
        total.failed += outcome.failed
        total.waiting += outcome.waiting
        tenants |= outcome.tenants
        if outcome.waiting:
            break
    for tenant_id in sorted(tenants):
        _refresh_usage(tenant_id)
    return {"sent": total.sent, "failed": total.failed, "waiting": total.waiting}


def _refresh_usage(tenant_id: int) -> None:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return
    try:
        usage_cache.refresh(tenant)
    except (LagoError, NotConnected) as exc:
        db.session.rollback()
        log.warning("usage of tenant %s not refreshed: %s", tenant_id, exc)
        return
    db.session.commit()


def _hand_over(tenant: Tenant) -> None:
    """Give Lago the alerts it could not take before (it was down, or a subscription is new),
    or take them back from a Lago that does not evaluate them."""
    lago_alerts.keep_with_lago(tenant, alerts.for_tenant(tenant))
    db.session.commit()


def _usage_of(tenant_ids, *, fresh: bool, before=None) -> Iterator[tuple[Tenant, CurrentUsage]]:
    """Each tenant's current usage, read from Lago (`before` runs first for each tenant); a
    tenant Lago does not answer for is skipped, and nothing is read when Pier is not
    connected."""
    for tenant_id in tenant_ids:
        tenant = db.session.get(Tenant, tenant_id)
        if tenant is None:
            continue
        if before is not None:
            before(tenant)
        try:
            usage = current.current_usage(tenant, fresh=fresh)
        except NotConnected:
            return
        except LagoError as error:
            log.warning("usage of tenant %s not read: %s", tenant_id, error)
            db.session.rollback()
            continue
        compare.record_all(tenant, usage, compare.zone_of(tenant))
        yield tenant, usage


@in_app_context
def check_usage_alerts() -> int:
    """Evaluate the usage alerts Lago does not evaluate; returns how many levels were newly
    reached."""
    tenant_ids = db.session.scalars(sa.select(UsageAlert.tenant_id).distinct()).all()
    return sum(
        alerts.notify(tenant, usage)
        for tenant, usage in _usage_of(tenant_ids, fresh=True, before=_hand_over)
    )


@in_app_context
def record_usage_days() -> int:
    """Record each subscribed tenant's usage amount for today (the last period's figures at
    the same day are what the usage page compares with); returns how many tenants."""
    tenant_ids = db.session.scalars(
        sa.select(SubscriptionMirror.tenant_id)
        .where(SubscriptionMirror.status == "active")
        .distinct()
    ).all()
    recorded = 0
    for _tenant, _usage in _usage_of(tenant_ids, fresh=False):
        db.session.commit()
        recorded += 1
    return recorded
