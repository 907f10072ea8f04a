"""A customer's payment methods at the provider: list, set as default, delete (no create in Lago).

lago-api syncs payment methods from the provider; the stand-in gives a customer one default card
when its provider customer is linked or created, and the control API can add more.
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


def add(
    standin: Standin,
    customer: dict[str, Any],
    *,
    provider_method_id: str | None = None,
    make_default: bool = True,
) -> dict[str, Any]:
    """Record a payment method synced from the provider (becomes the default when asked)."""
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
        }
        return standin.store.insert(KIND, method)


def ensure_default(standin: Standin, customer: dict[str, Any]) -> None:
    """Give a customer whose provider customer was just linked a default card."""
    if not for_customer(standin, customer["id"]):
        add(standin, customer)


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
    method = _get_or_404(standin, customer, lago_id)
    with standin.store.transaction():
        _clear_default(standin, customer["id"])
        method = standin.store.get(KIND, method["id"]) or method
        method["is_default"] = True
        method = standin.store.save(KIND, method)
    return jsonify(payment_method=serialize(standin, method))


@bp.delete("/customers/<external_customer_id>/payment_methods/<lago_id>")
def delete_payment_method(external_customer_id: str, lago_id: str):
    standin = current()
    customer = customers.get_or_404(standin, external_customer_id)
    method = _get_or_404(standin, customer, lago_id)
    method = standin.store.soft_delete(KIND, method)
    return jsonify(payment_method=serialize(standin, method))
