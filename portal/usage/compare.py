"""This period against the last one at the same day: "day 12 of 30: $41 now, $35 at day 12
last period".

Lago keeps no usage per day of a past period (`past_usage` gives each period's total), so Pier
records the usage amount it reads, once per subscription, period and day (the latest reading of
the day wins): on the usage page, in the alerts job and in an hourly job for every tenant with
an active subscription. Days are counted in the customer's zone from the period's first day.
When the last period was shorter than this one, its last day stands in for the days it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.billing.summary import display_zone
from portal.extensions import db
from portal.models import BillingAccount, Tenant, UsageDay
from portal.usage.current import CurrentUsage, SubscriptionUsage


def _local(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def day_of(period_start: datetime, at: datetime, zone: str) -> int:
    """Which day of the period `at` falls on (the first day is 1)."""
    return (_local(at, zone) - _local(period_start, zone)).days + 1


def days_in(period_start: datetime, period_end: datetime, zone: str) -> int:
    """How many days the period has (its end is its last second)."""
    return day_of(period_start, period_end, zone)


@dataclass(frozen=True)
class Comparison:
    """Where this period stands and where the last one stood at the same day."""

    day: int
    days: int
    amount_cents: int
    last_day: int  # the day of the last period compared with (its last when it was shorter)
    last_days: int | None
    last_amount_cents: int | None  # None: Pier did not read usage on that day
    currency: str

    @property
    def last_was_shorter(self) -> bool:
        return self.last_day < self.day


def record(tenant: Tenant, sub: SubscriptionUsage, at: datetime, zone: str) -> None:
    """Keep the amount read at `at` as the subscription's figure for that day of its period.
    The caller commits."""
    if not sub.started or sub.from_datetime is None:
        return
    key = {
        "tenant_id": tenant.id,
        "external_subscription_id": sub.external_id,
        "period_start": sub.from_datetime,
        "day": day_of(sub.from_datetime, at, zone),
    }
    values = {
        "amount_cents": sub.amount_cents,
        "currency": sub.currency or "USD",
        "period_end": sub.to_datetime,
        "read_at": at,
    }
    row = db.session.scalar(sa.select(UsageDay).filter_by(**key))
    if row is not None:
        if row.read_at <= at:
            for name, value in values.items():
                setattr(row, name, value)
        return
    try:
        with db.session.begin_nested():
            db.session.add(UsageDay(**key, **values))
    except IntegrityError:
        pass  # another reader recorded this day at the same moment; theirs stands


def zone_of(tenant: Tenant) -> str:
    """The zone Lago counts the tenant's periods in (as the pages show dates)."""
    account = db.session.scalar(sa.select(BillingAccount).filter_by(tenant_id=tenant.id))
    return display_zone(tenant, account)


def record_all(tenant: Tenant, usage: CurrentUsage, zone: str) -> None:
    """Record every subscription of one reading."""
    for sub in usage.subscriptions:
        record(tenant, sub, usage.as_of, zone)


def compare(tenant: Tenant, sub: SubscriptionUsage, at: datetime, zone: str) -> Comparison | None:
    """This period at `at` against the last period Pier recorded at the same day (its last
    day when it was shorter; `last_amount_cents` None when Pier did not read usage that day),
    or None when Pier recorded no earlier period."""
    if not sub.started or sub.from_datetime is None or sub.to_datetime is None:
        return None
    mine = (
        UsageDay.tenant_id == tenant.id,
        UsageDay.external_subscription_id == sub.external_id,
    )
    last_start = db.session.scalar(
        sa.select(sa.func.max(UsageDay.period_start)).where(
            *mine, UsageDay.period_start < sub.from_datetime
        )
    )
    if last_start is None:
        return None
    last = (*mine, UsageDay.period_start == last_start)
    last_end = db.session.scalar(sa.select(sa.func.max(UsageDay.period_end)).where(*last))
    last_days = days_in(last_start, last_end, zone) if last_end else None
    day = day_of(sub.from_datetime, at, zone)
    wanted = min(day, last_days) if last_days else day
    # Only that day's reading: a figure from another day would mislead.
    found = db.session.scalar(sa.select(UsageDay).where(*last, UsageDay.day == wanted))
    return Comparison(
        day=day,
        days=days_in(sub.from_datetime, sub.to_datetime, zone),
        amount_cents=sub.amount_cents,
        last_day=wanted,
        last_days=last_days,
        last_amount_cents=found.amount_cents if found else None,
        currency=found.currency if found else sub.currency,
    )
