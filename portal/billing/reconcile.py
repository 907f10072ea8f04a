"""Reconciliation: pull each tenant's Lago customer, subscriptions, recent invoices and wallet,
and repair whatever the mirror got wrong (a lost webhook, a failed handler)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from portal import audit
from portal.billing import coupons, dunning, mirror
from portal.billing.connection import lago_client
from portal.billing.customers import mark_for_sync
from portal.extensions import db
from portal.lago import LagoClient, LagoNotFound
from portal.models import InvoiceMirror, SubscriptionMirror, SyncState, Tenant, utcnow

RECENT_INVOICES = timedelta(days=120)
# Every status `GET /subscriptions` lists (`incomplete` ones cannot be asked for).
LISTED_STATUSES = ["active", "pending", "terminated", "canceled"]
SUBSCRIPTION_FIELDS = (
    "status",
    "plan_code",
    "next_plan_code",
    "pending_plan_code",
    "ending_at",
    "trial_ended_at",
    "current_period_ending_at",
    "terminated_at",
    "canceled_at",
)
INVOICE_FIELDS = (
    "status",
    "payment_status",
    "payment_overdue",
    "total_amount_cents",
    "file_available",
)
ACCOUNT_FIELDS = (
    "payment_provider",
    "provider_customer_id",
    "wallet_balance_cents",
    "dunning_state",
)


@dataclass
class Repair:
    """What reconciliation changed for one tenant."""

    tenant_id: int
    tenant_name: str
    fixed: list[str] = field(default_factory=list)


def _snapshot(row, names) -> dict | None:
    return None if row is None else {name: getattr(row, name) for name in names}


def _changed(before: dict | None, after, names) -> list[str]:
    if before is None:
        return ["missing"]
    return [name for name in names if before[name] != getattr(after, name)]


def pull_subscriptions(tenant: Tenant, client: LagoClient, now: datetime) -> list[str]:
    """Write every subscription Lago lists for the tenant; returns what changed, in words."""
    subscriptions = client.list_subscriptions(
        external_customer_id=tenant.customer_external_id, statuses=LISTED_STATUSES
    )
    before = {
        subscription.lago_id: _snapshot(
            db.session.scalar(
                sa.select(SubscriptionMirror).filter_by(lago_id=subscription.lago_id)
            ),
            SUBSCRIPTION_FIELDS,
        )
        for subscription in subscriptions
    }
    changes = []
    for written in mirror.upsert_subscriptions(tenant, subscriptions, now):
        row = written.row
        changed = _changed(before[row.lago_id], row, SUBSCRIPTION_FIELDS) if written.applied else []
        if changed:
            changes.append(f"subscription {row.external_id}: {', '.join(changed)}")
    return changes


def reconcile_tenant(tenant: Tenant) -> Repair:
    """Bring one tenant's mirror in line with Lago and audit each repair (the caller commits)."""
    repair = Repair(tenant.id, tenant.name)
    client = lago_client()
    try:
        customer = client.get_customer(tenant.customer_external_id)
    except LagoNotFound:
        mark_for_sync(tenant)
        repair.fixed.append("the Lago customer was missing: its sync is queued")
        return _record(repair)
    now = utcnow()
    account = mirror.billing_account(tenant)
    account_before = _snapshot(account, ACCOUNT_FIELDS)
    mirror.link_customer(tenant, customer)

    repair.fixed.extend(pull_subscriptions(tenant, client, now))
    coupons.pull(tenant, client, now)

    since = (now - RECENT_INVOICES).date().isoformat()
    for invoice in client.list_invoices(
        external_customer_id=tenant.customer_external_id, params={"issuing_date_from": since}
    ):
        stored = db.session.scalar(sa.select(InvoiceMirror).filter_by(lago_id=invoice.lago_id))
        before = _snapshot(stored, INVOICE_FIELDS)
        written = mirror.upsert_invoice(tenant, invoice, mirror.invoice_said_at(invoice) or now)
        changed = _changed(before, written.row, INVOICE_FIELDS) if written.applied else []
        if changed:
            repair.fixed.append(
                f"invoice {invoice.number or invoice.lago_id}: {', '.join(changed)}"
            )

    active = [
        w for w in client.list_wallets(tenant.customer_external_id) if w.status != "terminated"
    ]
    if active:
        mirror.update_wallet(tenant, active[0], now=now)
    account = dunning.refresh(tenant, now=now)
    changed = [name for name in ACCOUNT_FIELDS if account_before[name] != getattr(account, name)]
    if changed:
        repair.fixed.append(f"billing account: {', '.join(changed)}")
    account.reconciled_at = now
    return _record(repair)


def _record(repair: Repair) -> Repair:
    if repair.fixed:
        audit.record(
            "reconcile.fixed",
            tenant_id=repair.tenant_id,
            target=db.session.get(Tenant, repair.tenant_id),
            after={"fixed": repair.fixed},
        )
    return repair


def tenants_to_reconcile() -> list[int]:
    """Every tenant that is (or should be) a Lago customer."""
    return list(
        db.session.scalars(
            sa.select(Tenant.id).where(Tenant.sync_state == SyncState.synced).order_by(Tenant.id)
        )
    )
