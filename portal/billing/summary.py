"""What a tenant's billing home shows, read from the mirror alone (no Lago call).

The status is said in words, most pressing first: a suspension, then overdue or failed
payments, then what is scheduled (a cancellation, a downgrade), then a running trial. A
downgrade is scheduled only while a *pending* next subscription exists; Lago's `next_plan_code`
alone also names the plan of an upgrade that already happened, so it is not read here.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from portal.billing import coupons
from portal.extensions import db
from portal.models import (
    AppliedCouponMirror,
    BillingAccount,
    DunningState,
    Plan,
    SubscriptionMirror,
    Tenant,
    utcnow,
)

INTERVAL_WORDS = {
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "semiannual": "half-year",
    "yearly": "year",
}


class Status(enum.StrEnum):
    """A tenant's subscription status, as the customer reads it."""

    none = "none"
    trialing = "trialing"
    active = "active"
    downgrade_scheduled = "downgrade_scheduled"
    cancels = "cancels"
    payment_failed = "payment_failed"
    overdue = "overdue"
    suspended = "suspended"
    ended = "ended"

    @property
    def tone(self) -> str:
        """ok, info or warn: how the badge looks."""
        if self in (Status.payment_failed, Status.overdue, Status.suspended):
            return "warn"
        if self in (Status.active, Status.trialing):
            return "ok"
        return "info"


@dataclass(frozen=True)
class Price:
    """A plan's base price per interval."""

    amount_cents: int
    currency: str
    interval: str
    has_usage: bool

    @property
    def per(self) -> str:
        return INTERVAL_WORDS.get(self.interval, self.interval)


@dataclass(frozen=True)
class TimelineEntry:
    """Something scheduled: when, what, and the undo Lago allows (if any)."""

    kind: str  # trial_end | downgrade | cancellation | renewal
    at: datetime
    title: str
    undo: str | None = None


@dataclass(frozen=True)
class NextBill:
    """The next invoice Pier expects: when, the base amount, and whether usage comes on top."""

    at: datetime
    amount_cents: int | None
    currency: str | None
    plus_usage: bool
    note: str | None = None


@dataclass(frozen=True)
class BillingSummary:
    """Everything the billing home shows."""

    status: Status
    subscription: SubscriptionMirror | None
    plan: Plan | None
    price: Price | None
    pending: SubscriptionMirror | None
    pending_plan: Plan | None
    next_bill: NextBill | None
    trial_days_left: int | None
    account: BillingAccount | None
    zone: str
    as_of: datetime | None
    timeline: list[TimelineEntry] = field(default_factory=list)
    coupons: list[AppliedCouponMirror] = field(default_factory=list)

    @property
    def plan_title(self) -> str | None:
        if self.plan is not None:
            return self.plan.title
        return self.subscription.plan_code if self.subscription else None

    @property
    def pending_title(self) -> str | None:
        if self.pending_plan is not None:
            return self.pending_plan.title
        return self.pending.plan_code if self.pending else None

    @property
    def ends_at(self) -> datetime | None:
        return self.subscription.ending_at if self.subscription else None


def display_zone(tenant: Tenant, account: BillingAccount | None) -> str:
    """The customer's zone: Lago's applicable time zone, else the tenant's, else UTC."""
    if account is not None and account.applicable_timezone:
        return account.applicable_timezone
    return tenant.timezone or "UTC"


def _plans(codes: set[str]) -> dict[str, Plan]:
    if not codes:
        return {}
    return {p.code: p for p in db.session.scalars(sa.select(Plan).where(Plan.code.in_(codes)))}


def _price(plan: Plan | None) -> Price | None:
    if plan is None:
        return None
    return Price(plan.amount_cents, plan.currency, plan.interval, bool(plan.charges))


def _live_rows(tenant_id: int) -> list[SubscriptionMirror]:
    """The tenant's active and pending subscription rows, oldest first."""
    return list(
        db.session.scalars(
            sa.select(SubscriptionMirror)
            .where(
                SubscriptionMirror.tenant_id == tenant_id,
                SubscriptionMirror.status.in_(("active", "pending")),
            )
            .order_by(SubscriptionMirror.id)
        )
    )


def _current_of(rows: list[SubscriptionMirror]) -> SubscriptionMirror | None:
    active = [row for row in rows if row.status == "active"]
    if active:
        return max(active, key=lambda row: row.started_at or row.created_at)
    # A pending row on its own is a subscription starting later (not a downgrade).
    return rows[0] if rows else None


def _pending_of(
    current: SubscriptionMirror | None, rows: list[SubscriptionMirror]
) -> SubscriptionMirror | None:
    if current is None or current.status != "active":
        return None
    found = [
        row
        for row in rows
        if row.status == "pending"
        and row.external_id == current.external_id
        and row.lago_id != current.lago_id
    ]
    return found[-1] if found else None


def current_subscription(tenant_id: int) -> SubscriptionMirror | None:
    """The tenant's live subscription: active first, else one that has not started yet."""
    return _current_of(_live_rows(tenant_id))


def pending_downgrade(current: SubscriptionMirror | None) -> SubscriptionMirror | None:
    """The pending next subscription of an active one: a scheduled downgrade."""
    if current is None or current.status != "active":
        return None
    return _pending_of(current, _live_rows(current.tenant_id))


def _had_subscription(tenant_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(SubscriptionMirror.id)
            .where(SubscriptionMirror.tenant_id == tenant_id)
            .limit(1)
        )
        is not None
    )


def trial_days_left(subscription: SubscriptionMirror | None, now: datetime) -> int | None:
    """Whole days left in a running trial (a part day counts as a day), else None."""
    if subscription is None or subscription.trial_ended_at is not None:
        return None
    ends = subscription.trial_ends_at
    if ends is None or ends <= now:
        return None
    return math.ceil((ends - now) / timedelta(days=1))


def _status(
    subscription: SubscriptionMirror | None,
    pending: SubscriptionMirror | None,
    account: BillingAccount | None,
    trial_left: int | None,
    had_any: bool,
) -> Status:
    dunning = account.dunning_state if account is not None else DunningState.ok
    if dunning is DunningState.suspended:
        return Status.suspended
    if subscription is None:
        return Status.ended if had_any else Status.none
    if dunning is DunningState.overdue:
        return Status.overdue
    if dunning is DunningState.payment_failed:
        return Status.payment_failed
    if subscription.ending_at is not None:
        return Status.cancels
    if pending is not None:
        return Status.downgrade_scheduled
    if trial_left is not None:
        return Status.trialing
    return Status.active


def _next_bill(
    subscription: SubscriptionMirror | None,
    plan: Plan | None,
    pending: SubscriptionMirror | None,
    pending_plan: Plan | None,
) -> NextBill | None:
    """The next invoice: at the end of the current period (or trial), for the plan then due.

    A plan paid in advance bills the coming period's base fee at the period's start; one paid
    in arrears bills the ending period's base fee at its end. Usage comes on top either way.
    """
    if subscription is None or subscription.status != "active":
        return None
    at = subscription.current_period_ending_at
    if at is None:
        return None
    ends = subscription.ending_at
    next_plan = pending_plan if pending is not None else plan
    if plan is None:
        return NextBill(at, None, None, True)
    if ends is not None and ends <= at:
        if plan.pay_in_advance:
            amount = 0 if not plan.charges else None
            return NextBill(ends, amount, plan.currency, bool(plan.charges), "final invoice")
        return NextBill(ends, plan.amount_cents, plan.currency, bool(plan.charges), "final invoice")
    billed = next_plan if (plan.pay_in_advance and next_plan is not None) else plan
    return NextBill(at, billed.amount_cents, billed.currency, bool(plan.charges))


def _timeline(
    subscription: SubscriptionMirror | None,
    pending: SubscriptionMirror | None,
    pending_title: str | None,
    trial_left: int | None,
    next_bill: NextBill | None,
) -> list[TimelineEntry]:
    if subscription is None:
        return []
    entries: list[TimelineEntry] = []
    if trial_left is not None and subscription.trial_ends_at is not None:
        entries.append(TimelineEntry("trial_end", subscription.trial_ends_at, "Free trial ends"))
    if pending is not None:
        # The pending row keeps the current subscription_at; Lago dates the switch itself.
        at = subscription.pending_plan_starts_at or subscription.current_period_ending_at
        if at is not None:
            entries.append(
                TimelineEntry(
                    "downgrade", at, f"Switches to {pending_title}", undo="undo_downgrade"
                )
            )
    if subscription.ending_at is not None:
        entries.append(
            TimelineEntry(
                "cancellation", subscription.ending_at, "Subscription ends", undo="reactivate"
            )
        )
    elif next_bill is not None and pending is None:
        entries.append(TimelineEntry("renewal", next_bill.at, "Renews"))
    return sorted(entries, key=lambda entry: entry.at)


def summarize(tenant: Tenant, now: datetime | None = None) -> BillingSummary:
    """The billing home of a tenant, from the mirror."""
    now = now or utcnow()
    account = db.session.scalar(
        sa.select(BillingAccount).where(BillingAccount.tenant_id == tenant.id)
    )
    rows = _live_rows(tenant.id)  # one query for the subscription and its pending downgrade
    subscription = _current_of(rows)
    pending = _pending_of(subscription, rows)
    plans = _plans({row.plan_code for row in (subscription, pending) if row is not None})
    plan = plans.get(subscription.plan_code) if subscription else None
    pending_plan = plans.get(pending.plan_code) if pending else None
    trial_left = trial_days_left(subscription, now)
    had_any = subscription is not None or _had_subscription(tenant.id)
    status = _status(subscription, pending, account, trial_left, had_any)
    next_bill = _next_bill(subscription, plan, pending, pending_plan)
    pending_title = (pending_plan.title if pending_plan else pending.plan_code) if pending else None
    as_of_candidates = [
        moment
        for moment in (
            subscription.updated_at if subscription else None,
            account.reconciled_at if account else None,
        )
        if moment is not None
    ]
    return BillingSummary(
        status=status,
        subscription=subscription,
        plan=plan,
        price=_price(plan),
        pending=pending,
        pending_plan=pending_plan,
        next_bill=next_bill,
        trial_days_left=trial_left,
        account=account,
        zone=display_zone(tenant, account),
        as_of=max(as_of_candidates) if as_of_candidates else None,
        timeline=_timeline(subscription, pending, pending_title, trial_left, next_bill),
        coupons=coupons.shown(tenant),
    )
