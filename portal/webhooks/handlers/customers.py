"""Lago customer webhooks: the payment-provider link of the tenant's billing account."""

from __future__ import annotations

from typing import Any

from portal.billing import mirror
from portal.lago import Customer
from portal.models import EventSource, WebhookEvent
from portal.notify import notices
from portal.webhooks.handlers import refetch, tenants
from portal.webhooks.registry import handles

PROVIDER_ERROR = "payment_provider_error"


def provider_error_key(tenant_id: int) -> str:
    """The admin notice about a tenant whose payment-provider customer could not be created."""
    return f"{PROVIDER_ERROR}:{tenant_id}"


@handles(
    EventSource.lago,
    "customer.created",
    "customer.updated",
    "customer.payment_provider_created",
)
def customer_changed(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """Re-read the customer from Lago and record its payment-provider link."""
    sent = Customer.from_api(payload["customer"])
    tenant = tenants.by_external_id(event, sent.external_id)
    if tenant is None:
        return
    fresh, _ = refetch.from_lago(
        event, "customer", lambda lago: lago.get_customer(sent.external_id)
    )
    account = mirror.link_customer(tenant, fresh or sent)
    if account.provider_customer_id:
        notices.resolve(provider_error_key(tenant.id))


@handles(EventSource.lago, "customer.checkout_url_generated")
def checkout_url_generated(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """Lago made a page where the customer adds a card (its new Stripe customer has none)."""
    checkout = payload["payment_provider_customer_checkout_url"]
    tenant = tenants.by_external_id(event, checkout.get("external_customer_id"))
    if tenant is None:
        return
    url = web_address(checkout.get("checkout_url"))
    if url is None:
        refetch.note(event, "The checkout URL was missing or not a web address; kept none.")
    account = mirror.billing_account(tenant)
    account.card_setup_url = url
    account.payment_provider = checkout.get("payment_provider") or account.payment_provider


@handles(EventSource.lago, "customer.payment_provider_error")
def provider_customer_failed(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """Lago could not create the customer at the payment provider: tell the platform admins."""
    error = payload["payment_provider_customer_error"]
    tenant = tenants.by_external_id(event, error.get("external_customer_id"))
    if tenant is None:
        return
    message = describe_provider_error(error.get("provider_error"))
    account = mirror.billing_account(tenant)
    account.payment_provider = error.get("payment_provider") or account.payment_provider
    account.payment_provider_error = message
    provider = error.get("payment_provider") or "the payment provider"
    notices.raise_notice(
        provider_error_key(tenant.id),
        tenant_id=None,
        kind=PROVIDER_ERROR,
        level="error",
        title=f"{tenant.name} has no customer at {provider.title()} yet",
        body=(
            f"Lago could not create the customer of {tenant.name} ({tenant.external_id}) at "
            f"{provider}: {message} Until it exists, their invoices cannot be charged. Fix the "
            "payment-provider connection in Lago, then update the customer there to try again."
        ),
    )


def web_address(value: Any) -> str | None:
    """A link Lago sent, when it is an http(s) address (else None: never shown to anyone)."""
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def provider_message(error: Any) -> str:
    """What the provider said (a string, or an object with a message), as one sentence."""
    if isinstance(error, dict):
        error = error.get("message") or error.get("error_message") or error.get("code")
    text = str(error or "no reason given").strip()
    return text if text.endswith(".") else f"{text}."


def describe_provider_error(error: Any) -> str:
    """The provider's message with its error code, for the platform admins."""
    message = provider_message(error)
    code = error.get("error_code") or error.get("code") if isinstance(error, dict) else None
    return f"{message[:-1]} ({code})." if code and code not in message else message
