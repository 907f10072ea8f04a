"""Subscription webhooks: re-read from Lago, mirrored when newer, one row whatever the races."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.models import Notice, Plan, SubscriptionMirror
from tests.integration.handlers.support import (
    create_lago_customer,
    deliver,
    deliver_at_once,
    lago_call,
    payload,
    rows,
)

STARTED = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)


def subscribe(standin, plan_code: str, external_id: str = "acme-main") -> dict:
    body = {
        "subscription": {
            "external_customer_id": "pier_acme",
            "plan_code": plan_code,
            "external_id": external_id,
        }
    }
    return lago_call(standin, "POST", "/subscriptions", json=body)["subscription"]


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- From the live stand-in --------------------------------------------------------------------


def test_a_started_subscription_is_read_again_from_lago(app, acme, outbox):
    create_lago_customer(outbox.standin)
    created = subscribe(outbox.standin, "starter")
    handled = dict(outbox.dispatch_new())
    assert handled["subscription.started"].note is None

    [row] = rows(app, SubscriptionMirror)
    assert row.lago_id == created["lago_id"]
    assert row.tenant_id == acme.id
    assert (row.external_id, row.plan_code, row.status) == ("acme-main", "starter", "active")
    assert row.started_at == parse(created["started_at"])
    assert row.trial_ends_at == parse(created["started_at"]) + timedelta(days=14)
    assert row.current_period_ending_at == parse(created["current_billing_period_ending_at"])


def test_a_stale_webhook_copy_loses_to_lagos_current_one(app, acme, outbox):
    create_lago_customer(outbox.standin)
    created = subscribe(outbox.standin, "pro")
    stale = payload(
        "subscription.started",
        lago_id=created["lago_id"],
        plan_code="business",
        name="Not what Lago says",
        started_at=created["started_at"],
    )
    outcome = deliver(app, stale)
    assert outcome.note is None
    [row] = rows(app, SubscriptionMirror)
    assert (row.plan_code, row.name) == ("pro", None)


TEAM = {
    "name": "Team",
    "code": "team",
    "interval": "monthly",
    "amount_cents": 1900,
    "amount_currency": "USD",
    "trial_period": 14,
    "pay_in_advance": True,
}


def test_an_upgrade_terminates_the_old_record_and_keeps_the_first_trial_start(app, acme, outbox):
    create_lago_customer(outbox.standin)
    lago_call(outbox.standin, "POST", "/plans", json={"plan": TEAM})
    first = subscribe(outbox.standin, "starter")
    outbox.dispatch_new()
    second = subscribe(outbox.standin, "team")
    handled = outbox.dispatch_new()
    assert {"subscription.terminated", "subscription.started"} <= {k for k, _ in handled}
    assert all(d.note is None for k, d in handled if k.startswith("subscription."))

    by_id = {r.lago_id: r for r in rows(app, SubscriptionMirror)}
    assert by_id[first["lago_id"]].status == "terminated"
    assert by_id[second["lago_id"]].status == "active"
    assert by_id[second["lago_id"]].previous_plan_code == "starter"
    assert by_id[second["lago_id"]].trial_ends_at == parse(first["started_at"]) + timedelta(days=14)


# -- Plan changes: what the mirror says is scheduled ---------------------------------------------

LAGO_NOW = "2030-01-10T09:00:00Z"
SWITCH_DAY = datetime(2030, 2, 1, tzinfo=UTC)


@pytest.fixture
def changes(outbox):
    """The stand-in's clock pinned, Acme a Lago customer on Business."""
    outbox.standin.travel_to(LAGO_NOW)
    create_lago_customer(outbox.standin)
    subscribe(outbox.standin, "business")
    outbox.dispatch_new()
    return outbox


def by_status(app) -> dict[str, list[tuple[str, str | None]]]:
    """The mirrored records by status: (plan, pending plan) each, oldest first."""
    found: dict[str, list[tuple[str, str | None]]] = {}
    for row in rows(app, SubscriptionMirror):
        found.setdefault(row.status, []).append((row.plan_code, row.pending_plan_code))
    return found


def active_row(app) -> SubscriptionMirror:
    [row] = rows(app, SubscriptionMirror, SubscriptionMirror.status == "active")
    return row


def delete_pending(standin) -> None:
    lago_call(standin, "DELETE", "/subscriptions/acme-main", params={"status": "pending"})


def test_a_scheduled_downgrade_is_kept_with_its_plan_and_day(app, acme, changes):
    subscribe(changes.standin, "pro")
    handled = dict(changes.dispatch_new())
    assert handled["subscription.updated"].note is None
    assert by_status(app) == {"active": [("business", "pro")], "pending": [("pro", None)]}
    row = active_row(app)
    assert row.next_plan_code == "pro"
    assert row.pending_plan_starts_at == row.downgrade_plan_date == SWITCH_DAY


def test_a_second_downgrade_replaces_the_first_that_lago_cancels_silently(app, acme, changes):
    subscribe(changes.standin, "pro")
    changes.dispatch_new()
    subscribe(changes.standin, "starter")
    assert [k for k, _ in changes.dispatch_new()] == ["subscription.updated"]
    assert by_status(app) == {
        "active": [("business", "starter")],
        "pending": [("starter", None)],
        "canceled": [("pro", None)],
    }


@pytest.mark.parametrize("order", ["as sent", "reversed"])
def test_an_undone_downgrade_leaves_nothing_scheduled(app, acme, changes, order):
    subscribe(changes.standin, "pro")
    changes.dispatch_new()
    delete_pending(changes.standin)
    bodies = changes.bodies()[-2:]
    assert [b["webhook_type"] for b in bodies] == [
        "subscription.updated",
        "subscription.terminated",
    ]
    for body in bodies if order == "as sent" else reversed(bodies):
        assert deliver(app, body).note is None
    assert by_status(app) == {"active": [("business", None)], "canceled": [("pro", None)]}
    row = active_row(app)
    assert (row.next_plan_code, row.downgrade_plan_date, row.pending_plan_starts_at) == (
        None,
        None,
        None,
    )


def test_an_upgrade_over_a_scheduled_downgrade_ends_with_nothing_scheduled(app, acme, changes):
    subscribe(changes.standin, "pro")
    changes.dispatch_new()
    lago_call(changes.standin, "POST", "/plans", json={"plan": TEAM | {"amount_cents": 19900}})
    subscribe(changes.standin, "team")
    handled = [k for k, _ in changes.dispatch_new() if k.startswith("subscription.")]
    assert handled == ["subscription.terminated", "subscription.started"]
    assert by_status(app) == {
        "terminated": [("business", None)],
        "active": [("team", None)],
        "canceled": [("pro", None)],
    }
    # Lago names the replacing plan on the ended record: that is no downgrade.
    [ended] = rows(app, SubscriptionMirror, SubscriptionMirror.status == "terminated")
    assert ended.next_plan_code == "team"


def test_terminating_the_subscription_cancels_its_scheduled_downgrade(app, acme, changes):
    subscribe(changes.standin, "pro")
    changes.dispatch_new()
    lago_call(changes.standin, "DELETE", "/subscriptions/acme-main")
    assert [k for k, _ in changes.dispatch_new()][:1] == ["subscription.terminated"]
    assert by_status(app) == {"terminated": [("business", None)], "canceled": [("pro", None)]}


def test_a_downgrade_that_took_effect_is_no_longer_scheduled(app, acme, changes):
    subscribe(changes.standin, "pro")
    changes.dispatch_new()
    changes.standin.travel_to("2030-02-01T01:00:00Z")
    handled = [k for k, _ in changes.dispatch_new() if k.startswith("subscription.")]
    assert handled == ["subscription.terminated", "subscription.started"]
    assert by_status(app) == {"terminated": [("business", None)], "active": [("pro", None)]}
    [ended] = rows(app, SubscriptionMirror, SubscriptionMirror.status == "terminated")
    assert (ended.next_plan_code, ended.downgrade_plan_date) == ("pro", SWITCH_DAY)
    assert active_row(app).started_at == SWITCH_DAY


def test_a_scheduled_cancellation_is_kept_and_undone(app, acme, changes):
    ending = "2030-03-31T00:00:00Z"
    body = {"subscription": {"ending_at": ending}}
    lago_call(changes.standin, "PUT", "/subscriptions/acme-main", json=body)
    changes.dispatch_new()
    assert active_row(app).ending_at == parse(ending)
    body = {"subscription": {"ending_at": None}}
    lago_call(changes.standin, "PUT", "/subscriptions/acme-main", json=body)
    changes.dispatch_new()
    assert active_row(app).ending_at is None


def test_the_trial_end_survives_plan_changes(app, acme, outbox):
    outbox.standin.travel_to(LAGO_NOW)
    create_lago_customer(outbox.standin)
    lago_call(outbox.standin, "POST", "/plans", json={"plan": TEAM})
    first = subscribe(outbox.standin, "starter")
    subscribe(outbox.standin, "team")
    outbox.standin.advance(days=3)
    subscribe(outbox.standin, "starter")
    outbox.dispatch_new()
    trial_end = parse(first["started_at"]) + timedelta(days=14)
    [row] = rows(app, SubscriptionMirror, SubscriptionMirror.status == "active")
    assert (row.plan_code, row.pending_plan_code, row.trial_ends_at) == (
        "team",
        "starter",
        trial_end,
    )


def test_termination_is_read_from_lagos_list_of_ended_subscriptions(app, acme, outbox):
    create_lago_customer(outbox.standin)
    created = subscribe(outbox.standin, "pro")
    outbox.dispatch_new()
    lago_call(outbox.standin, "DELETE", "/subscriptions/acme-main")
    handled = dict(outbox.dispatch_new())
    assert handled["subscription.terminated"].note is None
    [row] = rows(app, SubscriptionMirror)
    assert row.lago_id == created["lago_id"]
    assert row.status == "terminated"
    assert row.terminated_at is not None


def test_the_same_webhook_delivered_at_once_by_many_workers_makes_one_row(app, acme, outbox):
    create_lago_customer(outbox.standin)
    subscribe(outbox.standin, "pro")
    [body] = outbox.bodies("subscription.started")
    results = deliver_at_once(app, [body] * 6)
    assert all(getattr(r, "outcome", r) == "processed" for r in results), results
    assert len(rows(app, SubscriptionMirror)) == 1


# -- From the webhook's copy when Lago cannot answer --------------------------------------------


def test_when_lago_is_down_the_copy_is_mirrored_with_a_note(app, acme, lago_down):
    outcome = deliver(app, payload("subscription.started"))
    assert "Used the webhook's copy of the subscription" in outcome.note
    [row] = rows(app, SubscriptionMirror)
    assert (row.status, row.plan_code, row.billing_time) == ("active", "pro", "anniversary")
    assert row.started_at == STARTED
    assert row.trial_ends_at == STARTED + timedelta(days=14)  # the plan in the webhook
    assert row.source_at == STARTED  # the copy is as old as its own timestamps say


def test_without_a_plan_object_the_trial_comes_from_the_catalogue(app, acme, lago_down):
    with app.app_context():
        from portal.extensions import db

        db.session.add(Plan(code="pro", name="Pro", trial_period_days=7))
        db.session.commit()
    body = payload("subscription.started")
    del body["subscription"]["plan"]
    deliver(app, body)
    [row] = rows(app, SubscriptionMirror)
    assert row.trial_ends_at == STARTED + timedelta(days=7)


def test_an_older_copy_after_a_newer_one_does_not_overwrite_it(app, acme, lago_down):
    deliver(app, payload("subscription.terminated"))
    late = deliver(app, payload("subscription.started"))
    assert "kept it" in late.note
    [row] = rows(app, SubscriptionMirror)
    assert row.status == "terminated"


def test_racing_copies_of_one_subscription_leave_one_row_with_the_newest(app, acme, lago_down):
    bodies = [
        payload("subscription.started"),
        payload("subscription.updated"),
        payload("subscription.terminated"),
        payload("subscription.started"),
    ] * 2
    results = deliver_at_once(app, bodies)
    assert all(getattr(r, "outcome", r) == "processed" for r in results), results
    [row] = rows(app, SubscriptionMirror)
    assert row.status == "terminated"


def test_a_pending_subscription_that_is_canceled_is_mirrored(app, acme, lago_down):
    deliver(app, payload("subscription.canceled"))
    [row] = rows(app, SubscriptionMirror)
    assert row.status == "canceled"
    assert row.started_at is None
    assert row.canceled_at == datetime(2025, 5, 20, 15, 0, tzinfo=UTC)


def test_trial_ended_sets_the_actual_end(app, acme, lago_down):
    deliver(app, payload("subscription.trial_ended"))
    [row] = rows(app, SubscriptionMirror)
    assert row.trial_ended_at == row.trial_ends_at == datetime(2025, 5, 15, 9, 0, tzinfo=UTC)


# -- Notices the state implies -----------------------------------------------------------------


def open_notices(app) -> dict[str, Notice]:
    return {n.kind: n for n in rows(app, Notice) if n.resolved_at is None}


def test_a_coming_end_is_shown_until_the_subscription_ends(app, acme, lago_down):
    deliver(app, payload("subscription.termination_alert"))
    ending = open_notices(app)["subscription_ending"]
    assert ending.title == "Your pro subscription ends on July 1, 2025"  # in Europe/Lisbon
    assert "July 1, 2025 at 12:59 AM (Europe/Lisbon)" in ending.body

    deliver(app, payload("subscription.terminated", terminated_at="2025-07-01T00:00:00Z"))
    assert "subscription_ending" not in open_notices(app)


def test_an_incomplete_subscription_is_shown_until_it_starts(app, acme, lago_down):
    deliver(app, payload("subscription.incomplete"))
    assert open_notices(app)["subscription_incomplete"].level == "warning"
    deliver(
        app,
        payload(
            "subscription.started",
            activated_at="2025-05-02T09:00:00Z",
            started_at="2025-05-02T09:00:00Z",
        ),
    )
    assert "subscription_incomplete" not in open_notices(app)


def test_a_usage_threshold_is_shown_for_the_current_period(app, acme, lago_down):
    deliver(app, payload("subscription.usage_threshold_reached"))
    notice = open_notices(app)["usage_threshold"]
    assert notice.title == "Your usage passed Half of the included usage this billing period"
    deliver(app, payload("subscription.usage_threshold_reached"))
    assert len([n for n in rows(app, Notice) if n.kind == "usage_threshold"]) == 1

    next_period = {
        "current_billing_period_started_at": "2025-05-31T09:00:00Z",
        "current_billing_period_ending_at": "2025-06-30T09:00:00Z",
    }
    deliver(app, payload("subscription.started", **next_period, created_at="2025-05-31T09:00:00Z"))
    assert "usage_threshold" not in open_notices(app)


@pytest.mark.parametrize("kind", ["subscription.incomplete", "subscription.updated"])
def test_incomplete_or_unknown_records_fall_back_to_the_copy(app, acme, connected, kind):
    create_lago_customer(connected)
    outcome = deliver(app, payload(kind))
    assert "Used the webhook's copy of the subscription" in outcome.note
    assert len(rows(app, SubscriptionMirror)) == 1
