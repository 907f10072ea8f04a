"""Stripe card webhooks: the card list kept true, setup failures shown, the Stripe customer link.

Stripe does not promise order, so a card event makes Pier read the customer's cards and default
from Stripe again (`cards.refresh`); when Stripe cannot be asked, the event's own copy is written
unless the mirror holds something newer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from portal.billing import mirror
from portal.cards import services as cards
from portal.extensions import db
from portal.models import CardSetup, EventSource, Tenant, WebhookEvent
from portal.notify import notices
from portal.notify.formatting import link
from portal.payments import CardInfo, PaymentError
from portal.webhooks.handlers import refetch, tenants
from portal.webhooks.registry import handles

SETUP_FAILED = "card_setup_failed"


def setup_failed_key(tenant_id: int) -> str:
    """The notice of a card that could not be saved."""
    return f"{SETUP_FAILED}:{tenant_id}"


def _object(payload: dict[str, Any]) -> dict[str, Any]:
    return payload["data"]["object"]


def _said_at(event: WebhookEvent, payload: dict[str, Any]) -> datetime:
    created = payload.get("created")
    moment = datetime.fromtimestamp(int(created), UTC) if isinstance(created, int) else None
    return refetch.payload_time(event, moment)


def keep_cards_true(event: WebhookEvent, tenant: Tenant, payload: dict[str, Any], fallback) -> None:
    """Read the tenant's cards from Stripe; without Stripe, apply the event's copy."""
    try:
        cards.refresh(tenant)
        return
    except PaymentError as error:
        refetch.note(event, f"Used the webhook's copy of the card ({error.sentence})")
    fallback(_said_at(event, payload))


def _record_setup(tenant: Tenant, intent: dict[str, Any]) -> None:
    setup = db.session.scalar(
        sa.select(CardSetup).where(
            CardSetup.setup_intent_id == intent.get("id"), CardSetup.tenant_id == tenant.id
        )
    )
    if setup is not None and setup.finished_at is None:
        setup.status = str(intent.get("status") or setup.status)
        error = intent.get("last_setup_error") or {}
        setup.error_code = error.get("decline_code") or error.get("code")


@handles(EventSource.stripe, "setup_intent.setup_failed")
def card_setup_failed(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """Saving a card failed: say why, and what to try."""
    intent = _object(payload)
    tenant = tenants.by_stripe_customer(event, intent.get("customer"))
    if tenant is None:
        return
    _record_setup(tenant, intent)
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
            f"bank to allow it: {link('cards.index')}"
        ),
    )


@handles(EventSource.stripe, "setup_intent.succeeded")
def card_set_up(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """A card was saved through a SetupIntent: the failure no longer holds; cards re-read."""
    intent = _object(payload)
    tenant = tenants.by_stripe_customer(event, intent.get("customer"))
    if tenant is None:
        return
    notices.resolve(setup_failed_key(tenant.id))
    _record_setup(tenant, intent)
    keep_cards_true(event, tenant, payload, lambda _at: None)


@handles(
    EventSource.stripe,
    "payment_method.attached",
    "payment_method.updated",
    "payment_method.automatically_updated",
)
def card_changed(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """A card was attached, or its details changed (the network's card updater included)."""
    obj = _object(payload)
    tenant = tenants.by_stripe_customer(event, obj.get("customer"))
    if tenant is None:
        return
    if payload["type"] == "payment_method.attached":
        notices.resolve(setup_failed_key(tenant.id))
    info = CardInfo.from_stripe(obj)
    keep_cards_true(
        event,
        tenant,
        payload,
        lambda at: cards.upsert(tenant, info, is_default=None, source_at=at),
    )
    if info.last4 and payload["type"] == "payment_method.attached":
        refetch.note(event, f"{tenant.name}: {cards.label(info)} is saved.")


@handles(EventSource.stripe, "payment_method.detached")
def card_removed(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """A card was removed; Stripe reports the customer it belonged to in previous_attributes."""
    obj = _object(payload)
    previous = payload["data"].get("previous_attributes") or {}
    tenant = tenants.by_stripe_customer(event, obj.get("customer") or previous.get("customer"))
    if tenant is None:
        return
    info = CardInfo.from_stripe({**obj, "customer": None})
    keep_cards_true(
        event,
        tenant,
        payload,
        lambda at: cards.upsert(tenant, info, is_default=False, source_at=at),
    )
    ending = f" ending {info.last4}" if info.last4 else ""
    refetch.note(event, f"A card{ending} was removed from {tenant.name}'s Stripe customer.")


@handles(EventSource.stripe, "customer.updated")
def stripe_customer_updated(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """Link the tenant to its Stripe customer if needed; the default card may have changed."""
    customer = _object(payload)
    tenant = tenants.by_stripe_customer(event, customer.get("id"), customer.get("metadata"))
    if tenant is None:
        return
    account = mirror.billing_account(tenant)
    if account.provider_customer_id is None:
        account.provider_customer_id = customer["id"]
        account.payment_provider = account.payment_provider or "stripe"
        refetch.note(event, f"Linked {tenant.name} to the Stripe customer {customer['id']}.")
    default = (customer.get("invoice_settings") or {}).get("default_payment_method")
    if isinstance(default, dict):
        default = default.get("id")
    keep_cards_true(event, tenant, payload, lambda at: cards.mark_default(tenant, default, at))
