"""Which tenant a webhook is about: Lago's external customer id, or the Stripe customer."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import BillingAccount, Tenant, WebhookEvent
from portal.webhooks.handlers.refetch import note


def named(external_customer_id: str) -> sa.ColumnElement[bool]:
    """The tenant whose Lago customer has this external id (its own, or a legacy one)."""
    return sa.or_(
        Tenant.external_id == external_customer_id,
        Tenant.legacy_external_id == external_customer_id,
    )


def by_external_id(event: WebhookEvent, external_customer_id: str | None) -> Tenant | None:
    """The tenant named by a Lago `external_customer_id` (None, with a note, if there is none)."""
    tenant = None
    if external_customer_id:
        tenant = db.session.scalar(sa.select(Tenant).where(named(external_customer_id)))
    if tenant is None:
        note(event, f"No tenant is the Lago customer {external_customer_id!r}; nothing to update.")
    return tenant


def by_stripe_customer(
    event: WebhookEvent, stripe_customer_id: str | None, metadata: dict | None = None
) -> Tenant | None:
    """The tenant whose billing account links this Stripe customer.

    A Stripe customer that Lago created carries the Lago external id (`customer_id`) and
    Lago's id (`lago_customer_id`) in its metadata, which find the tenant before Pier has
    heard of the link.
    """
    tenant = None
    if stripe_customer_id:
        tenant = db.session.scalar(
            sa.select(Tenant)
            .join(BillingAccount, BillingAccount.tenant_id == Tenant.id)
            .where(BillingAccount.provider_customer_id == stripe_customer_id)
        )
    metadata = metadata or {}
    if tenant is None and metadata.get("customer_id"):
        query = sa.select(Tenant).where(named(metadata["customer_id"]))
        tenant = db.session.scalar(query)
    if tenant is None and metadata.get("lago_customer_id"):
        query = sa.select(Tenant).where(Tenant.lago_customer_id == metadata["lago_customer_id"])
        tenant = db.session.scalar(query)
    if tenant is None:
        note(event, f"No tenant is linked to the Stripe customer {stripe_customer_id!r}.")
    return tenant
