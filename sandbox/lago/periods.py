"""Billing periods as lago-api's Subscriptions::DatesService computes them (days, no hours).

Periods are computed in the customer's applicable time zone: a calendar monthly plan runs from
the 1st at 00:00 to the last day at 23:59:59 local time, an anniversary plan from the day of
`subscription_at`. Ends are exclusive here (`end` is the next period's start); lago-api shows
`end - 1 second`.
"""

from __future__ import annotations

import calendar
import math
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6, "yearly": 12}
# Plan#yearly_amount_cents: the base fee normalised per year (upgrade vs downgrade).
YEARLY_FACTOR = {"weekly": 52, "monthly": 12, "quarterly": 4, "semiannual": 2, "yearly": 1}


@dataclass(frozen=True)
class Period:
    """One billing period: [start, end) as aware UTC datetimes."""

    start: datetime
    end: datetime

    @property
    def last_second(self) -> datetime:
        """What lago-api shows as the period's end (`to_datetime`)."""
        return self.end - timedelta(seconds=1)


def zone(name: str | None) -> zoneinfo.ZoneInfo:
    """The ZoneInfo for a Lago time zone name (UTC when unknown or empty)."""
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_date(moment: datetime, tz: zoneinfo.ZoneInfo) -> date:
    """The calendar date of `moment` in `tz`."""
    return moment.astimezone(tz).date()


def _midnight(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _add_months(day: date, months: int, anchor_day: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def _period_start_date(interval: str, billing_time: str, anchor: date, day: date) -> date:
    """The first day of the period containing `day`."""
    if interval == "weekly":
        weekday = anchor.weekday() if billing_time == "anniversary" else 0
        return day - timedelta(days=(day.weekday() - weekday) % 7)
    months = MONTHS[interval]
    if billing_time != "anniversary":
        return date(day.year, ((day.month - 1) // months) * months + 1, 1)
    # Anniversary: step from the anchor by whole periods (day clamped to the month's length).
    elapsed = (day.year - anchor.year) * 12 + day.month - anchor.month
    steps = elapsed // months
    start = _add_months(anchor, steps * months, anchor.day)
    while start > day:
        steps -= 1
        start = _add_months(anchor, steps * months, anchor.day)
    return start


def _next_start_date(interval: str, billing_time: str, anchor: date, start: date) -> date:
    if interval == "weekly":
        return start + timedelta(days=7)
    months = MONTHS[interval]
    day = anchor.day if billing_time == "anniversary" else 1
    return _add_months(start, months, day)


def period_at(
    moment: datetime, *, interval: str, billing_time: str, anchor: datetime, tz_name: str | None
) -> Period:
    """The billing period containing `moment` (anchor: the subscription's `subscription_at`)."""
    tz = zone(tz_name)
    anchor_day = local_date(anchor, tz)
    start_day = _period_start_date(interval, billing_time, anchor_day, local_date(moment, tz))
    end_day = _next_start_date(interval, billing_time, anchor_day, start_day)
    return Period(_midnight(start_day, tz), _midnight(end_day, tz))


def days_between(start: datetime, end: datetime, tz_name: str | None) -> int:
    """Whole local days touched by [start, end) (lago-api prorates by days)."""
    tz = zone(tz_name)
    last = end - timedelta(seconds=1)
    if last < start:
        return 0
    return (local_date(last, tz) - local_date(start, tz)).days + 1


def date_diff(start: datetime, end: datetime, tz_name: str | None) -> int:
    """Utils::Datetime.date_diff_with_timezone: the days from `start` to `end`, rounded up, on
    local wall clocks (an `end` at local midnight counts the day it opens)."""
    tz = zone(tz_name)
    if end.astimezone(tz).time() == time(0):
        end += timedelta(seconds=1)
    wall = end.astimezone(tz).replace(tzinfo=None) - start.astimezone(tz).replace(tzinfo=None)
    return math.ceil(wall / timedelta(days=1))


def prorate(amount_cents: int, part_days: int, period_days: int) -> int:
    """amount * part / whole, rounded half up to a cent."""
    if period_days <= 0 or part_days <= 0:
        return 0
    if part_days >= period_days:
        return amount_cents
    value = Decimal(amount_cents) * Decimal(part_days) / Decimal(period_days)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def yearly_amount_cents(plan: dict) -> int:
    """Plan#yearly_amount_cents."""
    return int(plan["amount_cents"]) * YEARLY_FACTOR[plan["interval"]]


def start_of_local_day(moment: datetime, tz_name: str | None) -> datetime:
    """Local midnight of the day containing `moment`, in UTC."""
    tz = zone(tz_name)
    return _midnight(local_date(moment, tz), tz)
