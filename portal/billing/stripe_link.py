"""Link a tenant's Lago customer to a Stripe customer, the way Lago expects.

The Stripe customer is created once (the idempotency key is the tenant's external id, and the
id is kept on the billing account), then Lago is told with `billing_configuration`
(`payment_provider: stripe`, the admin's `payment_provider_code`, `provider_customer_id`).
Lago then learns of cards through its own Stripe webhooks (`setup_intent.succeeded`,
`customer.updated`) and charges the Stripe customer's default card.
"""

from __future__ import annotations

from portal import payments
from portal.billing import mirror
from portal.lago import LagoClient
from portal.models import BillingAccount, Tenant, utcnow
from portal.payments import errors


def customer_idempotency_key(tenant: Tenant) -> str:
    """The key that makes creating the tenant's Stripe customer happen once."""
    return f"pier-customer-{tenant.external_id}"


def billing_configuration(stripe_customer_id: str, provider_code: str) -> dict:
    """Lago's `billing_configuration` for a customer whose Stripe customer already exists."""
    return {
        "payment_provider": "stripe",
        "payment_provider_code": provider_code,
        "provider_customer_id": stripe_customer_id,
        "provider_payment_methods": ["card"],
    }


def ensure_customer(tenant: Tenant) -> str:
    """The tenant's Stripe customer id, created now if it has none (the caller commits).

    Raises PaymentError (NotConfigured without Stripe keys)."""
    account = mirror.billing_account(tenant)
    if account.provider_customer_id and account.payment_provider in (None, "stripe"):
        return account.provider_customer_id
    created = payments.payments().create_customer(
        name=tenant.name,
        email=tenant.billing_email,
        metadata={"customer_id": tenant.external_id, "pier_tenant_id": str(tenant.id)},
        idempotency_key=customer_idempotency_key(tenant),
    )
    account.provider_customer_id = created.id
    account.payment_provider = "stripe"
    return created.id


def link(client: LagoClient, tenant: Tenant) -> BillingAccount | None:
    """Create the Stripe customer if needed and tell Lago (the caller commits).

    Returns the account, or None when Stripe is not configured. A transient Stripe failure is
    raised (the sync is retried); any other is kept on the account for the admin page.
    """
    current = payments.effective()
    if not current.configured:
        return None
    account = mirror.billing_account(tenant)
    try:
        stripe_id = ensure_customer(tenant)
    except errors.PaymentError as error:
        account.stripe_link_error = f"Stripe: {error.detail or error.sentence}"[:1000]
        if error.transient:
            raise
        return account
    if account.stripe_linked_at is None:
        client.upsert_customer(
            {
                "external_id": tenant.customer_external_id,
                "billing_configuration": billing_configuration(stripe_id, current.provider_code),
            }
        )
        account.stripe_linked_at = utcnow()
    account.stripe_link_error = None
    return account


def state(account: BillingAccount | None) -> str:
    """The link in words for the admin tenant page."""
    if account is None or not account.provider_customer_id:
        return "not linked" if account is None or not account.stripe_link_error else "failed"
    if account.stripe_linked_at is None:
        return "Stripe customer created; Lago not told yet"
    return "linked"
