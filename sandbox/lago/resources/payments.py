"""Payments at the pretend provider: attempts driven by the payment knob, and `GET /payments`.

Mirrors Invoices::Payments::StripeService: no attempt without a provider customer (manual
collection); an amount of zero is simply paid; a success marks the invoice paid
(`payment.succeeded`, `invoice.payment_status_updated`); a card error marks it failed and sends
only `invoice.payment_failure` (object `payment_provider_invoice_payment_error`); a payment that
needs 3-D Secure stays pending and sends `payment.requires_action`.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, jsonify, request

from .. import pagination
from ..clock import iso
from ..knobs import PaymentBehaviour
from ..state import Standin, current
from . import customers, invoices, payment_methods, register_object, wallets

bp = Blueprint("payments", __name__)

KIND = "payment"


def serialize(standin: Standin, payment: dict[str, Any]) -> dict[str, Any]:
    """A payment as V1::PaymentSerializer (and the requires-action serializer) render it."""
    customer = customers.get_by_id(standin, payment["customer_id"])
    invoice = standin.store.get(invoices.KIND, payment["invoice_id"]) or {}
    return {
        "lago_id": payment["id"],
        "lago_customer_id": customer["id"],
        "external_customer_id": customer["external_id"],
        "invoice_ids": [payment["invoice_id"]],
        "invoice_numbers": [invoice.get("number", "")],
        "lago_payable_id": payment["invoice_id"],
        "payable_type": "Invoice",
        "amount_cents": payment["amount_cents"],
        "amount_currency": payment["amount_currency"],
        "status": payment["status"],
        "payment_status": payment["payment_status"],
        "type": "provider",
        "reference": "",
        "payment_provider_code": payment["payment_provider_code"],
        "payment_provider_type": payment["payment_provider_type"],
        "external_payment_id": payment["provider_payment_id"],
        "provider_payment_id": payment["provider_payment_id"],
        "provider_customer_id": payment["provider_customer_id"],
        "payment_method_id": payment.get("payment_method_id"),
        "next_action": payment.get("next_action") or {},
        "created_at": payment["created_at"],
    }


def failure_object(
    standin: Standin, invoice: dict[str, Any], code: str, message: str
) -> dict[str, Any]:
    """The `payment_provider_invoice_payment_error` object (invoice.payment_failure)."""
    customer = customers.get_by_id(standin, invoice["customer_id"])
    return {
        "lago_invoice_id": invoice["id"],
        "lago_customer_id": customer["id"],
        "external_customer_id": customer["external_id"],
        "provider_customer_id": customers.provider_customer_id(customer) or "",
        "payment_provider": customer.get("payment_provider") or "stripe",
        "payment_provider_code": customer.get("payment_provider_code") or "stripe",
        "provider_error": {"message": message, "error_code": code},
    }


def latest_for_invoice(standin: Standin, invoice_id: str) -> dict[str, Any] | None:
    """The invoice's newest payment."""
    found = standin.store.all(KIND, where=lambda p: p["invoice_id"] == invoice_id)
    return found[0] if found else None


def attempt(
    standin: Standin,
    invoice: dict[str, Any],
    *,
    payment_method_id: str | None = None,
    automatic: bool = False,
) -> dict[str, Any]:
    """Try to collect a finalized invoice; returns the updated invoice."""
    if invoice["status"] != "finalized" or invoice["payment_status"] == "succeeded":
        return invoice
    customer = customers.get_by_id(standin, invoice["customer_id"])
    provider_customer = customers.provider_customer_id(customer)
    if not customer.get("payment_provider") or not provider_customer:
        return invoice
    if invoice["total_amount_cents"] <= 0:
        return invoices.set_payment_status(standin, invoice, "succeeded")
    outcome, behaviour = standin.payment_knobs.next_outcome(customer["external_id"])
    invoice["payment_attempts"] = invoice.get("payment_attempts", 0) + 1
    if automatic:
        invoice["auto_retries"] = invoice.get("auto_retries", 0) + 1
    invoice["auto_retry_at"] = None
    method = payment_method_id or (payment_methods.default_for(standin, customer["id"]) or {}).get(
        "id"
    )
    payment = {
        "invoice_id": invoice["id"],
        "customer_id": customer["id"],
        "amount_cents": invoice["total_amount_cents"],
        "amount_currency": invoice["currency"],
        "provider_payment_id": "pi_sandbox" + secrets.token_hex(8),
        "provider_customer_id": provider_customer,
        "payment_provider_code": customer.get("payment_provider_code") or "stripe",
        "payment_provider_type": customer["payment_provider"],
        "payment_method_id": method,
        "next_action": {},
        "automatic": automatic,
    }
    if outcome == "succeeded":
        payment |= {"status": "succeeded", "payment_status": "succeeded"}
        payment = standin.store.insert(KIND, payment)
        standin.webhooks.emit("payment.succeeded", serialize(standin, payment))
        return invoices.set_payment_status(standin, invoice, "succeeded")
    if outcome == "requires_action":
        payment |= {
            "status": "requires_action",
            "payment_status": "pending",
            "next_action": _next_action(standin, payment["provider_payment_id"]),
        }
        payment = standin.store.insert(KIND, payment)
        invoice["payment_status"] = "pending"
        invoice["ready_for_payment_processing"] = True
        invoice = invoices.save(standin, invoice)
        standin.webhooks.emit("payment.requires_action", serialize(standin, payment))
        return invoice
    payment |= {
        "status": "failed",
        "payment_status": "failed",
        "error": {"code": behaviour.error_code, "message": behaviour.error_message},
    }
    standin.store.insert(KIND, payment)
    invoice["payment_status"] = "failed"
    invoice["ready_for_payment_processing"] = True
    invoice["auto_retry_at"] = _next_retry(standin, invoice, behaviour)
    invoice = invoices.save(standin, invoice)
    wallets.invoice_payment_failed(standin, invoice)
    standin.webhooks.emit(
        "invoice.payment_failure",
        failure_object(standin, invoice, behaviour.error_code, behaviour.error_message),
    )
    return invoice


def _next_retry(
    standin: Standin, invoice: dict[str, Any], behaviour: PaymentBehaviour
) -> str | None:
    if behaviour.retry_after_seconds is None:
        return None
    if invoice.get("auto_retries", 0) >= behaviour.max_retries:
        return None
    return iso(standin.clock.now() + timedelta(seconds=behaviour.retry_after_seconds))


def _next_action(standin: Standin, provider_payment_id: str) -> dict[str, Any]:
    base = (standin.config.public_url or "http://localhost:3000").rstrip("/")
    return {
        "type": "redirect_to_url",
        "redirect_to_url": {
            "url": f"{base}/_sandbox/payments/{provider_payment_id}/authenticate",
            "return_url": "https://www.getlago.com/",
        },
    }


def complete(standin: Standin, payment: dict[str, Any], outcome: str) -> dict[str, Any]:
    """The customer finished (or abandoned) 3-D Secure: the provider's webhook reaches Lago."""
    invoice = invoices.get_or_404(standin, payment["invoice_id"])
    if payment["status"] != "requires_action":
        raise ValueError("only a payment that requires action can be completed")
    status = "succeeded" if outcome == "succeeded" else "failed"
    payment["status"] = status
    payment["payment_status"] = status
    payment["next_action"] = {}
    payment = standin.store.save(KIND, payment)
    if status == "succeeded":
        standin.webhooks.emit("payment.succeeded", serialize(standin, payment))
    invoices.set_payment_status(standin, invoice, status)
    return payment


def due_retries(standin: Standin) -> list[dict[str, Any]]:
    """Invoices with a scheduled automatic retry."""
    return standin.store.all(
        invoices.KIND,
        newest_first=False,
        where=lambda i: (
            bool(i.get("auto_retry_at"))
            and i["status"] == "finalized"
            and i["payment_status"] != "succeeded"
        ),
    )


def run_retries(standin: Standin, at: datetime) -> list[dict[str, Any]]:
    """Attempt every scheduled retry that is due."""
    done = []
    for invoice in due_retries(standin):
        if datetime.fromisoformat(invoice["auto_retry_at"].replace("Z", "+00:00")) <= at:
            done.append(attempt(standin, invoice, automatic=True))
    return done


@register_object("payment")
def _find_payment(standin: Standin, identifier: str, **_context: Any) -> dict | None:
    """By payment id, or an invoice id (its newest payment)."""
    payment = standin.store.get(KIND, identifier) or latest_for_invoice(standin, identifier)
    return serialize(standin, payment) if payment else None


@register_object("payment_provider_invoice_payment_error")
def _find_failure(standin: Standin, identifier: str, **_context: Any) -> dict | None:
    """By invoice id (or payment id): the error of its last failed attempt, or a card decline."""
    invoice = standin.store.get(invoices.KIND, identifier)
    payment = None
    if invoice is None:
        payment = standin.store.get(KIND, identifier)
        invoice = standin.store.get(invoices.KIND, payment["invoice_id"]) if payment else None
    if invoice is None:
        return None
    payment = payment or latest_for_invoice(standin, invoice["id"])
    error = (payment or {}).get("error") or {}
    behaviour = standin.payment_knobs.behaviour(invoice["external_customer_id"])
    return failure_object(
        standin,
        invoice,
        error.get("code", behaviour.error_code),
        error.get("message", behaviour.error_message),
    )


@register_object("payment_provider_customer_error")
def _find_customer_error(standin: Standin, identifier: str, **_context: Any) -> dict | None:
    customer = customers.find(standin, identifier) or standin.store.get(customers.KIND, identifier)
    if customer is None:
        return None
    return customers.provider_error_object(customer, "The customer could not be created")


def _paginated(standin: Standin, found: list[dict[str, Any]]):
    return jsonify(
        pagination.collection("payments", found, lambda p: serialize(standin, p), request.args)
    )


@bp.get("/payments")
def list_payments():
    standin = current()
    found = standin.store.all(KIND)
    if request.args.get("external_customer_id"):
        customer = customers.find(standin, request.args["external_customer_id"])
        found = [p for p in found if customer is not None and p["customer_id"] == customer["id"]]
    if request.args.get("invoice_id"):
        found = [p for p in found if p["invoice_id"] == request.args["invoice_id"]]
    return _paginated(standin, found)


@bp.get("/customers/<external_customer_id>/payments")
def list_customer_payments(external_customer_id: str):
    standin = current()
    customer = customers.get_or_404(standin, external_customer_id)
    found = standin.store.all(KIND, where=lambda p: p["customer_id"] == customer["id"])
    if request.args.get("invoice_id"):
        found = [p for p in found if p["invoice_id"] == request.args["invoice_id"]]
    return _paginated(standin, found)
