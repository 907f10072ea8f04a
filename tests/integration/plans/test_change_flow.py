"""Plans page, preview and confirm against the Lago stand-in, each change as an operation."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_date

from portal.extensions import db
from portal.models import Operation, OperationState, SubscriptionMirror
from portal.operations.services import new_key
from tests.integration.plans.conftest import allow
from tests.integration.subscription.conftest import SUBSCRIPTION, pull


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _rows(app, status):
    with app.app_context():
        return [
            (row.plan_code, row.ending_at is not None)
            for row in db.session.scalars(
                sa.select(SubscriptionMirror)
                .filter_by(external_id=SUBSCRIPTION, status=status)
                .order_by(SubscriptionMirror.id)
            )
        ]


def _operation(app, response) -> Operation:
    op_id = int(re.search(r"operation=(\d+)", response.headers["Location"]).group(1))
    with app.app_context():
        return db.session.get(Operation, op_id)


def _confirm(client, code, **extra):
    return client.submit(f"/plans/{code}/change", {"key": new_key(), **extra})


def test_the_page_shows_only_the_allowed_visible_plans(app, client_as, switchable):
    allow(app, "pro", "starter", "business", hidden=("business",))
    page = client_as("member").get("/plans/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-plan="starter"' in text
    assert 'data-plan="business"' not in text  # hidden
    assert "$9.00" in text and "per month" in text
    assert "API calls, in tiers" in _text(page)
    assert "data-choose" not in text  # members read only


def test_upgrade_preview_is_an_estimate_on_a_free_lago_and_explains_the_rule(
    app, client_as, switchable
):
    owner = client_as("owner")
    block = owner.get(
        "/plans/business/preview", headers={"HX-Request": "true", "HX-Target": "plan-preview"}
    )
    assert block.status_code == 200
    text = _text(block)
    assert "<html" not in block.get_data(as_text=True)
    assert 'data-source="estimate"' in block.get_data(as_text=True)
    assert "yearly price rises from $348.00 to $1,188.00, so it starts now" in text
    assert "Due now" in text and "Unused time on Pro" in text


def test_upgrade_preview_uses_lagos_preview_when_offered(app, client_as, switchable, connected):
    connected.standin.configure(premium=True)
    try:
        block = client_as("owner").get("/plans/business/preview")
    finally:
        connected.standin.configure(premium=False, premium_integrations=["preview"])
    assert 'data-source="lago"' in block.get_data(as_text=True)
    assert "Estimate" not in _text(block)


def test_upgrade_applies_now_and_is_confirmed_from_the_mirror(app, client_as, switchable):
    done = _confirm(client_as("billing_admin"), "business")
    assert done.status_code == 303
    assert _operation(app, done).state is OperationState.confirmed
    assert _rows(app, "active") == [("business", False)]


def test_downgrade_then_upgrade_drops_the_pending_downgrade(app, client_as, switchable):
    allow(app, "pro", "starter", "business")
    owner = client_as("owner")
    first = _confirm(owner, "starter")
    assert _operation(app, first).state is OperationState.confirmed
    assert _rows(app, "pending") == [("starter", False)]
    assert 'data-status="downgrade_scheduled"' in owner.get("/").get_data(as_text=True)
    second = _confirm(owner, "business")
    assert _operation(app, second).state is OperationState.confirmed
    assert _rows(app, "active") == [("business", False)]
    assert _rows(app, "pending") == []


def test_two_downgrades_in_a_row_leave_only_the_second(app, client_as, connected, subscribed):
    with app.app_context():
        from portal.billing.catalogue import create_plan_in_lago
        from portal.billing.connection import lago_client

        create_plan_in_lago(
            lago_client(),
            code="solo",
            name="Solo",
            interval="monthly",
            amount_cents=500,
            currency="USD",
            trial_days=0,
            description=None,
        )
        db.session.commit()
    allow(app, "pro", "starter", "solo")
    owner = client_as("owner")
    assert _operation(app, _confirm(owner, "starter")).state is OperationState.confirmed
    assert _operation(app, _confirm(owner, "solo")).state is OperationState.confirmed
    assert _rows(app, "pending") == [("solo", False)]
    assert _rows(app, "canceled") == [("starter", False)]
    assert "Switches to Solo" in _text(owner.get("/"))


def test_upgrade_while_cancelled_asks_and_can_clear_the_cancellation(app, client_as, switchable):
    owner = client_as("owner")
    owner.submit(
        "/subscription/cancel",
        {"key": new_key(), "when": "period_end", "reason": "", "details": ""},
    )
    assert _rows(app, "active") == [("pro", True)]
    preview = _text(owner.get("/plans/business/preview"))
    assert "Your subscription is set to end on" in preview
    done = _confirm(owner, "business", cancellation="clear")
    assert _operation(app, done).state is OperationState.confirmed
    assert _rows(app, "active") == [("business", False)]


def test_upgrade_while_cancelled_keeps_the_cancellation_by_default(app, client_as, switchable):
    owner = client_as("owner")
    owner.submit(
        "/subscription/cancel",
        {"key": new_key(), "when": "period_end", "reason": "", "details": ""},
    )
    done = _confirm(owner, "business", cancellation="keep")
    assert _operation(app, done).state is OperationState.confirmed
    assert _rows(app, "active") == [("business", True)]


def test_a_member_is_refused(app, client_as, switchable, connected):
    member = client_as("member")
    assert member.get("/plans/business/preview").status_code == 403
    assert _confirm(member, "business").status_code == 403
    assert _rows(app, "active") == [("pro", False)]


def test_a_hidden_or_not_allowed_plan_is_refused(app, client_as, switchable):
    allow(app, "pro", "starter", hidden=("starter",))
    owner = client_as("owner")
    for code in ("starter", "business", "nonexistent"):
        refused = _confirm(owner, code)
        assert refused.status_code == 303
        assert "operation=" not in refused.headers["Location"]
        assert owner.get(f"/plans/{code}/preview").status_code == 404
    assert _rows(app, "active") == [("pro", False)]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Operation.id))) == 0


def test_another_tenants_plan_page_does_not_show_acmes_plan(app, switchable, as_role):
    stranger, _ = as_role("owner")
    text = stranger.get("/plans/").get_data(as_text=True)
    assert "Your plan" not in text
    assert stranger.get("/plans/business/change").status_code == 405


def test_lago_down_during_confirm_fails_clearly(app, client_as, switchable, connected):
    connected.set_faults(down="503", path_prefix="/api/v1/subscriptions")
    try:
        done = _confirm(client_as("owner"), "business")
    finally:
        connected.clear_faults()
    operation = _operation(app, done)
    assert operation.state is OperationState.failed
    assert "nothing was changed" in operation.message.lower()
    assert _rows(app, "active") == [("pro", False)]


def test_lago_hanging_during_confirm_leaves_a_pending_operation(
    app, client_as, switchable, connected
):
    app.config["LAGO_READ_TIMEOUT"] = 0.5
    app.extensions.pop("pier_lago", None)
    connected.set_faults(latency_ms=1500, path_prefix="/api/v1/subscriptions")
    try:
        done = _confirm(client_as("owner"), "business")
    finally:
        connected.clear_faults()
    operation = _operation(app, done)
    assert operation.state is OperationState.submitted
    assert "may still go through" in operation.message


def test_the_same_confirm_twice_at_once_changes_nothing_twice(
    app, client_as, switchable, connected
):
    key = new_key()
    clients = [client_as("owner"), client_as("billing_admin")]
    results = []

    def post(client):
        results.append(client.submit("/plans/business/change", {"key": key}))

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in results) == [303, 303]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Operation.id))) == 1
    upgrades = [w for w in connected.webhooks() if w.get("webhook_type") == "subscription.started"]
    assert len(upgrades) <= 1
    assert _rows(app, "active") == [("business", False)]


def test_upgrade_on_the_last_day_of_the_period(app, client_as, switchable, connected):
    with app.app_context():
        row = db.session.scalar(sa.select(SubscriptionMirror).filter_by(status="active"))
        last_hour = row.current_period_ending_at
    connected.travel_to(last_hour.replace(minute=0, second=0))
    pull(app, switchable.id)
    done = _confirm(client_as("owner"), "business")
    assert _operation(app, done).state is OperationState.confirmed
    assert _rows(app, "active") == [("business", False)]


def test_a_tenant_without_a_subscription_starts_one(app, client_as, switchable, connected):
    owner = client_as("owner")
    owner.submit(
        "/subscription/cancel", {"key": new_key(), "when": "now", "reason": "", "details": ""}
    )
    assert _rows(app, "active") == []
    page = owner.get("/plans/")
    assert "Choose a plan" in _text(page)
    assert 'data-choose="starter"' in page.get_data(as_text=True)
    with app.app_context():
        first = db.session.scalar(sa.select(sa.func.min(SubscriptionMirror.started_at)))
    # The id is reused, so Starter's 14-day trial counts from Pro's start, not from today.
    trial_end = (first + timedelta(days=14)).astimezone(ZoneInfo("Europe/Lisbon")).date()
    preview = _text(owner.get("/plans/starter/preview"))
    assert f"free trial runs until {format_date(trial_end, 'long', locale='en')}" in preview
    done = _confirm(owner, "starter")
    assert _operation(app, done).state is OperationState.confirmed
    assert _rows(app, "active") == [("starter", False)]
