"""Tenants as Lago customers: the payload, the sync (and a new tenant's first plan), retries."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal.billing import mirror, stripe_link
from portal.billing.connection import NotConnected, get_connection, lago_client
from portal.extensions import db
from portal.lago import LagoClient, LagoConnectionError, LagoError, LagoRateLimited, LagoServerError
from portal.lago.zones import COUNTRIES, billing_timezone
from portal.models import BillingConnection, SyncState, Tenant, User, utcnow
from portal.payments import PaymentError
from portal.queues import enqueue

# Seconds to wait before each retry of a failed sync.
BACKOFF = (10, 60, 300, 1800, 7200, 21600)
SYNC_JOB = "jobs.sync.sync_tenant"
TRANSIENT = (LagoConnectionError, LagoServerError, LagoRateLimited)


def customer_payload(tenant: Tenant, connection: BillingConnection | None) -> dict:
    """The Lago customer for a tenant: only keys Pier owns (Lago upserts by external_id)."""
    creator = db.session.get(User, tenant.created_by_id) if tenant.created_by_id else None
    extra = dict(tenant.custom_metadata or {})
    billing_type = extra.pop("billing_type", "organization")
    metadata = [{"key": "billing_type", "value": billing_type, "display_in_invoice": False}]
    if creator is not None:
        metadata.append({"key": "created_by", "value": creator.email, "display_in_invoice": False})
    metadata += [
        {"key": key, "value": value, "display_in_invoice": False}
        for key, value in sorted(extra.items())
    ]
    payload = {
        "external_id": tenant.customer_external_id,
        "name": tenant.name,
        "email": tenant.billing_email,
        "timezone": billing_timezone(tenant.timezone),
        "currency": tenant.currency or (connection.default_currency if connection else None),
        "address_line1": tenant.address_line1,
        "address_line2": tenant.address_line2,
        "city": tenant.city,
        "zipcode": tenant.zipcode,
        "state": tenant.state,
        "country": tenant.country if tenant.country in COUNTRIES else None,
        "tax_identification_number": tenant.tax_identification_number,
        "customer_type": "company",
        "metadata": metadata,
    }
    return {key: value for key, value in payload.items() if value not in (None, "")}


def sync_tenant(tenant: Tenant) -> bool:
    """Upsert the tenant's Lago customer and record the outcome (the caller commits).

    Returns True when synced. Raises the LagoError when it is worth retrying later.
    """
    connection = get_connection()
    try:
        if connection is None:
            raise NotConnected(NotConnected.message)
        client = lago_client()
        customer = client.upsert_customer(customer_payload(tenant, connection))
        tenant.lago_customer_id = customer.lago_id
        stripe_link.link(client, tenant)
        if tenant.plan_to_assign:
            assign_first_plan(client, tenant)
    except NotConnected as exc:
        _record_failure(tenant, exc.message, retry=False)
        return False
    except LagoError as exc:
        transient = isinstance(exc, TRANSIENT)
        _record_failure(tenant, f"{exc.message} {exc.hint}".strip(), retry=transient)
        if transient:
            raise
        return False
    except PaymentError as exc:
        _record_failure(tenant, f"Stripe: {exc.detail or exc.sentence}", retry=True)
        raise
    tenant.sync_state = SyncState.synced
    tenant.sync_last_error = None
    tenant.sync_attempts = 0
    tenant.sync_next_attempt_at = None
    tenant.synced_at = utcnow()
    return True


def subscription_external_id(tenant: Tenant) -> str:
    """The stable Lago id of the tenant's subscription (a plan change keeps it)."""
    return f"{tenant.external_id}_subscription"


def plan_for_new_tenant() -> str | None:
    """The plan the admin settings give a new organisation, if any."""
    connection = get_connection()
    return connection.default_plan_code if connection else None


def assign_first_plan(client: LagoClient, tenant: Tenant) -> None:
    """Subscribe the new tenant to its first plan (the plan's trial applies) and mirror it.

    The subscription's id is stable, so a retry after a lost answer gets the same subscription.
    """
    try:
        subscription = client.create_subscription(
            {
                "external_customer_id": tenant.customer_external_id,
                "external_id": subscription_external_id(tenant),
                "plan_code": tenant.plan_to_assign,
            }
        )
    except LagoError as exc:
        exc.message = f"The plan {tenant.plan_to_assign} could not be given: {exc.message}"
        raise
    said_at = mirror.subscription_said_at(subscription) or utcnow()
    mirror.upsert_subscription(tenant, subscription, said_at)
    tenant.plan_to_assign = None


def _record_failure(tenant: Tenant, message: str, *, retry: bool) -> None:
    tenant.sync_state = SyncState.failed
    tenant.sync_attempts += 1
    tenant.sync_last_error = message[:1000]
    if retry and tenant.sync_attempts <= len(BACKOFF):
        tenant.sync_next_attempt_at = utcnow() + timedelta(
            seconds=BACKOFF[tenant.sync_attempts - 1]
        )
    else:
        tenant.sync_next_attempt_at = None


def mark_for_sync(tenant: Tenant) -> None:
    """Note that the tenant's Lago customer must be (re)written (the caller commits)."""
    if tenant.sync_state is SyncState.synced:
        tenant.sync_attempts = 0
    tenant.sync_state = SyncState.pending
    tenant.sync_next_attempt_at = utcnow()


def request_sync(tenant_id: int):
    """After the commit: queue the sync job with RQ's backoff (None when Redis is down)."""
    from rq import Retry

    return enqueue(
        "sync",
        SYNC_JOB,
        tenant_id,
        job_id=f"sync-tenant-{tenant_id}",
        retry=Retry(max=len(BACKOFF), interval=list(BACKOFF)),
    )


def sync_after_commit(tenant_id: int):
    """Queue the sync when billing is connected and new customers are created automatically."""
    connection = get_connection()
    if connection is None or not connection.auto_create_customers:
        return None
    return request_sync(tenant_id)


def due_for_sync(now=None, *, grace: timedelta = timedelta(minutes=2)) -> list[int]:
    """Tenants whose sync is due and apparently not queued (Redis was down, or a retry was lost)."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Tenant.id).where(
                Tenant.sync_state != SyncState.synced,
                Tenant.sync_next_attempt_at.is_not(None),
                Tenant.sync_next_attempt_at <= now - grace,
            )
        )
    )


def unsynced_tenant_ids() -> list[int]:
    """Tenants that are not (or no longer) Lago customers."""
    return list(
        db.session.scalars(sa.select(Tenant.id).where(Tenant.sync_state != SyncState.synced))
    )
