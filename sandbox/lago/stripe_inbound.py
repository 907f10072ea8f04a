"""Lago's own Stripe webhooks (`POST /webhooks/stripe/{organization_id}?code=`), as lago-api
handles them, so a card saved at Stripe is the card Lago charges.

- `setup_intent.succeeded` (Stripe::Webhooks::SetupIntentSucceededService): the card is read
  from Stripe; if it is attached to a customer, it becomes that Stripe customer's
  `invoice_settings.default_payment_method` and Lago's default payment method.
- `customer.updated` (CustomerUpdatedService): the customer's default card (or default source)
  becomes Lago's default payment method, found or created.
- `payment_method.detached` (StripeService#delete_payment_method): Lago forgets the card.

Both of the first two then charge the customer's finalized invoices whose payment is `pending`
and ready for processing (UpdatePaymentMethodService#reprocess_pending_invoices). Any other
event is ignored, as lago-api does. The signature (`Stripe-Signature`, HMAC-SHA256 over
"<t>.<body>" with the integration's webhook secret) is checked; its age is not, because the two
stand-ins' clocks are moved independently in tests.

The Stripe integration's API URL, secret key and webhook secret are the stand-in's
`stripe_api_url`, `stripe_secret_key` and `stripe_webhook_secret` settings. Each card behaves at
charge time as the Stripe test card with the same last four digits (`card_behaviour`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
from flask import Blueprint, Response, request

from .resources import customers, invoices, payment_methods, payments
from .state import Standin, current

bp = Blueprint("stripe_inbound", __name__)

# Stripe test cards (by last four digits) and how an off-session charge on them answers.
CHARGE_BEHAVIOUR = {
    "0341": "declines",  # chargeCustomerFail: attaches, every charge is declined
    "0002": "declines",
    "9995": "insufficient_funds",
    "3178": "insufficient_funds",  # authenticated on setup, charges declined for funds
    "3184": "requires_authentication",  # authenticationRequired: every charge asks for 3DS
    "3220": "requires_authentication",  # threeDSecure2Required
}


def card_behaviour(payment_method: dict[str, Any]) -> str:
    """How Lago's charges on this Stripe card turn out (`payment_methods.CARDS`)."""
    last4 = str((payment_method.get("card") or {}).get("last4") or "")
    return CHARGE_BEHAVIOUR.get(last4, "succeeds")


def _signed(secret: str, body: bytes, header: str) -> bool:
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    timestamp = next((v for k, v in parts if k.strip() == "t"), None)
    if timestamp is None:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    wanted = expected.hexdigest()
    return any(k.strip() == "v1" and hmac.compare_digest(v.strip(), wanted) for k, v in parts)


class StripeAPI:
    """The few Stripe calls Lago makes, over HTTP with the integration's secret key."""

    def __init__(self, standin: Standin) -> None:
        config = standin.config
        self.client = httpx.Client(
            base_url=(config.stripe_api_url or "").rstrip("/") + "/v1",
            headers={"Authorization": f"Bearer {config.stripe_secret_key}"},
            timeout=10.0,
            trust_env=False,
        )

    def payment_method(self, pm_id: str) -> dict[str, Any] | None:
        answer = self.client.get(f"/payment_methods/{pm_id}")
        return answer.json() if answer.status_code == 200 else None

    def customer(self, customer_id: str) -> dict[str, Any] | None:
        answer = self.client.get(f"/customers/{customer_id}")
        return answer.json() if answer.status_code == 200 else None

    def newest_card(self, customer_id: str) -> dict[str, Any] | None:
        answer = self.client.get(
            f"/customers/{customer_id}/payment_methods", params={"type": "card", "limit": 1}
        )
        found = answer.json().get("data") if answer.status_code == 200 else None
        return found[0] if found else None

    def set_default(self, customer_id: str, pm_id: str) -> None:
        self.client.post(
            f"/customers/{customer_id}",
            data={"invoice_settings[default_payment_method]": pm_id},
        )


def stripe_configured(standin: Standin) -> bool:
    return bool(standin.config.stripe_api_url and standin.config.stripe_secret_key)


def _customer_for(standin: Standin, stripe_customer_id: str | None) -> dict[str, Any] | None:
    if not stripe_customer_id:
        return None
    found = standin.store.all(
        customers.KIND,
        where=lambda c: customers.provider_customer_id(c) == stripe_customer_id,
    )
    return found[0] if found else None


def update_payment_method(
    standin: Standin, customer: dict[str, Any], pm: dict[str, Any]
) -> dict[str, Any]:
    """UpdatePaymentMethodService: find or create the card as the default, then collect the
    customer's pending invoices."""
    existing = [
        m
        for m in payment_methods.for_customer(standin, customer["id"])
        if m["provider_method_id"] == pm["id"]
    ]
    if existing:
        method = payment_methods.set_default(standin, customer, existing[0])
    else:
        method = payment_methods.add(
            standin, customer, provider_method_id=pm["id"], card=card_behaviour(pm)
        )
    for invoice in invoices.for_customer(standin, customer["id"]):
        if (
            invoice["status"] == "finalized"
            and invoice["payment_status"] == "pending"
            and invoice.get("ready_for_payment_processing", True)
        ):
            payments.attempt(standin, invoice)
    return method


def link_default_card(standin: Standin, customer: dict[str, Any], stripe_customer_id: str) -> None:
    """FetchDefaultPaymentMethodService: a newly linked Stripe customer's default card (else its
    newest card) becomes Lago's default."""
    api = StripeAPI(standin)
    stripe_customer = api.customer(stripe_customer_id) or {}
    default = (stripe_customer.get("invoice_settings") or {}).get("default_payment_method")
    pm = api.payment_method(default) if isinstance(default, str) else None
    pm = pm or api.newest_card(stripe_customer_id)
    if pm is not None:
        update_payment_method(standin, customer, pm)


def _setup_intent_succeeded(standin: Standin, obj: dict[str, Any]) -> None:
    customer = _customer_for(standin, obj.get("customer"))
    pm_id = obj.get("payment_method")
    if customer is None or not isinstance(pm_id, str):
        return
    api = StripeAPI(standin)
    pm = api.payment_method(pm_id)
    if pm is None or not pm.get("customer"):
        return
    api.set_default(obj["customer"], pm_id)
    update_payment_method(standin, customer, pm)


def _customer_updated(standin: Standin, obj: dict[str, Any]) -> None:
    customer = _customer_for(standin, obj.get("id"))
    default = (obj.get("invoice_settings") or {}).get("default_payment_method") or obj.get(
        "default_source"
    )
    if customer is None or not isinstance(default, str):
        return
    pm = StripeAPI(standin).payment_method(default) or {"id": default}
    update_payment_method(standin, customer, pm)


def _payment_method_detached(standin: Standin, obj: dict[str, Any], previous: dict) -> None:
    customer = _customer_for(standin, obj.get("customer") or previous.get("customer"))
    if customer is None:
        return
    for method in payment_methods.for_customer(standin, customer["id"]):
        if method["provider_method_id"] == obj.get("id"):
            standin.store.soft_delete(payment_methods.KIND, method)


@bp.post("/webhooks/stripe/<organization_id>")
def receive(organization_id: str):
    """InboundWebhooks::CreateService: 400 unless the organization and signature check out."""
    standin = current()
    secret = standin.config.stripe_webhook_secret
    body = request.get_data()
    if (
        organization_id != standin.org()["id"]
        or not secret
        or not _signed(secret, body, request.headers.get("Stripe-Signature", ""))
    ):
        return Response(b"", status=400)
    try:
        event = json.loads(body)
    except ValueError:
        return Response(b"", status=400)
    data = event.get("data") or {}
    obj = data.get("object") or {}
    with standin.write_lock:
        if event.get("type") == "setup_intent.succeeded":
            _setup_intent_succeeded(standin, obj)
        elif event.get("type") == "customer.updated":
            _customer_updated(standin, obj)
        elif event.get("type") == "payment_method.detached":
            _payment_method_detached(standin, obj, data.get("previous_attributes") or {})
    return Response(b"", status=200)
