"""The billing home: status in words, price, period, next bill and timeline, from the mirror."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from portal.billing.summary import Status, summarize
from portal.extensions import db
from portal.models import BillingAccount, DunningState, Plan, SubscriptionMirror, Tenant

NOW = datetime(2027, 3, 14, 15, 30, tzinfo=UTC)
PERIOD_START = datetime(2027, 3, 1, tzinfo=UTC)
PERIOD_END = datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC)


def _plan(code, amount, *, interval="monthly", advance=True, charges=None, name=None):
    plan = Plan(
        code=code,
        name=name or code.title(),
        interval=interval,
        amount_cents=amount,
        currency="EUR",
        pay_in_advance=advance,
        charges=charges or [],
    )
    db.session.add(plan)
    return plan


def _subscription(tenant_id, plan_code, *, status="active", lago_id=None, **values):
    row = SubscriptionMirror(
        tenant_id=tenant_id,
        external_id="sub-1",
        lago_id=lago_id or f"lago-{plan_code}-{status}",
        plan_code=plan_code,
        status=status,
        started_at=PERIOD_START if status == "active" else None,
        current_period_started_at=PERIOD_START if status == "active" else None,
        current_period_ending_at=PERIOD_END if status == "active" else None,
        source_at=NOW - timedelta(hours=1),
        **values,
    )
    db.session.add(row)
    return row


@pytest.fixture
def tenant(app, make_person):
    person = make_person("owner")
    with app.app_context():
        yield db.session.get(Tenant, person.tenant_id)


def test_no_subscription_says_none(tenant):
    assert summarize(tenant, NOW).status is Status.none


def test_an_active_plan_shows_its_price_period_and_next_bill(tenant):
    _plan("pro", 2900, charges=[{"code": "api_calls"}])
    _subscription(tenant.id, "pro")
    db.session.flush()
    summary = summarize(tenant, NOW)
    assert summary.status is Status.active
    assert (summary.price.amount_cents, summary.price.per, summary.price.has_usage) == (
        2900,
        "month",
        True,
    )
    assert summary.next_bill.at == PERIOD_END
    assert summary.next_bill.amount_cents == 2900
    assert [entry.kind for entry in summary.timeline] == ["renewal"]


def test_a_trial_counts_whole_days_left(tenant):
    _plan("pro", 2900)
    _subscription(tenant.id, "pro", trial_ends_at=NOW + timedelta(days=2, hours=1))
    db.session.flush()
    summary = summarize(tenant, NOW)
    assert summary.status is Status.trialing
    assert summary.trial_days_left == 3
    assert summary.timeline[0].kind == "trial_end"


def test_a_trial_that_ended_is_not_counted(tenant):
    _plan("pro", 2900)
    _subscription(
        tenant.id,
        "pro",
        trial_ends_at=NOW - timedelta(days=1),
        trial_ended_at=NOW - timedelta(days=1),
    )
    db.session.flush()
    assert summarize(tenant, NOW).status is Status.active


def test_a_downgrade_is_scheduled_only_by_a_pending_next_subscription(tenant):
    _plan("pro", 9900)
    _plan("basic", 2900, name="Basic")
    # next_plan_code alone (as after an upgrade) does not mean a downgrade is scheduled.
    current = _subscription(tenant.id, "pro", next_plan_code="basic")
    db.session.flush()
    assert summarize(tenant, NOW).status is Status.active

    _subscription(
        tenant.id, "basic", status="pending", subscription_at=PERIOD_END + timedelta(seconds=1)
    )
    db.session.flush()
    summary = summarize(tenant, NOW)
    assert summary.status is Status.downgrade_scheduled
    assert summary.subscription.lago_id == current.lago_id
    assert summary.pending_title == "Basic"
    downgrade = [entry for entry in summary.timeline if entry.kind == "downgrade"]
    assert downgrade[0].undo == "undo_downgrade"
    # Paid in advance: the next bill is the new plan's base fee.
    assert summary.next_bill.amount_cents == 2900


def test_a_scheduled_cancellation_wins_over_the_renewal(tenant):
    _plan("pro", 2900, advance=False)
    _subscription(tenant.id, "pro", ending_at=PERIOD_END)
    db.session.flush()
    summary = summarize(tenant, NOW)
    assert summary.status is Status.cancels
    assert [entry.kind for entry in summary.timeline] == ["cancellation"]
    assert summary.timeline[0].undo == "reactivate"
    assert summary.next_bill.note == "final invoice"
    assert summary.next_bill.amount_cents == 2900


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (DunningState.payment_failed, Status.payment_failed),
        (DunningState.overdue, Status.overdue),
        (DunningState.suspended, Status.suspended),
    ],
)
def test_dunning_comes_first(tenant, state, expected):
    _plan("pro", 2900)
    _subscription(tenant.id, "pro", ending_at=PERIOD_END)
    db.session.add(BillingAccount(tenant_id=tenant.id, dunning_state=state))
    db.session.flush()
    assert summarize(tenant, NOW).status is expected


def test_only_terminated_subscriptions_mean_ended(tenant):
    _plan("pro", 2900)
    _subscription(tenant.id, "pro", status="terminated", terminated_at=NOW - timedelta(days=3))
    db.session.flush()
    summary = summarize(tenant, NOW)
    assert summary.status is Status.ended
    assert summary.next_bill is None


def test_dates_use_lagos_zone_then_the_tenants(tenant):
    tenant.timezone = "Europe/Paris"
    assert summarize(tenant, NOW).zone == "Europe/Paris"
    db.session.add(BillingAccount(tenant_id=tenant.id, applicable_timezone="America/New_York"))
    db.session.flush()
    assert summarize(tenant, NOW).zone == "America/New_York"


@time_machine.travel(NOW, tick=False)
def test_the_page_shows_the_plan_in_the_customers_zone_with_utc_on_hover(app, as_role):
    client, person = as_role("member")
    with app.app_context():
        tenant = db.session.get(Tenant, person.tenant_id)
        tenant.timezone = "Asia/Tokyo"
        _plan("pro", 2900, name="Pro")
        _subscription(tenant.id, "pro")
        db.session.commit()
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "€29.00 per month" in text
    assert 'data-status="active"' in text
    # The period ends on 31 March 23:59:59 UTC, which is 1 April in Tokyo.
    assert "April 1, 2027" in text
    assert 'title="Mar 31, 2027, 11:59:59' in text


@time_machine.travel(NOW, tick=False)
def test_the_summary_block_alone_renders_for_htmx(app, as_role):
    client, person = as_role("member")
    with app.app_context():
        _plan("pro", 2900, name="Pro")
        _subscription(person.tenant_id, "pro", ending_at=PERIOD_END)
        db.session.commit()
    block = client.get("/", headers={"HX-Request": "true", "HX-Target": "billing-summary"})
    text = block.get_data(as_text=True)
    assert "<html" not in text
    assert "Cancels on March 31, 2027" in re.sub(r"<[^>]+>", "", text)
