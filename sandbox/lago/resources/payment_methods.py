"""A customer's payment methods at the provider: list, set as default, delete (no create in Lago).

lago-api syncs payment methods from the provider; the stand-in gives a customer one default card
when an existing provider customer is linked (Lago fetches its default card), none when Lago
creates the provider customer (the customer adds one through the checkout URL), and the control
API can add more. Each card behaves like one of Stripe's test cards (`CARDS`, not serialized:
Lago does not expose card details).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, jsonify, request

from .. import errors, pagination
from ..state import Standin, current
from . import customers, register_object

bp = Blueprint("payment_methods", __name__)

KIND = "payment_method"
# How a card answers a charge: None succeeds, else Stripe's card error (code, decline_code,
# message). `requires_authentication` asks for 3-D Secure (see payments.charge).
CARDS: dict[str, tuple[str, str, str] | None] = {
    "succeeds": None,
    "declines": ("card_declined", "generic_decline", "Your card was declined."),
    "insufficient_funds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "requires_authentication": (
        "authentication_required",
        "authentication_required",
        "Your card was declined. This transaction requires authentication.",
    ),
}
PROVIDER_NAMES = {"stripe": "Stripe", "gocardless": "GoCardless", "adyen": "Adyen"}


def serialize(standin: Standin, method: dict[str, Any]) -> dict[str, Any]:
    """A payment method as V1::PaymentMethodSerializer renders it."""
    return {
        "lago_id": method["id"],
        "is_default": method["is_default"],
        "payment_provider_code": method.get("payment_provider_code"),
        "payment_provider_name": method.get("payment_provider_name"),
        "payment_provider_type": method["payment_provider_type"],
        "provider_method_id": method["provider_method_id"],
        "created_at": method["created_at"],
    }


def for_customer(standin: Standin, customer_id: str) -> list[dict[str, Any]]:
    """A customer's live payment methods, newest first."""
    return standin.store.all(KIND, where=lambda m: m["customer_id"] == customer_id)


def default_for(standin: Standin, customer_id: str) -> dict[str, Any] | None:
    """The customer's default payment method, if any."""
    methods = for_customer(standin, customer_id)
    return next((m for m in methods if m["is_default"]), methods[0] if methods else None)


def determine(
    standin: Standin,
    invoice: dict[str, Any],
    customer: dict[str, Any],
    override: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """PaymentMethods::DetermineService: the method to charge, None for no charge.

    A retry's `payment_method` wins; a subscription invoice uses its subscription's method;
    type `manual` means no charge; otherwise the customer's default.
    """
    chosen = override or {}
    if not chosen and invoice["invoice_type"] in ("subscription", "progressive_billing"):
        ids = invoice.get("subscription_ids") or []
        subscription = standin.store.get("subscription", ids[0]) if ids else None
        if subscription is None:
            return None
        chosen = {
            "payment_method_type": subscription.get("payment_method_type"),
            "payment_method_id": subscription.get("payment_method_id"),
        }
    if chosen.get("payment_method_type") == "manual":
        return None
    if chosen.get("payment_method_id"):
        method = standin.store.get(KIND, chosen["payment_method_id"])
        return method if method and method["customer_id"] == customer["id"] else None
    return default_for(standin, customer["id"])


def add(
    standin: Standin,
    customer: dict[str, Any],
    *,
    provider_method_id: str | None = None,
    make_default: bool = True,
    card: str = "succeeds",
) -> dict[str, Any]:
    """Record a payment method synced from the provider (becomes the default when asked)."""
    if card not in CARDS:
        raise ValueError(f"card must be one of {', '.join(CARDS)}, not {card!r}")
    provider = customer.get("payment_provider") or "stripe"
    with standin.store.transaction():
        if make_default:
            _clear_default(standin, customer["id"])
        method = {
            "customer_id": customer["id"],
            "is_default": make_default or not for_customer(standin, customer["id"]),
            "payment_provider_code": customer.get("payment_provider_code") or provider,
            "payment_provider_name": PROVIDER_NAMES.get(provider, provider.title()),
            "payment_provider_type": provider,
            "provider_method_id": provider_method_id or "pm_sandbox" + secrets.token_hex(8),
            "card": card,
        }
        return standin.store.insert(KIND, method)


def ensure_default(standin: Standin, customer: dict[str, Any]) -> None:
    """Give a customer whose existing provider customer was just linked its default card: the
    Stripe customer's (read from the Stripe integration when one is set), else a made-up one."""
    from .. import stripe_inbound

    if stripe_inbound.stripe_configured(standin) and customer.get("payment_provider") == "stripe":
        stripe_inbound.link_default_card(
            standin, customer, customers.provider_customer_id(customer)
        )
    elif not for_customer(standin, customer["id"]):
        add(standin, customer)


def set_default(standin: Standin, customer: dict[str, Any], method: dict[str, Any]) -> dict:
    """Make this method the customer's only default."""
    with standin.store.transaction():
        _clear_default(standin, customer["id"])
        method = standin.store.get(KIND, method["id"]) or method
        method["is_default"] = True
        return standin.store.save(KIND, method)


def _clear_default(standin: Standin, customer_id: str) -> None:
    for method in for_customer(standin, customer_id):
        if method["is_default"]:
            method["is_default"] = False
            standin.store.save(KIND, method)


def _get_or_404(standin: Standin, customer: dict[str, Any], lago_id: str) -> dict[str, Any]:
    method = standin.store.get(KIND, lago_id)
    if method is None or method["customer_id"] != customer["id"]:
        raise errors.not_found("payment_method")
    return method


@register_object("payment_method")
def _find_for_trigger(standin: Standin, identifier: str, **_context: Any) -> dict | None:
    method = standin.store.get(KIND, identifier)
    return serialize(standin, method) if method else None


@bp.get("/customers/<external_customer_id>/payment_methods")
def list_payment_methods(external_customer_id: str):
    standin = current()
    customer = customers.get_or_404(standin, external_customer_id)
    methods = for_customer(standin, customer["id"])
    return jsonify(
        pagination.collection(
            "payment_methods", methods, lambda m: serialize(standin, m), request.args
        )
    )


@bp.put("/customers/<external_customer_id>/payment_methods/<lago_id>/set_as_default")
def set_as_default(external_customer_id: str, lago_id: str):
    standin = current()
    customer = customers.get_or_404(standin, external_customer_id)
    method = set_default(standin, customer, _get_or_404(standin, customer, lago_id))
    return jsonify(payment_method=serialize(standin, method))


@bp.delete("/customers/<external_customer_id>/payment_methods/<lago_id>")
def delete_payment_method(external_customer_id: str, lago_id: str):
    standin = current()
    customer = customers.get_or_404(standin, external_customer_id)
    method = _get_or_404(standin, customer, lago_id)
    method = standin.store.soft_delete(KIND, method)
    return jsonify(payment_method=serialize(standin, method))
