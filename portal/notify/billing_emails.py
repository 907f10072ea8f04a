"""The billing emails: each one checks that its fact still holds, then names its dedupe key.

`prepare(kind, *ids)` returns the email to send (or None when the fact no longer holds); the
emails job commits and hands it to `send`, which sends each recipient's copy once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from portal.billing import dunning, mirror, trials
from portal.billing.connection import NotConnected
from portal.cards import expiry
from portal.cards.services import label
from portal.extensions import db
from portal.lago import LagoError
from portal.models import DunningState, InvoiceMirror, SubscriptionMirror, Tenant, UsageAlert
from portal.notify import formatting, notices
from portal.notify.emails import Delivery, recipients_for, send_once


@dataclass
class Outgoing:
    """One email about one fact, ready to send."""

    dedupe_key: str
    tenant: Tenant
    template: str
    subject: str
    context: dict[str, Any] = field(default_factory=dict)


def prepare(kind: str, *args: Any, final: bool = False) -> Outgoing | None:
    """The email `kind` about `args`, or None when its fact no longer holds.

    `final` says this is the job's last try: emails that would wait for Lago go without it.
    """
    builder = KINDS.get(kind)
    if builder is None:
        raise ValueError(f"unknown email {kind!r}")
    if kind in ASKS_OUTSIDE:
        return builder(*args, final=final)
    return builder(*args)


def send(outgoing: Outgoing) -> list[Delivery]:
    """Send to the tenant's billing email, owners and billing admins (each copy once)."""
    context = {"fmt": formatting, **outgoing.context}
    return send_once(
        outgoing.dedupe_key,
        outgoing.tenant,
        outgoing.template,
        recipients_for(outgoing.tenant),
        outgoing.subject,
        **context,
    )


def _open(key: str):
    notice = notices.find(key)
    return notice if notice is not None and notice.resolved_at is None else None


def _invoice_name(invoice: InvoiceMirror | None) -> str:
    return f"invoice {invoice.number}" if invoice is not None and invoice.number else "an invoice"


def payment_failed(tenant_id: int, invoice_lago_id: str, final: bool = False) -> Outgoing | None:
    """One email per invoice and failed attempt (Lago's payment), while the failure stands.

    Lago is asked which attempt failed; when it cannot answer, this raises so the job retries,
    and on the job's last try (`final`) the failure episode names the attempt instead.
    """
    tenant = db.session.get(Tenant, tenant_id)
    notice = _open(dunning.failure_key(invoice_lago_id))
    if tenant is None or notice is None:
        return None
    try:
        attempt = dunning.failed_attempt(invoice_lago_id)
    except (LagoError, NotConnected):
        if not final:
            raise
        attempt = None
    if attempt is None:
        attempt = dunning.Attempt(f"since-{notice.created_at.isoformat()}")
    invoice = mirror.invoice(invoice_lago_id)
    return Outgoing(
        f"{notice.key}:{attempt.token}",
        tenant,
        "payment_failed",
        f"Payment failed for {_invoice_name(invoice)}",
        {"notice": notice, "invoice": invoice, "attempt": attempt.number},
    )


def invoice_overdue(tenant_id: int, invoice_lago_id: str) -> Outgoing | None:
    """One email per overdue invoice, while it is still overdue."""
    tenant = db.session.get(Tenant, tenant_id)
    notice = _open(dunning.overdue_key(invoice_lago_id))
    if tenant is None or notice is None:
        return None
    invoice = mirror.invoice(invoice_lago_id)
    return Outgoing(
        notice.key,
        tenant,
        "invoice_overdue",
        f"{_invoice_name(invoice)[0].upper()}{_invoice_name(invoice)[1:]} is overdue",
        {"notice": notice, "invoice": invoice},
    )


def account_suspended(tenant_id: int) -> Outgoing | None:
    """One email per suspension, while the account is still suspended."""
    tenant = db.session.get(Tenant, tenant_id)
    notice = _open(dunning.suspended_key(tenant_id))
    if tenant is None or notice is None:
        return None
    account = mirror.billing_account(tenant)
    if account.dunning_state is not DunningState.suspended or account.suspended_at is None:
        return None
    return Outgoing(
        f"{notice.key}:{account.suspended_at.isoformat()}",
        tenant,
        "account_suspended",
        f"Your {tenant.name} account is suspended",
        {"notice": notice, "account": account},
    )


def payment_action(tenant_id: int, invoice_lago_id: str) -> Outgoing | None:
    """One email per invoice whose payment waits for the customer's bank (3-D Secure), while it
    still waits: the link is Pier's page that opens the bank's (or Lago's payment page)."""
    tenant = db.session.get(Tenant, tenant_id)
    notice = _open(dunning.action_key(invoice_lago_id))
    invoice = mirror.invoice(invoice_lago_id)
    if tenant is None or notice is None or invoice is None:
        return None
    if invoice.payment_status == "succeeded" or invoice.status == "voided":
        return None
    return Outgoing(
        notice.key,
        tenant,
        "payment_action",
        f"Your bank asks you to confirm the payment of {_invoice_name(invoice)}",
        {
            "notice": notice,
            "invoice": invoice,
            "link": formatting.pay_link(invoice_lago_id),
        },
    )


def card_expiring(card_id: int, month: str, final: bool = False) -> Outgoing | None:
    """One email per card and expiry month, in the month before; Stripe is asked again first,
    so a card replaced or removed meanwhile is not told about."""
    card = expiry.recheck(card_id, final=final)
    if not expiry.expiring(card, month):
        return None
    tenant = db.session.get(Tenant, card.tenant_id)
    return Outgoing(
        expiry.email_key(card, month),
        tenant,
        "card_expiring",
        f"Your {label(card)} expires at the end of {expiry.month_words(month)}",
        {
            "card": card,
            "card_name": label(card),
            "last_month": expiry.month_words(month),
            "link": formatting.link("cards.index"),
        },
    )


def all_set(tenant_id: int, since: str) -> Outgoing | None:
    """One email when an account that had payment problems is in good standing again."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return None
    account = mirror.billing_account(tenant)
    if account.dunning_state is not DunningState.ok:
        return None
    return Outgoing(
        f"all_set:{tenant_id}:{since}",
        tenant,
        "all_set",
        "You're all set: your payments are up to date",
        {"since": datetime.fromisoformat(since)},
    )


def trial_ending(subscription_lago_id: str, ends_at: str) -> Outgoing | None:
    """One email per subscription and trial end, checked with Lago again before it goes."""
    row = db.session.scalar(
        sa.select(SubscriptionMirror).where(SubscriptionMirror.lago_id == subscription_lago_id)
    )
    if row is None:
        return None
    row, lago = trials.recheck(row.id)
    reminder = trials.reminder_for(row, lago) if row is not None else None
    if reminder is None or reminder.ends_at.isoformat() != ends_at:
        return None
    return Outgoing(
        trials.email_key(subscription_lago_id, reminder.ends_at),
        reminder.tenant,
        "trial_ending",
        f"Your {reminder.plan_name} trial ends on "
        f"{formatting.local_day(reminder.ends_at, reminder.tenant.timezone)}",
        {"reminder": reminder, "charge": trials.charge_sentence(reminder)},
    )


def usage_alert(alert_id: int, period: str, level: int) -> Outgoing | None:
    """One email per alert, period and level, while the alert exists and its notice is stored
    (the same key as the notice, so Pier's own job and Lago's webhook send it once)."""
    from portal.usage import alerts

    alert = db.session.get(UsageAlert, alert_id)
    key = alerts.notice_key(alert_id, period, level)
    notice = notices.find(key)
    if alert is None or notice is None:
        return None
    tenant = db.session.get(Tenant, alert.tenant_id)
    words = notice.title.split(": ", 1)[-1]
    return Outgoing(
        key,
        tenant,
        "usage_alert",
        f"Usage alert: {notice.title}",
        {"level": level, "words": words},
    )


def low_credits(tenant_id: int, since: str) -> Outgoing | None:
    """One email per fall of the credits below the tenant's level, while that crossing holds."""
    from portal.wallet import low_credits as low

    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return None
    account = mirror.billing_account(tenant)
    crossing = account.low_credits_since
    if (
        crossing is None
        or crossing.isoformat() != since
        or _open(low.notice_key(tenant_id)) is None
    ):
        return None
    return Outgoing(
        low.email_key(tenant_id, crossing),
        tenant,
        "low_credits",
        "Your prepaid credits are running low",
        {"level": low.level_of(account), "account": account},
    )


KINDS: dict[str, Callable[..., Outgoing | None]] = {
    "payment_failed": payment_failed,
    "payment_action": payment_action,
    "card_expiring": card_expiring,
    "invoice_overdue": invoice_overdue,
    "account_suspended": account_suspended,
    "all_set": all_set,
    "trial_ending": trial_ending,
    "usage_alert": usage_alert,
    "low_credits": low_credits,
}
#: Emails that ask Lago or Stripe before they go, and go on the job's last try without them.
ASKS_OUTSIDE = ("payment_failed", "card_expiring")
