"""Payments at the pretend provider: Lago's charges of the customer's card, and `GET /payments`.

Mirrors Invoices::Payments::CreateService and PaymentProviders::Stripe::Payments::CreateService:
no attempt without a provider customer or a payment method (`payment_methods.determine`); an
amount of zero is simply paid; the charge is off session with `error_on_requires_action`. A
success marks the invoice paid (`payment.succeeded`, `invoice.payment_status_updated`); a card
error marks it failed and sends only `invoice.payment_failure` (object
`payment_provider_invoice_payment_error`), except `authentication_required`, which sends
nothing; once an invoice had that error, later attempts are on session and a card that needs
3-D Secure leaves the payment processing with `payment.requires_action`.
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
AUTHENTICATION_REQUIRED = "authentication_required"  # StripeProvider::NEED_3DS_ERROR_CODE


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
    standin: Standin,
    invoice: dict[str, Any],
    provider_error: dict[str, Any] | None,
    error_details: dict[str, Any],
) -> dict[str, Any]:
    """The `payment_provider_invoice_payment_error` object (invoice.payment_failure), as
    V1::PaymentProviders::InvoicePaymentErrorSerializer renders it."""
    customer = customers.get_by_id(standin, invoice["customer_id"])
    return {
        "lago_invoice_id": invoice["id"],
        "lago_customer_id": customer["id"],
        "external_customer_id": customer["external_id"],
        "provider_customer_id": customers.provider_customer_id(customer),
        "payment_provider": customer.get("payment_provider"),
        "payment_provider_code": customer.get("payment_provider_code"),
        "provider_error": provider_error,
        "error_details": error_details,
    }


def card_failure(standin: Standin, invoice: dict[str, Any], error: dict[str, Any]) -> dict:
    """invoice.payment_failure for a Stripe card error: the error's code and message, and
    V1::Errors::StripeErrorSerializer's rendering of it in `error_details`."""
    details = {
        "code": error["code"],
        "message": error["message"],
        "request_id": error["request_id"],
        "http_status": 402,
        "http_body": {
            "error": {
                "code": error["code"],
                "decline_code": error["decline_code"],
                "doc_url": f"https://stripe.com/docs/error-codes/{error['code'].replace('_', '-')}",
                "message": error["message"],
                "payment_intent": {
                    "id": error["payment_intent"],
                    "object": "payment_intent",
                    "status": "requires_payment_method",
                },
                "type": "card_error",
            }
        },
    }
    provider_error = {"message": error["message"], "error_code": error["code"]}
    return failure_object(standin, invoice, provider_error, details)


def latest_for_invoice(standin: Standin, invoice_id: str) -> dict[str, Any] | None:
    """The invoice's newest payment."""
    found = standin.store.all(KIND, where=lambda p: p["invoice_id"] == invoice_id)
    return found[0] if found else None


def _processing(standin: Standin, invoice_id: str) -> dict[str, Any] | None:
    found = standin.store.all(
        KIND,
        where=lambda p: p["invoice_id"] == invoice_id and p["payment_status"] == "processing",
    )
    return found[0] if found else None


def _had_authentication_error(standin: Standin, invoice_id: str) -> bool:
    return bool(
        standin.store.all(
            KIND,
            where=lambda p: (
                p["invoice_id"] == invoice_id
                and (p.get("error") or {}).get("code") == AUTHENTICATION_REQUIRED
            ),
        )
    )


def charge(
    card: str, outcome: str | None, behaviour: PaymentBehaviour, *, off_session: bool
) -> tuple[str, str, str] | str:
    """What the pretend Stripe answers a confirmed PaymentIntent: "succeeded",
    "requires_action", or a card error (code, decline_code, message).

    Off session with `error_on_requires_action` (Lago's first attempt), a card that asks for
    3-D Secure fails with `authentication_required`; on a later attempt it requires action.
    """
    if outcome == "succeeded":
        return "succeeded"
    if outcome == "failed":
        return _declined(behaviour)
    error = payment_methods.CARDS["requires_authentication" if outcome else card]
    if error is None:
        return "succeeded"
    if error[0] == AUTHENTICATION_REQUIRED and not off_session:
        return "requires_action"
    return error


def attempt(
    standin: Standin,
    invoice: dict[str, Any],
    *,
    payment_method: dict[str, Any] | None = None,
    automatic: bool = False,
    hosted: bool = False,
) -> dict[str, Any]:
    """Invoices::Payments::CreateService: try to collect a finalized invoice; returns it.

    `hosted`: the customer pays on the provider's page behind `payment_url` (on session, with a
    card entered there)."""
    if invoice["status"] != "finalized" or invoice["payment_status"] == "succeeded":
        return invoice
    customer = customers.get_by_id(standin, invoice["customer_id"])
    provider_customer = customers.provider_customer_id(customer)
    if not customer.get("payment_provider") or not provider_customer:
        return invoice
    method = payment_methods.determine(standin, invoice, customer, payment_method)
    if method is None and not hosted:
        return invoice  # no payment method (or `manual`): nothing is charged, no webhook
    if invoice["total_amount_cents"] <= 0:
        return invoices.set_payment_status(standin, invoice, "succeeded")
    if _processing(standin, invoice["id"]) is not None:
        return invoice  # the provider is still handling the previous attempt
    outcome, behaviour = standin.payment_knobs.next_outcome(customer["external_id"])
    off_session = not hosted and not _had_authentication_error(standin, invoice["id"])
    card = (method or {}).get("card", "succeeds")
    answer = charge(card, outcome, behaviour, off_session=off_session)
    invoice["payment_attempts"] = invoice.get("payment_attempts", 0) + 1
    if automatic:
        invoice["auto_retries"] = invoice.get("auto_retries", 0) + 1
    invoice["auto_retry_at"] = None
    payment = {
        "invoice_id": invoice["id"],
        "customer_id": customer["id"],
        "amount_cents": invoice["total_amount_cents"],
        "amount_currency": invoice["currency"],
        "provider_payment_id": "pi_sandbox" + secrets.token_hex(8),
        "provider_customer_id": provider_customer,
        "payment_provider_code": customer.get("payment_provider_code") or "stripe",
        "payment_provider_type": customer["payment_provider"],
        "payment_method_id": (method or {}).get("id"),
        "next_action": {},
        "automatic": automatic,
        "off_session": off_session,
    }
    if answer == "succeeded":
        payment |= {"status": "succeeded", "payment_status": "succeeded"}
        payment = standin.store.insert(KIND, payment)
        standin.webhooks.emit("payment.succeeded", serialize(standin, payment))
        return invoices.set_payment_status(standin, invoice, "succeeded")
    if answer == "requires_action":
        payment |= {
            "status": "requires_action",
            "payment_status": "processing",
            "next_action": _next_action(standin, payment["provider_payment_id"]),
        }
        payment = standin.store.insert(KIND, payment)
        invoice["payment_status"] = "pending"
        invoice["ready_for_payment_processing"] = False
        invoice = invoices.save(standin, invoice)
        standin.webhooks.emit("payment.requires_action", serialize(standin, payment))
        return invoice
    error = _error_record(answer, payment["provider_payment_id"])
    payment |= {"status": "failed", "payment_status": "failed", "error": error}
    payment = standin.store.insert(KIND, payment)
    invoice["payment_status"] = "failed"
    invoice["ready_for_payment_processing"] = True
    invoice["auto_retry_at"] = _next_retry(standin, invoice, behaviour)
    invoice = invoices.save(standin, invoice)
    wallets.invoice_payment_failed(standin, invoice)
    if error["code"] != AUTHENTICATION_REQUIRED:  # Lago sends no webhook for 3-D Secure
        standin.webhooks.emit("invoice.payment_failure", card_failure(standin, invoice, error))
    return invoice


def _declined(behaviour: PaymentBehaviour) -> tuple[str, str, str]:
    code = behaviour.error_code
    return code, "generic_decline" if code == "card_declined" else code, behaviour.error_message


def _error_record(answer: tuple[str, str, str], payment_intent: str) -> dict[str, Any]:
    code, decline_code, message = answer
    return {
        "code": code,
        "decline_code": decline_code,
        "message": message,
        "request_id": "req_sandbox" + secrets.token_hex(7),
        "payment_intent": payment_intent,
    }


def _error(behaviour: PaymentBehaviour) -> dict[str, Any]:
    return _error_record(_declined(behaviour), "pi_sandbox" + secrets.token_hex(8))


def missing_provider(standin: Standin, invoice: dict[str, Any]) -> dict[str, Any]:
    """Invoices::Payments::RetryService for a customer without a payment provider."""
    return failure_object(standin, invoice, None, {"code": "customer_must_have_payment_provider"})


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
    error = (payment or {}).get("error") or _error(
        standin.payment_knobs.behaviour(invoice["external_customer_id"])
    )
    return card_failure(standin, invoice, error)


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
