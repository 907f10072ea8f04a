"""Properties of Pier's plan-change estimate against Lago's rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from portal.billing.proration import (
    YEARLY_FACTOR,
    Running,
    Terms,
    estimate_change,
    is_upgrade,
    local_day,
    period_containing,
)

ZONES = ("UTC", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati", "Pacific/Pago_Pago")

terms = st.builds(
    Terms,
    code=st.just("p"),
    title=st.just("Plan"),
    interval=st.sampled_from(sorted(YEARLY_FACTOR)),
    amount_cents=st.integers(min_value=0, max_value=1_000_000),
    currency=st.just("USD"),
    pay_in_advance=st.booleans(),
    trial_days=st.sampled_from([0, 7, 30]),
    has_usage=st.booleans(),
)
moments = st.datetimes(
    min_value=datetime(2027, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@st.composite
def changes(draw):
    start = draw(moments)
    now = start + timedelta(seconds=draw(st.integers(0, 400 * 86_400)))
    running = Running(
        terms=draw(terms),
        billing_time=draw(st.sampled_from(["calendar", "anniversary"])),
        subscription_at=start,
        first_started_at=start,
        zone=draw(st.sampled_from(ZONES)),
    )
    return running, draw(terms), now


@given(changes())
def test_upgrade_exactly_when_the_yearly_price_does_not_fall(change):
    running, new, now = change
    estimate = estimate_change(running, new, now)
    old_yearly = running.terms.amount_cents * YEARLY_FACTOR[running.terms.interval]
    assert (estimate.kind == "upgrade") == (
        new.amount_cents * YEARLY_FACTOR[new.interval] >= old_yearly
    )
    assert is_upgrade(running.terms, new) == (estimate.kind == "upgrade")


@given(changes())
def test_a_downgrade_waits_for_the_period_end_and_charges_nothing_now(change):
    running, new, now = change
    estimate = estimate_change(running, new, now)
    if estimate.kind != "downgrade":
        return
    today = local_day(now, running.zone)
    _, last = period_containing(
        today,
        running.terms.interval,
        running.billing_time,
        local_day(running.subscription_at, running.zone),
    )
    assert estimate.due_now_cents == 0 and estimate.lines == ()
    assert estimate.applies_on == last + timedelta(days=1)
    assert estimate.next_invoice_on == estimate.applies_on


@given(changes())
def test_an_upgrade_applies_today_and_never_charges_more_than_the_new_plan(change):
    running, new, now = change
    estimate = estimate_change(running, new, now)
    if estimate.kind != "upgrade":
        return
    assert estimate.applies_on == local_day(now, running.zone)
    charges = [line.amount_cents for line in estimate.lines if line.amount_cents > 0]
    credits = [-line.amount_cents for line in estimate.lines if line.amount_cents < 0]
    assert estimate.due_now_cents == max(sum(charges) - sum(credits), 0)
    assert estimate.due_now_cents >= 0 and estimate.carried_credit_cents >= 0
    assert all(c <= running.terms.amount_cents for c in credits)  # never more than one period
    if not new.pay_in_advance or (
        new.trial_days and now < running.first_started_at + timedelta(days=new.trial_days)
    ):
        assert not any(
            line.label.startswith(new.title + ",") and "rest" in line.label
            for line in estimate.lines
        )
    if not running.terms.pay_in_advance:
        assert credits == []  # only prepaid time is credited


@given(
    st.dates(),
    st.sampled_from(sorted(YEARLY_FACTOR)),
    st.sampled_from(["calendar", "anniversary"]),
    st.dates(),
)
def test_periods_hold_the_day_and_follow_each_other(day, interval, billing_time, anchor):
    first, last = period_containing(day, interval, billing_time, anchor)
    assert first <= day <= last
    following = period_containing(last + timedelta(days=1), interval, billing_time, anchor)
    assert following[0] == last + timedelta(days=1)
    length = (last - first).days + 1
    assert {
        "weekly": (7, 7),
        "monthly": (28, 31),
        "quarterly": (89, 92),
        "semiannual": (181, 184),
        "yearly": (365, 366),
    }[interval][0] - 3 <= length


def test_yearly_to_monthly_is_an_upgrade_only_when_twelve_months_cost_as_much():
    yearly = Terms("y", "Pro", "yearly", 29_000, "USD", True)
    assert is_upgrade(yearly, Terms("m", "Pro", "monthly", 2_900, "USD", True))
    assert not is_upgrade(yearly, Terms("m", "Pro", "monthly", 2_400, "USD", True))


def test_upgrade_mid_month_credits_the_unused_days_and_charges_the_rest():
    start = datetime(2027, 3, 1, 10, tzinfo=UTC)
    running = Running(
        Terms("pro", "Pro", "monthly", 2_900, "USD", True), "calendar", start, start, "UTC"
    )
    estimate = estimate_change(
        running,
        Terms("biz", "Business", "monthly", 9_900, "USD", True),
        datetime(2027, 4, 21, 9, tzinfo=UTC),
    )
    # April has 30 days; from the 21st on, 10 are left: 2900×10/30 credited, 9900×10/30 charged.
    assert [line.amount_cents for line in estimate.lines] == [-967, 3300]
    assert estimate.due_now_cents == 3300 - 967
    assert str(estimate.next_invoice_on) == "2027-05-01" and estimate.next_invoice_cents == 9_900
