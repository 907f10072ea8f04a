"""Trial-ending reminders: N days before a trial ends, a notice and one email per trial end.

Lago sends no "trial will end" webhook, so the hourly cron finds the trials that end within
`trial_reminder_days` and checks each again at send time: with Lago when it answers, otherwise
with the mirror. No reminder goes to a subscription that was terminated or canceled, whose
trial already ended, or whose tenant already paid a subscription invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from portal.billing import mirror
from portal.billing.connection import NotConnected, get_connection, lago_client
from portal.extensions import db
from portal.lago import LagoError, LagoNotFound, Subscription
from portal.lago.zones import billing_timezone
from portal.models import InvoiceMirror, Notice, Plan, SubscriptionMirror, Tenant, utcnow
from portal.notify import notices
from portal.notify.after_commit import queue_email
from portal.notify.formatting import amount, link, local_day, moment

KIND = "trial_ending"
DEFAULT_REMINDER_DAYS = 3


@dataclass(frozen=True)
class Reminder:
    """What a trial-ending reminder says."""

    subscription: SubscriptionMirror
    tenant: Tenant
    plan_name: str
    amount_cents: int | None
    currency: str | None
    interval: str | None
    pay_in_advance: bool
    ends_at: datetime

    @property
    def price(self) -> str:
        """E.g. '$49.00 per month'."""
        if self.amount_cents is None:
            return "the plan's price"
        per = INTERVALS.get(self.interval or "", self.interval)
        money = amount(self.amount_cents, self.currency)
        return f"{money} per {per}" if per else money


INTERVALS = {
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "semiannual": "half-year",
    "yearly": "year",
}


def notice_key(subscription_lago_id: str) -> str:
    """The key of a subscription's trial-ending notice."""
    return f"{KIND}:{subscription_lago_id}"


def email_key(subscription_lago_id: str, ends_at: datetime) -> str:
    """The email key: one reminder per subscription and trial end."""
    return f"{KIND}:{subscription_lago_id}:{ends_at.isoformat()}"


def reminder_days() -> int:
    """How many days before the end of a trial the reminder goes out."""
    connection = get_connection()
    return connection.trial_reminder_days if connection is not None else DEFAULT_REMINDER_DAYS


def due(now: datetime | None = None) -> list[int]:
    """Mirrored subscriptions whose trial ends within the reminder window."""
    now = now or utcnow()
    horizon = now + timedelta(days=reminder_days())
    return list(
        db.session.scalars(
            sa.select(SubscriptionMirror.id)
            .where(
                SubscriptionMirror.status == "active",
                SubscriptionMirror.trial_ended_at.is_(None),
                SubscriptionMirror.trial_ends_at > now,
                SubscriptionMirror.trial_ends_at <= horizon,
            )
            .order_by(SubscriptionMirror.trial_ends_at)
        )
    )


def recheck(subscription_id: int) -> tuple[SubscriptionMirror | None, Subscription | None]:
    """The subscription if it is still Lago's active one, and Lago's copy when Lago answered.

    Lago's answer is written to the mirror. When Lago cannot be asked, the mirror decides.
    """
    row = db.session.get(SubscriptionMirror, subscription_id)
    if row is None:
        return None, None
    asked_at = utcnow()
    try:
        fresh = lago_client().get_subscription(row.external_id, status="active")
    except LagoNotFound:
        return None, None
    except (LagoError, NotConnected):
        return row, None
    if fresh.lago_id != row.lago_id:
        return None, fresh
    tenant = db.session.get(Tenant, row.tenant_id)
    return mirror.upsert_subscription(tenant, fresh, asked_at).row, fresh


def reminder_for(
    row: SubscriptionMirror, lago: Subscription | None = None, now: datetime | None = None
) -> Reminder | None:
    """The reminder to send now, or None when the state says no reminder is due."""
    now = now or utcnow()
    if not trial_running(row, now) or row.trial_ends_at > now + timedelta(days=reminder_days()):
        return None
    tenant = db.session.get(Tenant, row.tenant_id)
    if tenant is None or _already_paid(row, tenant):
        return None
    plan = db.session.scalar(sa.select(Plan).where(Plan.code == row.plan_code))
    lago_plan = lago.plan if lago is not None else None
    described = plan or lago_plan
    if lago is not None and lago.plan_amount_cents is not None:
        price, currency = lago.plan_amount_cents, lago.plan_amount_currency
    elif plan is not None:
        price, currency = plan.amount_cents, plan.currency
    else:
        price, currency = None, tenant.currency
    if plan is not None:
        name = plan.title
    else:
        name = lago_plan.name if lago_plan is not None else row.plan_code
    return Reminder(
        subscription=row,
        tenant=tenant,
        plan_name=name,
        amount_cents=price,
        currency=currency,
        interval=described.interval if described is not None else None,
        pay_in_advance=bool(described is not None and described.pay_in_advance),
        ends_at=row.trial_ends_at,
    )


def _already_paid(row: SubscriptionMirror, tenant: Tenant) -> bool:
    """True when the tenant paid a subscription invoice since this subscription started.

    Lago's issuing dates are days in the customer's zone, so the start is too.
    """
    started = row.started_at or row.subscription_at
    query = sa.select(InvoiceMirror.id).where(
        InvoiceMirror.tenant_id == row.tenant_id,
        InvoiceMirror.invoice_type == "subscription",
        InvoiceMirror.payment_status == "succeeded",
        InvoiceMirror.total_amount_cents > 0,
    )
    if started is not None:
        zone = ZoneInfo(billing_timezone(tenant.timezone) or "UTC")
        first_day = mirror.as_midnight(started.astimezone(zone).date())
        query = query.where(InvoiceMirror.issuing_date >= first_day)
    return db.session.scalar(query.limit(1)) is not None


def charge_sentence(reminder: Reminder) -> str:
    """When the trial ends, what it costs from then on, and when the charges come."""
    when = moment(reminder.ends_at, reminder.tenant.timezone)
    timing = "start" if reminder.pay_in_advance else "end"
    sentence = (
        f"On {when} your trial of {reminder.plan_name} ends. From then on it costs "
        f"{reminder.price}, charged at the {timing} of each billing period."
    )
    if reminder.subscription.billing_time == "calendar":
        sentence += " The first period ends with the calendar period, so its charge is prorated."
    return sentence


def remind(reminder: Reminder) -> bool:
    """Open the trial notice and queue the email after commit; True when the notice is new."""
    row = reminder.subscription
    opened = notices.raise_notice(
        notice_key(row.lago_id),
        tenant_id=row.tenant_id,
        kind=KIND,
        level="info",
        title=(
            f"Your trial of {reminder.plan_name} ends on "
            f"{local_day(reminder.ends_at, reminder.tenant.timezone)}"
        ),
        body=(
            f"{charge_sentence(reminder)} Nothing to do if you want to keep it; to stop "
            f"before then, cancel it on your billing page: {link('subscription.cancel')}"
        ),
    )
    queue_email(KIND, row.lago_id, reminder.ends_at.isoformat())
    return opened


def resolve_finished(now: datetime | None = None) -> int:
    """Close trial notices whose trial is over or whose subscription ended; returns how many."""
    now = now or utcnow()
    closed = 0
    query = sa.select(Notice).where(Notice.kind == KIND, Notice.resolved_at.is_(None))
    for notice in list(db.session.scalars(query)):
        lago_id = notice.key.split(":", 1)[1]
        row = db.session.scalar(
            sa.select(SubscriptionMirror).where(SubscriptionMirror.lago_id == lago_id)
        )
        if not trial_running(row, now):
            closed += notices.resolve(notice.key, now=now)
    return closed


def trial_running(row: SubscriptionMirror | None, now: datetime | None = None) -> bool:
    """True while the subscription is active and in its free trial."""
    now = now or utcnow()
    return (
        row is not None
        and row.status == "active"
        and row.trial_ended_at is None
        and row.trial_ends_at is not None
        and row.trial_ends_at > now
    )
