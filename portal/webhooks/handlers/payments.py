"""Lago payment webhooks: a payment that went through, or one waiting for the customer's bank."""

from __future__ import annotations

from typing import Any

from portal.billing import dunning, mirror
from portal.models import EventSource, PaymentIssue, WebhookEvent
from portal.webhooks.handlers import refetch, tenants
from portal.webhooks.handlers.customers import web_address
from portal.webhooks.handlers.invoices import mirror_invoice
from portal.webhooks.registry import handles


def paid_invoice_ids(payment: dict[str, Any]) -> list[str]:
    """The Lago ids of the invoices a payment is for."""
    ids = []
    if payment.get("payable_type") == "Invoice" and payment.get("lago_payable_id"):
        ids.append(payment["lago_payable_id"])
    ids.extend(i for i in payment.get("invoice_ids") or [] if isinstance(i, str))
    return list(dict.fromkeys(ids))


@handles(EventSource.lago, "payment.succeeded")
def payment_succeeded(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """Mirror the paid invoices and recompute the tenant's standing (back to ok if all paid)."""
    payment = payload["payment"]
    tenant = tenants.by_external_id(event, payment.get("external_customer_id"))
    if tenant is None:
        return
    for lago_id in paid_invoice_ids(payment):
        fresh = mirror_invoice(event, tenant, lago_id, None)
        if fresh is None and mirror.set_payment_status(lago_id, "succeeded") is not None:
            refetch.note(event, f"Marked invoice {lago_id} as paid, as the webhook says.")
    dunning.refresh(tenant)


@handles(EventSource.lago, "payment.requires_action")
def payment_requires_action(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """The customer's bank wants a confirmation (3-D Secure): show them the link Lago sent."""
    payment = payload["payment"]
    tenant = tenants.by_external_id(event, payment.get("external_customer_id"))
    if tenant is None:
        return
    next_action = payment.get("next_action") or {}
    url = web_address((next_action.get("redirect_to_url") or {}).get("url"))
    said = dunning.Reported(PaymentIssue.authentication_required, action_url=url)
    invoice_ids = paid_invoice_ids(payment)
    for lago_id in invoice_ids:
        mirror_invoice(event, tenant, lago_id, None)
        dunning.record_action_required(
            tenant,
            lago_id,
            int(payment.get("amount_cents") or 0),
            payment.get("amount_currency") or tenant.currency or "USD",
        )
    dunning.refresh(tenant, reported=dict.fromkeys(invoice_ids, said))
