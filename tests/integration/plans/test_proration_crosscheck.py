"""Pier's estimate against the Lago stand-in's invoice preview on generated plan changes.

Each example builds two plans (any intervals, paid in advance or in arrears, with or without a
trial), a customer in a time zone, subscribes at one moment and previews the change at a later
one (period ends, 29 February 2028 included).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from portal.billing.proration import Running, Terms, estimate_change, local_day, period_containing
from portal.lago import LagoClient

ZONES = (
    "UTC",
    "America/New_York",
    "Asia/Tokyo",
    "Pacific/Auckland",
    "Pacific/Pago_Pago",
    "Europe/Lisbon",
)
INTERVALS = ("weekly", "monthly", "quarterly", "semiannual", "yearly")

plans = st.fixed_dictionaries(
    {
        "interval": st.sampled_from(INTERVALS),
        "amount_cents": st.integers(min_value=0, max_value=500_000),
        "pay_in_advance": st.booleans(),
        "trial_period": st.sampled_from([0, 0, 3, 20]),
    }
)


def _plan(interval: str, amount_cents: int, in_advance: bool, trial: int = 0) -> dict:
    return {
        "interval": interval,
        "amount_cents": amount_cents,
        "pay_in_advance": in_advance,
        "trial_period": trial,
    }


starts = st.datetimes(
    min_value=datetime(2027, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@pytest.fixture
def premium_lago(lago_standin):
    lago_standin.standin.configure(premium=True)
    yield lago_standin
    lago_standin.standin.configure(premium=False, premium_integrations=["preview"])


def _terms(plan: dict) -> Terms:
    return Terms(
        code=plan["code"],
        title=plan["code"],
        interval=plan["interval"],
        amount_cents=plan["amount_cents"],
        currency="USD",
        pay_in_advance=plan["pay_in_advance"],
        trial_days=plan["trial_period"],
    )


def _scenario(lago, old: dict, new: dict, zone: str, billing_time: str, start, later):
    lago.reset()
    lago.travel_to(start)
    with LagoClient(lago.url, lago.api_key, max_retries=0) as client:
        for code, plan in (("old", old), ("new", new)):
            client.create_plan({"name": code, "code": code, "amount_currency": "USD"} | plan)
        client.upsert_customer({"external_id": "c", "name": "C", "timezone": zone})
        created = client.create_subscription(
            {
                "external_customer_id": "c",
                "external_id": "s",
                "plan_code": "old",
                "billing_time": billing_time,
            }
        )
        lago.travel_to(later)
        sub = client.get_subscription("s")
        preview = client.preview_invoice("c", subscription_ids=["s"], new_plan_code="new")
    running = Running(
        terms=_terms(old | {"code": "old"}),
        billing_time=billing_time,
        subscription_at=created.subscription_at,
        first_started_at=created.started_at,
        zone=zone,
    )
    return running, sub, preview


@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    old=plans,
    new=plans,
    zone=st.sampled_from(ZONES),
    billing_time=st.sampled_from(["calendar", "anniversary"]),
    start=starts,
    gap_days=st.integers(min_value=0, max_value=100),
    gap_seconds=st.integers(min_value=0, max_value=86_399),
    to_period_end=st.booleans(),
)
@example(  # a downgrade onto a yearly plan paid in advance: prorated from the switch day
    old=_plan("monthly", 10_000, True),
    new=_plan("yearly", 100_000, True),
    zone="UTC",
    billing_time="calendar",
    start=datetime(2027, 1, 10, 9, tzinfo=UTC),
    gap_days=50,
    gap_seconds=0,
    to_period_end=False,
)
@example(  # an upgrade away from arrears: the days before the day of the upgrade
    old=_plan("monthly", 8_300, False),
    new=_plan("monthly", 20_000, True),
    zone="Europe/Lisbon",
    billing_time="calendar",
    start=datetime(2027, 3, 1, 0, tzinfo=UTC),
    gap_days=20,
    gap_seconds=50_000,
    to_period_end=False,
)
@example(  # arrears with a trial ending mid-period, upgraded earlier in the day than it ended
    old=_plan("monthly", 9_000, False, trial=20),
    new=_plan("quarterly", 40_000, True),
    zone="America/New_York",
    billing_time="anniversary",
    start=datetime(2027, 3, 5, 20, tzinfo=UTC),
    gap_days=30,
    gap_seconds=3_600,
    to_period_end=False,
)
def test_estimate_matches_the_standins_preview(
    premium_lago, old, new, zone, billing_time, start, gap_days, gap_seconds, to_period_end
):
    if old == new:
        new = new | {"amount_cents": new["amount_cents"] + 100}
    later = start + timedelta(days=gap_days, seconds=gap_seconds)
    if to_period_end:
        # The last hour of the period that holds `later`.
        anchor = local_day(start, zone)
        _, last = period_containing(local_day(later, zone), old["interval"], billing_time, anchor)
        from portal.billing.proration import zone_of

        later = datetime.combine(last, datetime.min.time(), tzinfo=zone_of(zone)).astimezone(
            UTC
        ) + timedelta(hours=23)
        later = max(later, start + timedelta(seconds=1))
    running, sub, preview = _scenario(premium_lago, old, new, zone, billing_time, start, later)
    estimate = estimate_change(running, _terms(new | {"code": "new"}), later)
    context = {
        "old": old,
        "new": new,
        "zone": zone,
        "start": start,
        "later": later,
        "billing_time": billing_time,
        "sub_period": (sub.current_billing_period_started_at, sub.current_billing_period_ending_at),
        "fees": [
            (f.item_code, f.amount_cents, f.from_datetime, f.to_datetime) for f in preview.fees
        ],
        "credits": [c.amount_cents for c in preview.credits],
        "estimate": estimate,
    }
    if estimate.kind == "upgrade":
        wanted = (preview.total_amount_cents,)
        got = (estimate.due_now_cents,)
    else:
        wanted = (preview.total_amount_cents, preview.issuing_date)
        got = (estimate.next_invoice_cents, estimate.next_invoice_on)
    if wanted != got:
        import pprint

        pytest.fail(pprint.pformat(context, width=100) + f"\nstand-in {wanted} estimate {got}")
