"""Getting a failed payment paid: which step comes next, and retrying every open invoice
(or one invoice, from its "Pay now").

`next_step(tenant)` is what a dunning banner asks: declined (update the card), authentication
needed (authenticate now), no card (add one) or processing (wait), each with the fix-it URL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import url_for

from portal.billing import mirror
from portal.billing.connection import lago_client
from portal.cards import services as cards
from portal.extensions import db
from portal.lago.errors import LagoNotAllowed, LagoNotFound
from portal.models import InvoiceMirror, Operation, PaymentIssue, Tenant, utcnow
from portal.operations import services as operations

RETRY = "invoices_retry"
IN_PROGRESS = "payment_processor_is_currently_handling_payment"


@dataclass(frozen=True)
class NextStep:
    """What the customer should do about unpaid invoices."""

    kind: str  # declined | authentication_required | no_card | processing
    title: str
    message: str
    action: str | None  # the button's words (None: nothing to do but wait)
    url: str


def open_invoices(tenant: Tenant) -> list[InvoiceMirror]:
    """Finalized invoices whose payment has not succeeded and that Lago tried or could not try."""
    return list(
        db.session.scalars(
            sa.select(InvoiceMirror)
            .where(
                InvoiceMirror.tenant_id == tenant.id,
                InvoiceMirror.status == "finalized",
                InvoiceMirror.payment_status.in_(("failed", "pending")),
                sa.or_(
                    InvoiceMirror.payment_status == "failed",
                    InvoiceMirror.payment_issue.is_not(None),
                    InvoiceMirror.payment_overdue.is_(True),
                ),
            )
            .order_by(InvoiceMirror.issuing_date, InvoiceMirror.id)
        )
    )


def next_step(tenant: Tenant) -> NextStep | None:
    """The next step for a tenant with unpaid invoices (None: nothing is unpaid)."""
    unpaid = open_invoices(tenant)
    if not unpaid:
        return None
    url = url_for("cards.fix")
    if any(i.payment_issue is PaymentIssue.authentication_required for i in unpaid):
        return NextStep(
            "authentication_required",
            "Your bank asks you to confirm a payment",
            "The payment is waiting for your confirmation with your bank (3-D Secure).",
            "Authenticate now",
            url,
        )
    if cards.default_card(tenant) is None or any(
        i.payment_issue is PaymentIssue.no_payment_method for i in unpaid
    ):
        return NextStep(
            "no_card",
            "There is no card to charge",
            "Add a card and we collect the unpaid invoices right away.",
            "Add a card",
            url,
        )
    if all(i.payment_status == "pending" for i in unpaid):
        return NextStep(
            "processing",
            "Your payment is being processed",
            "Nothing to do: this page shows the result as soon as your bank answers.",
            None,
            url,
        )
    return NextStep(
        "declined",
        "Your card was declined",
        "Update your card, and we retry the unpaid invoices at once.",
        "Update your card",
        url,
    )


def plan_retry(tenant: Tenant, user_id: int, key: str) -> Operation:
    invoices = open_invoices(tenant)
    if not invoices:
        raise cards.Refused("There is no unpaid invoice to retry.")
    if cards.default_card(tenant) is None:
        raise cards.Refused("Add a card first: there is nothing to charge the invoices to.")
    done = "Every unpaid invoice was sent for payment again."
    return _record_retry(tenant, user_id, key, invoices, done)


def _record_retry(
    tenant: Tenant, user_id: int, key: str, invoices: list[InvoiceMirror], done: str
) -> Operation:
    ids = [i.lago_id for i in invoices]
    return operations.record(
        tenant_id=tenant.id,
        user_id=user_id,
        kind=RETRY,
        key=key,
        params={"invoices": ids},
        expected={"done": done},
    )


def payable_invoice(tenant: Tenant, invoice_lago_id: str) -> InvoiceMirror | None:
    """The tenant's invoice, from the mirror, else read from Lago (a credit invoice the
    webhook has not brought yet) and mirrored; None when it is not the tenant's."""
    found = db.session.scalar(
        sa.select(InvoiceMirror).where(
            InvoiceMirror.lago_id == invoice_lago_id, InvoiceMirror.tenant_id == tenant.id
        )
    )
    if found is not None or mirror.invoice(invoice_lago_id) is not None:
        return found
    try:
        uuid.UUID(invoice_lago_id)
    except ValueError:
        return None  # Lago's ids are UUIDs: nothing to ask
    try:
        invoice = lago_client().get_invoice(invoice_lago_id)
    except LagoNotFound:
        return None
    if invoice.external_customer_id != tenant.customer_external_id:
        return None
    said_at = mirror.invoice_said_at(invoice) or utcnow()
    return mirror.upsert_invoice(tenant, invoice, said_at).row


def needs_payment_page(tenant: Tenant, invoice: InvoiceMirror) -> bool:
    """Pay now goes to Lago's payment page when the bank asks for a confirmation or there is
    no card to charge; otherwise the default card is charged again."""
    return (
        invoice.payment_issue is PaymentIssue.authentication_required
        or invoice.payment_action_url is not None
        or cards.default_card(tenant) is None
    )


def plan_pay_now(tenant: Tenant, user_id: int, key: str, invoice: InvoiceMirror) -> Operation:
    """Retry one invoice's payment with the default card: the retry, for that invoice only."""
    if invoice.status != "finalized" or invoice.payment_status == "succeeded":
        raise cards.Refused("This invoice has nothing left to pay.")
    done = f"Invoice {invoice.number or invoice.lago_id} was sent for payment."
    return _record_retry(tenant, user_id, key, [invoice], done)


def send_retry(tenant: Tenant, operation: Operation) -> None:
    """retry_payment for each invoice; one Lago is still handling counts as in progress."""
    client = lago_client()
    answers = {}
    for lago_id in operation.params["invoices"]:
        try:
            client.retry_invoice_payment(lago_id)
            answers[lago_id] = "sent"
        except LagoNotAllowed as error:
            answers[lago_id] = "in_progress" if error.code == IN_PROGRESS else "not_allowed"
    operation.expected = {**operation.expected, "answers": answers}


@operations.confirms(RETRY)
def _retry_confirmed(operation: Operation) -> bool:
    """Every invoice is paid, in progress at the bank, or Lago has answered since the retry."""
    answers = operation.expected.get("answers") or {}
    for lago_id in operation.params["invoices"]:
        invoice = db.session.scalar(
            sa.select(InvoiceMirror).where(InvoiceMirror.lago_id == lago_id)
        )
        if invoice is None or invoice.payment_status == "succeeded":
            continue
        if answers.get(lago_id) in ("in_progress", "not_allowed"):
            continue
        if (
            operation.submitted_at
            and invoice.updated_at
            and invoice.updated_at > operation.submitted_at
        ):
            continue
        return False
    return True


@dataclass(frozen=True)
class InvoiceResult:
    """One invoice's line in the fix-it flow."""

    invoice: InvoiceMirror
    state: str  # paid | in_progress | declined | authentication_required | waiting
    words: str


def results(tenant: Tenant, operation: Operation | None) -> list[InvoiceResult]:
    """Where each invoice of the retry stands now (as webhooks arrive)."""
    ids = operation.params["invoices"] if operation is not None else None
    answers = (operation.expected.get("answers") or {}) if operation is not None else {}
    if ids is None:
        rows = open_invoices(tenant)
    else:
        rows = list(
            db.session.scalars(
                sa.select(InvoiceMirror)
                .where(InvoiceMirror.tenant_id == tenant.id, InvoiceMirror.lago_id.in_(ids))
                .order_by(InvoiceMirror.issuing_date, InvoiceMirror.id)
                .execution_options(populate_existing=True)
            )
        )
    found = []
    for invoice in rows:
        if invoice.payment_status == "succeeded":
            found.append(InvoiceResult(invoice, "paid", "Paid."))
        elif invoice.payment_issue is PaymentIssue.authentication_required:
            found.append(
                InvoiceResult(
                    invoice,
                    "authentication_required",
                    "Your bank asks you to confirm this payment.",
                )
            )
        elif answers.get(invoice.lago_id) == "in_progress" or invoice.payment_status == "pending":
            found.append(InvoiceResult(invoice, "in_progress", "In progress at your bank."))
        elif (
            operation is not None
            and operation.submitted_at
            and invoice.updated_at
            and invoice.updated_at > operation.submitted_at
        ):
            words = "Declined again."
            if invoice.payment_issue_detail:
                words += f" The bank said: “{invoice.payment_issue_detail.rstrip('.')}”."
            found.append(InvoiceResult(invoice, "declined", words))
        elif operation is not None:
            found.append(
                InvoiceResult(invoice, "waiting", "Sent for payment; waiting for the answer.")
            )
        else:
            found.append(InvoiceResult(invoice, "declined", "Not paid yet."))
    return found


def payment_url(tenant: Tenant, invoice_lago_id: str) -> str | None:
    """Where the customer confirms or pays this invoice: the 3-D Secure link Lago sent, else
    Lago's payment URL for it."""
    invoice = db.session.scalar(
        sa.select(InvoiceMirror).where(
            InvoiceMirror.lago_id == invoice_lago_id, InvoiceMirror.tenant_id == tenant.id
        )
    )
    if invoice is None or invoice.payment_status == "succeeded":
        return None
    return invoice.payment_action_url or lago_client().invoice_payment_url(invoice.lago_id)
