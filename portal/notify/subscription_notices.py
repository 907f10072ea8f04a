"""Notices a subscription's mirrored state implies: ending, awaiting payment, usage thresholds."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from portal.billing import trials
from portal.extensions import db
from portal.models import Plan, SubscriptionMirror, Tenant
from portal.notify import notices
from portal.notify.formatting import amount, fix_link, link, local_day, moment

ENDING = "subscription_ending"
INCOMPLETE = "subscription_incomplete"
THRESHOLD = "usage_threshold"


def ending_key(subscription_lago_id: str) -> str:
    """The notice of a subscription scheduled to end."""
    return f"{ENDING}:{subscription_lago_id}"


def incomplete_key(subscription_lago_id: str) -> str:
    """The notice of a subscription waiting for its first payment."""
    return f"{INCOMPLETE}:{subscription_lago_id}"


def threshold_prefix(subscription_lago_id: str, period: str = "") -> str:
    """The notices of usage thresholds reached by a subscription (in one period, if given)."""
    return f"{THRESHOLD}:{subscription_lago_id}:{period}"


def plan_title(code: str) -> str:
    """The plan's name as Pier shows it, or its code."""
    plan = db.session.scalar(sa.select(Plan).where(Plan.code == code))
    return plan.title if plan is not None else code


def _period(row: SubscriptionMirror) -> str:
    started = row.current_period_started_at
    return started.date().isoformat() if started is not None else "current"


def sync(tenant: Tenant, row: SubscriptionMirror) -> None:
    """Open the notices the subscription's state implies and resolve the others."""
    active = row.status == "active"
    plan = plan_title(row.plan_code)
    if active and row.ending_at is not None:
        notices.raise_notice(
            ending_key(row.lago_id),
            tenant_id=tenant.id,
            kind=ENDING,
            level="warning",
            title=f"Your {plan} subscription ends on {local_day(row.ending_at, tenant.timezone)}",
            body=(
                f"The subscription stops on {moment(row.ending_at, tenant.timezone)}. To keep "
                f"it, reactivate it on your billing page before then: {link('home.index')}"
            ),
        )
    else:
        notices.resolve(ending_key(row.lago_id))
    if row.status == "incomplete":
        notices.raise_notice(
            incomplete_key(row.lago_id),
            tenant_id=tenant.id,
            kind=INCOMPLETE,
            level="warning",
            title=f"Your {plan} subscription waits for its first payment",
            body=(
                "It starts as soon as the first payment goes through. If your bank asks you to "
                f"confirm the payment, or the card is refused, fix it here: {fix_link()}"
            ),
        )
    else:
        notices.resolve(incomplete_key(row.lago_id))
    if not trials.trial_running(row):
        notices.resolve(trials.notice_key(row.lago_id))
    current = threshold_prefix(row.lago_id, _period(row) + ":") if active else None
    for notice in notices.open_with_prefix(threshold_prefix(row.lago_id), tenant_id=tenant.id):
        if current is None or not notice.key.startswith(current):
            notices.resolve(notice.key)


def threshold_reached(tenant: Tenant, row: SubscriptionMirror, threshold: dict[str, Any]) -> None:
    """Tell the tenant its usage passed one of the plan's thresholds in this billing period."""
    if row.status != "active":
        return
    cents = threshold.get("amount_cents")
    currency = threshold.get("amount_currency") or tenant.currency
    label = threshold.get("threshold_display_name") or (
        amount(cents, currency) if isinstance(cents, int) else "a usage threshold"
    )
    key = threshold_prefix(row.lago_id, _period(row) + ":") + str(threshold.get("lago_id") or label)
    notices.raise_notice(
        key,
        tenant_id=tenant.id,
        kind=THRESHOLD,
        level="info",
        title=f"Your usage passed {label} this billing period",
        body=(
            f"Usage on your {plan_title(row.plan_code)} subscription reached {label} since "
            f"{local_day(row.current_period_started_at, tenant.timezone)}. The plan bills usage "
            "progressively, so an invoice for the usage so far follows."
        ),
    )
