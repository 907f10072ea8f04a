"""Billing period arithmetic and the clock's job slots (no server needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.lago.periods import days_between, period_at, prorate, yearly_amount_cents
from sandbox.lago.scheduler import next_slot


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("interval", "billing_time", "moment", "start", "end"),
    [
        (
            "monthly",
            "calendar",
            "2030-01-15T10:00:00Z",
            "2030-01-01T00:00:00Z",
            "2030-02-01T00:00:00Z",
        ),
        (
            "weekly",
            "calendar",
            "2030-01-16T10:00:00Z",
            "2030-01-14T00:00:00Z",
            "2030-01-21T00:00:00Z",
        ),
        (
            "quarterly",
            "calendar",
            "2030-05-02T00:00:00Z",
            "2030-04-01T00:00:00Z",
            "2030-07-01T00:00:00Z",
        ),
        (
            "semiannual",
            "calendar",
            "2030-09-30T23:00:00Z",
            "2030-07-01T00:00:00Z",
            "2031-01-01T00:00:00Z",
        ),
        (
            "yearly",
            "calendar",
            "2030-09-30T23:00:00Z",
            "2030-01-01T00:00:00Z",
            "2031-01-01T00:00:00Z",
        ),
        # Anniversary on the 31st: short months end on their last day, then back to the 31st.
        (
            "monthly",
            "anniversary",
            "2030-02-15T00:00:00Z",
            "2030-01-31T00:00:00Z",
            "2030-02-28T00:00:00Z",
        ),
        (
            "monthly",
            "anniversary",
            "2030-03-01T00:00:00Z",
            "2030-02-28T00:00:00Z",
            "2030-03-31T00:00:00Z",
        ),
        (
            "weekly",
            "anniversary",
            "2030-02-01T00:00:00Z",
            "2030-01-31T00:00:00Z",
            "2030-02-07T00:00:00Z",
        ),
        (
            "yearly",
            "anniversary",
            "2031-02-01T00:00:00Z",
            "2031-01-31T00:00:00Z",
            "2032-01-31T00:00:00Z",
        ),
    ],
)
def test_period_at(interval, billing_time, moment, start, end):
    period = period_at(
        at(moment),
        interval=interval,
        billing_time=billing_time,
        anchor=at("2030-01-31T09:00:00Z"),
        tz_name="UTC",
    )
    assert (iso(period.start), iso(period.end)) == (start, end)


def test_periods_follow_the_customer_time_zone():
    period = period_at(
        at("2030-01-31T23:30:00Z"),
        interval="monthly",
        billing_time="calendar",
        anchor=at("2030-01-01T00:00:00Z"),
        tz_name="Europe/Paris",
    )
    # 23:30 UTC on Jan 31 is already February in Paris.
    assert iso(period.start) == "2030-01-31T23:00:00Z"
    assert iso(period.end) == "2030-02-28T23:00:00Z"
    assert iso(period.last_second) == "2030-02-28T22:59:59Z"


def test_days_and_proration():
    assert days_between(at("2030-01-10T09:00:00Z"), at("2030-02-01T00:00:00Z"), "UTC") == 22
    assert days_between(at("2030-01-10T09:00:00Z"), at("2030-01-10T09:00:00Z"), "UTC") == 0
    assert prorate(2900, 22, 31) == 2058
    assert prorate(2900, 31, 31) == 2900
    assert prorate(2900, 0, 31) == 0
    assert yearly_amount_cents({"amount_cents": 100, "interval": "weekly"}) == 5200


@pytest.mark.parametrize(
    ("moment", "minute", "slot"),
    [
        ("2030-01-10T09:00:00Z", None, "2030-01-10T09:00:00Z"),
        ("2030-01-10T09:00:01Z", None, "2030-01-10T09:05:00Z"),
        ("2030-01-10T09:26:00Z", 25, "2030-01-10T10:25:00Z"),
        ("2030-01-10T09:10:00Z", 10, "2030-01-10T09:10:00Z"),
        ("2030-01-10T23:50:00Z", 35, "2030-01-11T00:35:00Z"),
    ],
)
def test_job_slots(moment, minute, slot):
    assert iso(next_slot(at(moment), minute)) == slot
