"""Stripe card webhooks: setup failures shown to the tenant, and the Stripe customer link."""

from __future__ import annotations

from typing import Any

from portal.billing import mirror
from portal.models import EventSource, WebhookEvent
from portal.notify import notices
from portal.notify.formatting import billing_contact
from portal.webhooks.handlers import refetch, tenants
from portal.webhooks.registry import handles

SETUP_FAILED = "card_setup_failed"


def setup_failed_key(tenant_id: int) -> str:
    """The notice of a card that could not be saved."""
    return f"{SETUP_FAILED}:{tenant_id}"


def _object(payload: dict[str, Any]) -> dict[str, Any]:
    return payload["data"]["object"]


@handles(EventSource.stripe, "setup_intent.setup_failed")
def card_setup_failed(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """Saving a card failed: say why, and what to try."""
    intent = _object(payload)
    tenant = tenants.by_stripe_customer(event, intent.get("customer"))
    if tenant is None:
        return
    error = intent.get("last_setup_error") or {}
    reason = (error.get("message") or "The card was declined.").strip()
    notices.raise_notice(
        setup_failed_key(tenant.id),
        tenant_id=tenant.id,
        kind=SETUP_FAILED,
        level="warning",
        title="Your card could not be saved",
        body=(
            f"{reason if reason.endswith('.') else reason + '.'} Try another card, or ask your "
            f"bank to allow it. Write to {billing_contact()} if it keeps failing."
        ),
    )


@handles(EventSource.stripe, "setup_intent.succeeded", "payment_method.attached")
def card_saved(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """A card was saved: an earlier setup failure no longer holds."""
    obj = _object(payload)
    tenant = tenants.by_stripe_customer(event, obj.get("customer"))
    if tenant is None:
        return
    notices.resolve(setup_failed_key(tenant.id))
    card = obj.get("card") or {}
    if card.get("last4"):
        brand = str(card.get("brand") or "card").title()
        refetch.note(event, f"{tenant.name}: {brand} ending {card['last4']} is saved.")


@handles(EventSource.stripe, "payment_method.detached")
def card_removed(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """A card was removed; Stripe reports the customer it belonged to in previous_attributes."""
    obj = _object(payload)
    previous = payload["data"].get("previous_attributes") or {}
    tenant = tenants.by_stripe_customer(event, obj.get("customer") or previous.get("customer"))
    if tenant is None:
        return
    card = obj.get("card") or {}
    ending = f" ending {card['last4']}" if card.get("last4") else ""
    refetch.note(event, f"A card{ending} was removed from {tenant.name}'s Stripe customer.")


@handles(EventSource.stripe, "customer.updated")
def stripe_customer_updated(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """Link the tenant's billing account to its Stripe customer if it is not linked yet."""
    customer = _object(payload)
    tenant = tenants.by_stripe_customer(event, customer.get("id"), customer.get("metadata"))
    if tenant is None:
        return
    account = mirror.billing_account(tenant)
    if account.provider_customer_id is None:
        account.provider_customer_id = customer["id"]
        account.payment_provider = account.payment_provider or "stripe"
        refetch.note(event, f"Linked {tenant.name} to the Stripe customer {customer['id']}.")
