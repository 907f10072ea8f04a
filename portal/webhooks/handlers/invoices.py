"""Lago invoice and credit-note webhooks: the invoice mirror, then the tenant's dunning state."""

from __future__ import annotations

from typing import Any

from portal.billing import dunning, mirror
from portal.lago import CreditNote, Invoice
from portal.models import (
    DunningState,
    EventSource,
    InvoiceMirror,
    PaymentIssue,
    Tenant,
    WebhookEvent,
    utcnow,
)
from portal.webhooks.handlers import refetch, tenants
from portal.webhooks.handlers.customers import provider_message
from portal.webhooks.registry import handles

INVOICE_TYPES = (
    "invoice.created",
    "invoice.generated",
    "invoice.drafted",
    "invoice.voided",
    "invoice.one_off_created",
    "invoice.paid_credit_added",
    "invoice.payment_status_updated",
    "invoice.payment_overdue",
)


class InvoiceUnknown(LookupError):
    """Lago cannot be asked about an invoice Pier has never seen; the job retries later."""


def mirror_invoice(
    event: WebhookEvent, tenant: Tenant, lago_id: str, sent: Invoice | None
) -> InvoiceMirror | None:
    """Re-read the invoice from Lago (else use the webhook's copy) and mirror it when newer.

    Returns the mirrored row, or None when Lago could not be asked and there was no copy.
    """
    fresh, asked_at = refetch.from_lago(event, "invoice", lambda lago: lago.get_invoice(lago_id))
    snapshot = fresh or sent
    if snapshot is None:
        return None
    said_at = mirror.invoice_said_at(snapshot)
    if said_at is None:
        said_at = asked_at if fresh is not None else refetch.payload_time(event, None)
    result = mirror.upsert_invoice(tenant, snapshot, said_at)
    if not result.applied:
        refetch.note(event, f"The mirror already held a newer copy of invoice {lago_id}; kept it.")
    return result.row


@handles(EventSource.lago, *INVOICE_TYPES)
def invoice_changed(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """Mirror the invoice and recompute the tenant's payment standing."""
    sent = Invoice.from_api(payload["invoice"])
    tenant = tenants.by_external_id(event, sent.external_customer_id)
    if tenant is None:
        return
    mirror_invoice(event, tenant, sent.lago_id, sent)
    if sent.raw.get("coupons_amount_cents"):
        _pull_coupons(event, tenant)
    dunning.refresh(tenant)


def _pull_coupons(event: WebhookEvent, tenant: Tenant) -> None:
    """An invoice that used coupons changed what is left of them: read them again."""
    listed, asked_at = refetch.from_lago(
        event, "applied coupons", lambda lago: lago.list_applied_coupons(tenant.external_id)
    )
    if listed is not None:
        mirror.replace_applied_coupons(tenant, listed, asked_at)


NO_PROVIDER = "customer_must_have_payment_provider"  # retry_payment without a provider


def failure_reported(error: dict[str, Any]) -> dunning.Reported:
    """What an invoice.payment_failure says: no card to charge, or the provider's refusal."""
    details = error.get("error_details")
    code = details.get("code") if isinstance(details, dict) else None
    if code == NO_PROVIDER:
        return dunning.Reported(PaymentIssue.no_payment_method)
    provider_error = error.get("provider_error")
    provider_code = provider_error.get("error_code") if isinstance(provider_error, dict) else None
    issue = (
        PaymentIssue.authentication_required
        if "authentication_required" in (code, provider_code)
        else PaymentIssue.declined
    )
    return dunning.Reported(issue, provider_message(provider_error or details))


@handles(EventSource.lago, "invoice.payment_failure")
def invoice_payment_failed(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """A payment attempt failed, or Lago has nothing to charge: mirror the invoice and open
    the failure with its reason."""
    error = payload["payment_provider_invoice_payment_error"]
    tenant = tenants.by_external_id(event, error.get("external_customer_id"))
    if tenant is None:
        return
    lago_id = error["lago_invoice_id"]
    said = failure_reported(error)
    if mirror_invoice(event, tenant, lago_id, None) is None:
        if said.issue is PaymentIssue.no_payment_method:
            found = mirror.invoice(lago_id)  # Lago charged nothing: the status is unchanged
        else:
            found = mirror.set_payment_status(lago_id, "failed")
        if found is None:
            raise InvoiceUnknown(
                f"Lago could not be asked about invoice {lago_id}, which Pier has not seen yet."
            )
        if said.issue is not PaymentIssue.no_payment_method:
            refetch.note(event, "Marked the invoice's payment as failed, as the webhook says.")
    account = dunning.refresh(tenant, reported={lago_id: said})
    if account.dunning_state is not DunningState.ok:
        account.payment_failed_at = utcnow()  # every attempt is news: a dismissed banner returns


@handles(EventSource.lago, "credit_note.created", "credit_note.generated")
def credit_note_changed(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """Mirror the credit note (shown next to its invoice), then its invoice again: a credit
    note changes what the invoice still asks for."""
    sent = CreditNote.from_api(payload["credit_note"])
    tenant = tenants.by_external_id(event, sent.external_customer_id)
    if tenant is None:
        return
    fresh, asked_at = refetch.from_lago(
        event, "credit note", lambda lago: lago.get_credit_note(sent.lago_id)
    )
    note = fresh or sent
    said_at = note.updated_at or (asked_at if fresh else refetch.payload_time(event, None))
    if not mirror.upsert_credit_note(tenant, note, said_at).applied:
        refetch.note(event, f"The mirror already held a newer copy of credit note {note.number}.")
    lago_id = note.lago_invoice_id
    if mirror_invoice(event, tenant, lago_id, None) is None:
        refetch.note(event, f"Invoice {lago_id} keeps its mirrored amounts until Lago answers.")
    dunning.refresh(tenant)
