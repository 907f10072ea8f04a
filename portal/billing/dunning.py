"""Dunning: a tenant's payment standing, derived from the invoice mirror, with notices and emails.

The state is recomputed from the mirrored invoices under a lock on the tenant's billing account,
so deliveries in any order, twice, or at once converge on the same answer:

- `payment_failed` while a finalized invoice's payment failed, Lago has no card to charge, or
  a payment waits for the customer's 3-D Secure confirmation (one notice per invoice, one email
  per invoice and failed attempt, the attempt being Lago's payment record);
- `overdue` while an invoice is overdue (one notice and one email per invoice);
- `suspended` once an account stayed overdue past `suspension_grace_days` (set by the cron, kept
  while an invoice is overdue; data is kept);
- back to `ok` when nothing is unpaid, with one "you're all set" email per episode.

Each invoice keeps why it is unpaid when Lago said so (`PaymentIssue`: declined, authentication
required with the link to confirm, no payment method), and the account keeps the issue of its
first unpaid invoice that has one, so banners can word each case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from portal import payments
from portal.billing import mirror
from portal.billing.connection import get_connection, lago_client
from portal.extensions import db
from portal.models import (
    BillingAccount,
    DunningState,
    InvoiceMirror,
    PaymentIssue,
    Tenant,
    utcnow,
)
from portal.notify import notices
from portal.notify.after_commit import queue_email
from portal.notify.formatting import amount, billing_contact, day, fix_link, local_day, pay_link

FAILED = "payment_failed"
OVERDUE = "invoice_overdue"
ACTION = "payment_action"
SUSPENDED = "account_suspended"
DEFAULT_GRACE_DAYS = 14


def failure_key(invoice_lago_id: str) -> str:
    """The notice of an invoice whose payment failed (open until it is paid or retried)."""
    return f"{FAILED}:{invoice_lago_id}"


def overdue_key(invoice_lago_id: str) -> str:
    """The notice (and email) key of an overdue invoice."""
    return f"{OVERDUE}:{invoice_lago_id}"


def action_key(invoice_lago_id: str) -> str:
    """The notice key of a payment waiting for the customer (3-D Secure)."""
    return f"{ACTION}:{invoice_lago_id}"


def suspended_key(tenant_id: int) -> str:
    """The notice key of a suspended account."""
    return f"{SUSPENDED}:{tenant_id}"


def grace_days() -> int:
    """Days an account may stay overdue before it is suspended."""
    connection = get_connection()
    return connection.suspension_grace_days if connection is not None else DEFAULT_GRACE_DAYS


def is_suspended(tenant: Tenant) -> bool:
    """True while the tenant's access is suspended for unpaid invoices."""
    state = db.session.scalar(
        sa.select(BillingAccount.dunning_state).where(BillingAccount.tenant_id == tenant.id)
    )
    return state is DunningState.suspended


@dataclass(frozen=True)
class Reported:
    """What Lago said about an invoice's payment: the issue, the provider's words, a link."""

    issue: PaymentIssue
    detail: str | None = None
    action_url: str | None = None


def refresh(
    tenant: Tenant,
    *,
    reported: dict[str, Reported] | None = None,
    now: datetime | None = None,
) -> BillingAccount:
    """Recompute the tenant's dunning state from its mirrored invoices (the caller commits).

    `reported` maps invoice Lago ids to what Lago just said about their payment.
    """
    now = now or utcnow()
    reported = reported or {}
    account = mirror.billing_account(tenant, lock=True)
    _record_issues(tenant, reported)
    unpaid = list(
        db.session.scalars(
            sa.select(InvoiceMirror)
            .where(
                InvoiceMirror.tenant_id == tenant.id,
                InvoiceMirror.status == "finalized",
                sa.or_(
                    InvoiceMirror.payment_status.is_(None),
                    InvoiceMirror.payment_status != "succeeded",
                ),
                sa.or_(
                    InvoiceMirror.payment_status == "failed",
                    InvoiceMirror.payment_overdue.is_(True),
                    InvoiceMirror.payment_issue.is_not(None),
                ),
            )
            .order_by(InvoiceMirror.issuing_date, InvoiceMirror.id)
            .execution_options(populate_existing=True)
        )
    )
    failed = [
        i
        for i in unpaid
        if i.payment_status == "failed" or i.payment_issue is PaymentIssue.no_payment_method
    ]
    overdue = [i for i in unpaid if i.payment_overdue]
    # A payment waiting for 3-D Secure is not paid: the account is not "all set" meanwhile.
    awaiting = [
        i
        for i in unpaid
        if i.payment_issue is PaymentIssue.authentication_required and i not in failed
    ]
    for invoice in failed:
        said = reported.get(invoice.lago_id)
        if said is not None and said.issue is PaymentIssue.authentication_required:
            said = None  # told by the action notice; the failure notice keeps its words
        if _record_failure(tenant, invoice, said, now):
            account.payment_failed_at = now
    for invoice in overdue:
        _record_overdue(tenant, account, invoice, now)
    _resolve_cleared(
        tenant, account, {i.lago_id for i in failed}, {i.lago_id for i in overdue}, now
    )
    _set_state(tenant, account, [*failed, *awaiting], overdue, now)
    account.payment_issue = next((i.payment_issue for i in unpaid if i.payment_issue), None)
    return account


def _record_issues(tenant: Tenant, reported: dict[str, Reported]) -> None:
    """Keep what Lago said on each invoice; forget it once the invoice is paid or voided."""
    for lago_id, said in reported.items():
        invoice = mirror.invoice(lago_id)
        if invoice is not None and invoice.tenant_id == tenant.id:
            invoice.payment_issue = said.issue
            invoice.payment_issue_detail = said.detail
            invoice.payment_action_url = said.action_url
    settled = db.session.scalars(
        sa.select(InvoiceMirror).where(
            InvoiceMirror.tenant_id == tenant.id,
            InvoiceMirror.payment_issue.is_not(None),
            sa.or_(InvoiceMirror.payment_status == "succeeded", InvoiceMirror.status == "voided"),
        )
    )
    for invoice in settled:
        invoice.payment_issue = None
        invoice.payment_issue_detail = None
        invoice.payment_action_url = None


def _record_failure(tenant: Tenant, invoice: InvoiceMirror, said: Reported | None, now) -> bool:
    """Open (or word again) the invoice's failure notice; True when it was not open before.

    The email is queued when the notice opens and for every failed attempt Lago reports
    (`reason`); the email job names the attempt, so each attempt is told once.
    """
    existing = notices.find(failure_key(invoice.lago_id))
    still_open = existing is not None and existing.resolved_at is None
    if still_open and said is None:
        return False
    number = invoice.number or "without a number yet"
    collect = (
        f"We could not collect {amount(_due(invoice), invoice.currency)} for invoice "
        f"{number} of {day(invoice.issuing_date)}."
    )
    if invoice.payment_issue is PaymentIssue.no_payment_method:
        title = f"Invoice {number} cannot be paid: there is no card on file"
        advice = _advice("Add a card, and the invoice is collected at once")
    else:
        title = f"The payment of invoice {number} failed"
        detail = invoice.payment_issue_detail
        advice = (
            f" The payment provider said: “{detail.rstrip('.')}”." if detail else ""
        ) + _advice("Update your card or choose another one, then retry the payment")
    opened = notices.raise_notice(
        failure_key(invoice.lago_id),
        tenant_id=tenant.id,
        kind=FAILED,
        level="error",
        title=title,
        body=collect + advice,
        now=now,
    )
    if opened or said is not None:
        queue_email("payment_failed", tenant.id, invoice.lago_id)
    return opened


def _record_overdue(tenant: Tenant, account: BillingAccount, invoice: InvoiceMirror, now) -> None:
    overdue_since = account.overdue_at or now
    suspend_on = local_day(overdue_since + timedelta(days=grace_days()), tenant.timezone)
    number = invoice.number or "without a number yet"
    opened = notices.raise_notice(
        overdue_key(invoice.lago_id),
        tenant_id=tenant.id,
        kind=OVERDUE,
        level="error",
        title=f"Invoice {number} is overdue",
        body=(
            f"{amount(_due(invoice), invoice.currency)} was due on "
            f"{day(invoice.payment_due_date)} and has not been paid. If it is still unpaid on "
            f"{suspend_on}, access to your account will be suspended until it is paid; your "
            "data is kept."
        )
        + _advice("Pay it now"),
        now=now,
    )
    if opened:
        queue_email("invoice_overdue", tenant.id, invoice.lago_id)


def _resolve_cleared(
    tenant: Tenant, account: BillingAccount, failed: set[str], overdue: set[str], now
) -> None:
    """Close the notices of invoices that are no longer failed, overdue, or awaiting action."""
    for notice in notices.open_with_prefix(f"{FAILED}:", tenant_id=tenant.id):
        if notice.key.split(":", 1)[1] not in failed:
            notices.resolve(notice.key, now=now)
    for notice in notices.open_with_prefix(f"{OVERDUE}:", tenant_id=tenant.id):
        if notice.key.split(":", 1)[1] not in overdue:
            notices.resolve(notice.key, now=now)
    for notice in notices.open_with_prefix(f"{ACTION}:", tenant_id=tenant.id):
        invoice = mirror.invoice(notice.key.split(":", 1)[1])
        if invoice is not None and (
            invoice.payment_status == "succeeded" or invoice.status == "voided"
        ):
            notices.resolve(notice.key, now=now)


def _set_state(tenant: Tenant, account: BillingAccount, failed, overdue, now) -> None:
    previous = account.dunning_state
    if overdue and previous is DunningState.suspended:
        state = DunningState.suspended
    elif overdue:
        state = DunningState.overdue
    elif failed:
        state = DunningState.payment_failed
    else:
        state = DunningState.ok
    if state is not DunningState.ok and previous is DunningState.ok:
        account.dunning_since = now
    if overdue and account.overdue_at is None:
        account.overdue_at = now
    if not overdue:
        account.overdue_at = None
    if previous is DunningState.suspended and state is not DunningState.suspended:
        account.suspended_at = None
        notices.resolve(suspended_key(tenant.id), now=now)
    if state is DunningState.ok and previous is not DunningState.ok:
        since = account.dunning_since or now
        account.dunning_since = None
        account.payment_failed_at = None
        queue_email("all_set", tenant.id, since.isoformat())
    problems = [*overdue, *failed]
    account.dunning_invoice_lago_id = problems[0].lago_id if problems else None
    account.dunning_state = state


def _advice(what: str) -> str:
    """The sentence that ends a dunning notice: what to do, with the fix-it flow's absolute link;
    only when no card can be added in Pier (Stripe not connected), the billing contact."""
    if payments.effective().browser_ready:
        return f" {what}: {fix_link()}"
    return f" Cards cannot be added in the portal yet: write to {billing_contact()} to settle it."


def _due(invoice: InvoiceMirror) -> int:
    if invoice.total_due_amount_cents is not None:
        return invoice.total_due_amount_cents
    return invoice.total_amount_cents


# -- Which attempt failed ----------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """A failed payment attempt of an invoice: Lago's payment id and its rank (1 = first)."""

    token: str
    number: int | None = None


def failed_attempt(invoice_lago_id: str) -> Attempt | None:
    """The invoice's latest failed payment in Lago, or None when Lago lists none.

    Lago lists payments newest first; the sort keeps that order for payments of the same
    second. Raises LagoError (or NotConnected) when Lago cannot be asked.
    """
    listed = lago_client().paginate(
        "/payments", "payments", dict, params={"invoice_id": invoice_lago_id}
    )
    newest_first = sorted(listed, key=lambda p: str(p.get("created_at") or ""), reverse=True)
    for index, payment in enumerate(newest_first):
        if "failed" in (payment.get("payment_status"), payment.get("status")):
            return Attempt(f"payment-{payment['lago_id']}", len(newest_first) - index)
    return None


# -- Suspension (cron) -------------------------------------------------------------------------


def overdue_past_grace(now: datetime | None = None) -> list[int]:
    """Tenants overdue for longer than the grace period, not yet suspended."""
    cutoff = (now or utcnow()) - timedelta(days=grace_days())
    return list(
        db.session.scalars(
            sa.select(BillingAccount.tenant_id).where(
                BillingAccount.dunning_state == DunningState.overdue,
                BillingAccount.overdue_at <= cutoff,
            )
        )
    )


def suspend_if_due(tenant: Tenant, now: datetime | None = None) -> bool:
    """Suspend the tenant when it is still overdue past the grace period (the caller commits)."""
    now = now or utcnow()
    account = refresh(tenant, now=now)
    cutoff = now - timedelta(days=grace_days())
    if account.dunning_state is not DunningState.overdue or account.overdue_at is None:
        return False
    if account.overdue_at > cutoff:
        return False
    account.dunning_state = DunningState.suspended
    account.suspended_at = now
    numbers = ", ".join(_overdue_numbers(tenant)) or "an invoice"
    notices.raise_notice(
        suspended_key(tenant.id),
        tenant_id=tenant.id,
        kind=SUSPENDED,
        level="error",
        title="Your account is suspended",
        body=(
            f"Access is suspended because {numbers} stayed unpaid for more than "
            f"{grace_days()} days after becoming overdue. Your data is kept, and access comes "
            "back as soon as the payment goes through."
        )
        + _advice("Fix the payment"),
        now=now,
    )
    queue_email("account_suspended", tenant.id)
    return True


def _overdue_numbers(tenant: Tenant) -> list[str]:
    rows = db.session.scalars(
        sa.select(InvoiceMirror.number).where(
            InvoiceMirror.tenant_id == tenant.id,
            InvoiceMirror.payment_overdue.is_(True),
            InvoiceMirror.status == "finalized",
            InvoiceMirror.payment_status != "succeeded",
        )
    )
    return [f"invoice {number}" for number in rows if number]


# -- Payments waiting for the customer ---------------------------------------------------------


def record_action_required(
    tenant: Tenant, invoice_lago_id: str, amount_cents: int, currency: str
) -> bool:
    """Open the notice asking the customer to confirm a payment with their bank (3-D Secure),
    and email the link once per invoice (True when the notice opened).

    The link is Pier's page for the invoice, which opens the bank's page Lago sent (kept on the
    invoice by `refresh`) or, without one, Lago's payment page for the invoice.
    """
    invoice = mirror.invoice(invoice_lago_id)
    number = invoice.number if invoice is not None and invoice.number else None
    what = f"invoice {number}" if number else "an invoice"
    where = f" Confirm it with your bank: {pay_link(invoice_lago_id)}"
    opened = notices.raise_notice(
        action_key(invoice_lago_id),
        tenant_id=tenant.id,
        kind=ACTION,
        level="warning",
        title="Your bank asks you to confirm a payment",
        body=(
            f"The payment of {amount(amount_cents, currency)} for {what} waits for your "
            f"confirmation.{where}"
        ),
    )
    if opened:
        queue_email("payment_action", tenant.id, invoice_lago_id)
    return opened
