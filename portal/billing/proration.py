"""Pier's own estimate of a plan change, following Lago's rules; pure functions, no I/O.

Used when this Lago does not preview invoices. The rules, as lago-api applies them:

* A change is an upgrade when the new plan's base price per year is at least the current one's
  (weekly ×52, monthly ×12, quarterly ×4, semiannual ×2, yearly ×1); usage charges do not count.
* An upgrade applies now. A plan paid in advance (and out of its trial) is charged for the days
  from today to the end of its period; the current plan, if paid in advance, is credited for
  its unused days from today on; if paid in arrears, its days used so far are charged now.
* A downgrade applies when the current period ends; nothing is charged now.
* Fees are prorated by whole days: the day price is the base amount over the number of days of
  the whole period; days are counted in the customer's time zone.
* The trial counts from the first start of the subscription id and uses the new plan's length.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

YEARLY_FACTOR = {"weekly": 52, "monthly": 12, "quarterly": 4, "semiannual": 2, "yearly": 1}
MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6, "yearly": 12}
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Terms:
    """What the estimate needs to know about a plan."""

    code: str
    title: str
    interval: str
    amount_cents: int
    currency: str
    pay_in_advance: bool
    trial_days: float = 0
    has_usage: bool = False

    @property
    def yearly_cents(self) -> int:
        """The base price per year (Lago's `yearly_amount_cents`)."""
        return self.amount_cents * YEARLY_FACTOR[self.interval]


@dataclass(frozen=True)
class Running:
    """The subscription being changed."""

    terms: Terms
    billing_time: str  # calendar | anniversary
    subscription_at: datetime  # anchors anniversary periods
    first_started_at: datetime  # the first start of this subscription id (the trial counts from it)
    zone: str


@dataclass(frozen=True)
class Line:
    """One line of the estimate: a charge (positive) or a credit (negative)."""

    label: str
    amount_cents: int
    days: int | None = None
    of_days: int | None = None


@dataclass(frozen=True)
class Estimate:
    """What a change does: when, what is due now, and the invoice after it."""

    kind: str  # upgrade | downgrade | start
    currency: str
    applies_on: date  # in the customer's zone
    lines: tuple[Line, ...]
    due_now_cents: int
    carried_credit_cents: int
    next_invoice_on: date
    next_invoice_cents: int
    plus_usage_now: bool
    plus_usage_next: bool
    trial_until: date | None
    current_yearly_cents: int | None
    new_yearly_cents: int


def is_upgrade(current: Terms, new: Terms) -> bool:
    """Lago's rule: the yearly base price stays or rises."""
    return new.yearly_cents >= current.yearly_cents


# -- Periods (lago-api's Subscriptions::DatesService, in local days) -----------------------------


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(zone_of(zone)).date()


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _months_after(day: date, months: int, anchor_day: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return _clamped(index // 12, index % 12 + 1, anchor_day)


def period_containing(
    day: date, interval: str, billing_time: str, anchor: date
) -> tuple[date, date]:
    """The billing period holding `day`, as first and last local day."""
    if interval == "weekly":
        weekday = anchor.weekday() if billing_time == "anniversary" else 0
        start = day - timedelta(days=(day.weekday() - weekday) % 7)
        return start, start + timedelta(days=6)
    months = MONTHS[interval]
    if billing_time != "anniversary":
        start = date(day.year, (day.month - 1) // months * months + 1, 1)
        return start, _months_after(start, months, 1) - ONE_DAY
    steps = ((day.year - anchor.year) * 12 + day.month - anchor.month) // months
    start = _months_after(anchor, steps * months, anchor.day)
    while start > day:
        steps -= 1
        start = _months_after(anchor, steps * months, anchor.day)
    following = _months_after(anchor, (steps + 1) * months, anchor.day)
    return start, following - ONE_DAY


def _lago_day(day: date, zone: str) -> date:
    """The UTC date of the end of a local day: how lago-api dates a credit note's days."""
    end = datetime.combine(day, time(23, 59, 59), tzinfo=zone_of(zone))
    return end.astimezone(UTC).date()


def _part(amount_cents: int, days: int, period_days: int) -> int:
    """amount × days / period days, rounded half up to a cent."""
    if days <= 0 or period_days <= 0:
        return 0
    value = Decimal(amount_cents) * days / period_days
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _days(first: date, last: date) -> int:
    return max((last - first).days + 1, 0)


def trial_end(terms: Terms, first_started_at: datetime) -> datetime | None:
    """When the plan's trial ends for a subscription id first started at `first_started_at`."""
    if terms.trial_days <= 0:
        return None
    return first_started_at + timedelta(days=terms.trial_days)


def _billable_from(day: date, trial_ends: datetime | None, zone: str) -> date:
    """The first billed local day from `day` on, after any trial."""
    if trial_ends is None:
        return day
    return max(day, local_day(trial_ends, zone))


def _fee(terms: Terms, first: date, last: date, period: tuple[date, date], trial_ends, zone) -> int:
    """The base fee for the local days [first, last] of `period`, trial days excluded."""
    first = _billable_from(first, trial_ends, zone)
    return _part(terms.amount_cents, _days(first, last), _days(*period))


# -- Estimates ----------------------------------------------------------------------------------


def estimate_change(running: Running, new: Terms, now: datetime) -> Estimate:
    """What moving `running` to `new` at `now` costs, by Lago's rules."""
    if is_upgrade(running.terms, new):
        return _upgrade(running, new, now)
    return _downgrade(running, new, now)


def _anchor(running: Running) -> date:
    return local_day(running.subscription_at, running.zone)


def _upgrade(running: Running, new: Terms, now: datetime) -> Estimate:
    zone, old = running.zone, running.terms
    today = local_day(now, zone)
    anchor = _anchor(running)
    old_period = period_containing(today, old.interval, running.billing_time, anchor)
    new_period = period_containing(today, new.interval, running.billing_time, anchor)
    started = local_day(running.first_started_at, zone)
    old_trial = trial_end(old, running.first_started_at)
    new_trial = trial_end(new, running.first_started_at)
    new_in_trial = new_trial is not None and new_trial > now
    lines: list[Line] = []
    charged = 0

    if old.pay_in_advance:
        credit, days = _unused_credit(running, old_period, old_trial, now)
        if credit:
            lines.append(Line(f"Unused time on {old.title}", -credit, days, _days(*old_period)))
    else:
        days = _days_used(max(old_period[0], started), old_trial, now, zone)
        amount = _part(old.amount_cents, days, _days(*old_period))
        if amount:
            lines.append(Line(f"{old.title}, days used", amount, days, _days(*old_period)))
            charged += amount

    trial_until = local_day(new_trial, zone) if new_in_trial and new_trial else None
    new_first = max(today, started)
    new_days = _days(
        _billable_from(new_first, new_trial if new_in_trial else None, zone), new_period[1]
    )
    new_amount = _fee(
        new, new_first, new_period[1], new_period, new_trial if new_in_trial else None, zone
    )
    if new.pay_in_advance and not new_in_trial and new_amount:
        lines.append(
            Line(f"{new.title}, rest of the period", new_amount, new_days, _days(*new_period))
        )
        charged += new_amount

    credit_total = -sum(line.amount_cents for line in lines if line.amount_cents < 0)
    used_credit = min(credit_total, charged)
    carried = credit_total - used_credit

    next_on = new_period[1] + ONE_DAY
    if new.pay_in_advance:
        following = period_containing(next_on, new.interval, running.billing_time, anchor)
        trial = new_trial if new_in_trial else None
        next_amount = _fee(new, following[0], following[1], following, trial, zone)
        if new_in_trial and trial_until is not None and trial_until <= new_period[1]:
            # A trial ending inside this period bills the rest of it on the day it ends.
            next_on = trial_until
            next_amount = _fee(new, trial_until, new_period[1], new_period, None, zone)
    else:
        next_amount = _fee(
            new, new_first, new_period[1], new_period, new_trial if new_in_trial else None, zone
        )
    next_credit = min(carried, next_amount)
    return Estimate(
        kind="upgrade",
        currency=new.currency,
        applies_on=today,
        lines=tuple(lines),
        due_now_cents=charged - used_credit,
        carried_credit_cents=carried,
        next_invoice_on=next_on,
        next_invoice_cents=next_amount - next_credit,
        plus_usage_now=old.has_usage,
        plus_usage_next=new.has_usage,
        trial_until=trial_until,
        current_yearly_cents=old.yearly_cents,
        new_yearly_cents=new.yearly_cents,
    )


def _days_used(first_day: date, trial_ends: datetime | None, now: datetime, zone: str) -> int:
    """The days an upgraded plan paid in arrears is billed for: lago-api counts from the local
    start of `first_day` (or from the trial's end, to the second) to now, rounded up on the
    local wall clock, less the day of the upgrade."""
    start = datetime.combine(first_day, time(0), tzinfo=zone_of(zone))
    if trial_ends is not None and trial_ends >= now:
        return 0
    if trial_ends is not None and trial_ends > start:
        start = trial_ends
    return max(_wall_days(start, now, zone) - 1, 0)


def _wall_days(start: datetime, end: datetime, zone: str) -> int:
    """Days from `start` to `end` on the local wall clock, rounded up; an `end` at local
    midnight counts the day it opens (lago-api's date_diff_with_timezone)."""
    tz = zone_of(zone)
    if end.astimezone(tz).time() == time(0):
        end += timedelta(seconds=1)
    wall = end.astimezone(tz).replace(tzinfo=None) - start.astimezone(tz).replace(tzinfo=None)
    return -(-wall // ONE_DAY)


def _unused_credit(running: Running, period: tuple[date, date], trial_ends, now: datetime):
    """Lago's credit note on an upgrade: the day price times the days left from today on.

    Nothing is credited while the trial runs (no fee was paid for the period). lago-api counts
    these days on the UTC dates of the local days' ends, which this follows.
    """
    if trial_ends is not None and trial_ends > now:
        return 0, 0
    zone, old = running.zone, running.terms
    last = _lago_day(period[1], zone)
    billed_from = _lago_day(local_day(now, zone), zone) - ONE_DAY
    if trial_ends is not None:
        trial_day = trial_ends.astimezone(UTC).date()
        if trial_day >= billed_from:
            billed_from = last if trial_day > last else trial_day - ONE_DAY
    remaining = max((last - billed_from).days, 0)
    paid_from = max(period[0], local_day(running.first_started_at, zone))
    paid = _fee(old, paid_from, period[1], period, trial_ends, zone)
    return min(_part(old.amount_cents, remaining, _days(*period)), paid), remaining


def _downgrade(running: Running, new: Terms, now: datetime) -> Estimate:
    zone, old = running.zone, running.terms
    today = local_day(now, zone)
    anchor = _anchor(running)
    old_period = period_containing(today, old.interval, running.billing_time, anchor)
    switch = old_period[1] + ONE_DAY
    new_period = period_containing(switch, new.interval, running.billing_time, anchor)
    trial = trial_end(new, running.first_started_at)
    next_amount = 0
    if not old.pay_in_advance:
        old_trial = trial_end(old, running.first_started_at)
        paid_from = max(old_period[0], local_day(running.first_started_at, zone))
        next_amount += _fee(old, paid_from, old_period[1], old_period, old_trial, zone)
    if new.pay_in_advance:
        next_amount += _fee(new, switch, new_period[1], new_period, trial, zone)
    return Estimate(
        kind="downgrade",
        currency=new.currency,
        applies_on=switch,
        lines=(),
        due_now_cents=0,
        carried_credit_cents=0,
        next_invoice_on=switch,
        next_invoice_cents=next_amount,
        plus_usage_now=False,
        plus_usage_next=old.has_usage,
        trial_until=None,
        current_yearly_cents=old.yearly_cents,
        new_yearly_cents=new.yearly_cents,
    )


def estimate_start(
    new: Terms, now: datetime, zone: str, first_started_at: datetime | None = None
) -> Estimate:
    """A new subscription to `new` starting now (calendar billing).

    `first_started_at` is the first start of a reused subscription id: its trial is not
    restarted, so it counts from then.
    """
    today = local_day(now, zone)
    period = period_containing(today, new.interval, "calendar", today)
    trial = trial_end(new, first_started_at or now)
    in_trial = trial is not None and trial > now
    trial_until = local_day(trial, zone) if in_trial and trial else None
    lines: list[Line] = []
    due = 0
    if new.pay_in_advance and not in_trial:
        due = _fee(new, today, period[1], period, None, zone)
        if due:
            lines.append(
                Line(
                    f"{new.title}, rest of the period", due, _days(today, period[1]), _days(*period)
                )
            )
    next_on = period[1] + ONE_DAY
    if new.pay_in_advance:
        following = period_containing(next_on, new.interval, "calendar", today)
        next_amount = _fee(
            new, following[0], following[1], following, trial if in_trial else None, zone
        )
        if trial_until is not None and trial_until <= period[1]:
            next_on = trial_until
            next_amount = _fee(new, trial_until, period[1], period, None, zone)
    else:
        next_amount = _fee(new, today, period[1], period, trial if in_trial else None, zone)
    return Estimate(
        kind="start",
        currency=new.currency,
        applies_on=today,
        lines=tuple(lines),
        due_now_cents=due,
        carried_credit_cents=0,
        next_invoice_on=next_on,
        next_invoice_cents=next_amount,
        plus_usage_now=False,
        plus_usage_next=new.has_usage,
        trial_until=trial_until,
        current_yearly_cents=None,
        new_yearly_cents=new.yearly_cents,
    )
