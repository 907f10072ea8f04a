"""Subscription usage alerts and projected usage in the stand-in, as lago-api serves them."""

from __future__ import annotations

import pytest

from .billing_helpers import START, add_endpoint, customer, ok, payloads, subscribe

UNITS = {
    "alert_type": "billable_metric_current_usage_units",
    "code": "seats_watch",
    "name": "Seats",
    "billable_metric_code": "seats",
    "thresholds": [
        {"code": "50", "value": 2},
        {"code": "80", "value": "3.2"},
        {"code": "100", "value": 4},
    ],
}


@pytest.fixture
def acme(premium, receiver):
    premium.seed()
    premium.travel_to(START)
    with premium.client() as client:
        add_endpoint(client, receiver().url)
        customer(client)
        subscribe(client, "pro")
    return premium


def seats(client, prefix: str, count: int) -> None:
    events = [
        {
            "transaction_id": f"{prefix}-{n}",
            "external_subscription_id": "sub_1",
            "code": "seats",
            "properties": {"user_id": f"{prefix}-{n}"},
        }
        for n in range(count)
    ]
    ok(client.post("/events/batch", json={"events": events}))


def test_an_alert_is_created_listed_updated_and_deleted(acme):
    with acme.client() as client:
        created = ok(client.post("/subscriptions/sub_1/alerts", json={"alert": UNITS}))["alert"]
        again = client.post("/subscriptions/sub_1/alerts", json={"alert": UNITS})
        same_type = client.post(
            "/subscriptions/sub_1/alerts", json={"alert": UNITS | {"code": "other"}}
        )
        listed = ok(client.get("/subscriptions/sub_1/alerts"))
        updated = ok(
            client.put(
                "/subscriptions/sub_1/alerts/seats_watch",
                json={"alert": {"name": "Team size", "thresholds": [{"value": 10}]}},
            )
        )["alert"]
        deleted = ok(client.delete("/subscriptions/sub_1/alerts/seats_watch"))["alert"]
        gone = client.get("/subscriptions/sub_1/alerts/seats_watch")
        no_sub = client.get("/subscriptions/nope/alerts")
    assert created["alert_type"] == "billable_metric_current_usage_units"
    assert created["external_subscription_id"] == "sub_1"
    assert created["billable_metric"]["code"] == "seats"
    assert created["thresholds"] == [
        {"code": "50", "value": "2.0", "recurring": False},
        {"code": "80", "value": "3.2", "recurring": False},
        {"code": "100", "value": "4.0", "recurring": False},
    ]
    assert created["previous_value"] == 0 and created["direction"] == "increasing"
    assert again.json()["error_details"] == {"code": ["value_already_exist"]}
    assert same_type.json()["error_details"] == {"base": ["alert_already_exists"]}
    assert [a["code"] for a in listed["alerts"]] == ["seats_watch"]
    assert updated["name"] == "Team size"
    assert updated["thresholds"] == [{"code": None, "value": "10.0", "recurring": False}]
    assert deleted["code"] == "seats_watch"
    assert gone.json()["code"] == "alert_not_found"
    assert no_sub.json()["code"] == "subscription_not_found"


@pytest.mark.parametrize(
    ("changes", "details"),
    [
        ({"alert_type": "lifetime_usage_amount"}, {"alert_type": ["feature_not_available"]}),
        ({"thresholds": []}, {"thresholds": ["value_is_mandatory"]}),
        (
            {"thresholds": [{"value": 1}, {"value": 1}]},
            {"thresholds": ["duplicate_threshold_values"]},
        ),
        ({"thresholds": [{"value": "many"}]}, {"thresholds:value": ["value_is_invalid"]}),
        (
            {"thresholds": [{"value": -1, "recurring": True}]},
            {"thresholds:value": ["recurring_value_is_negative"]},
        ),
    ],
)
def test_bad_alerts_are_refused_as_lago_does(acme, changes, details):
    with acme.client() as client:
        reply = client.post("/subscriptions/sub_1/alerts", json={"alert": UNITS | changes})
    assert reply.status_code == 422
    assert reply.json()["error_details"] == details


def test_crossing_thresholds_sends_alert_triggered_once_per_crossing(acme):
    with acme.client() as client:
        ok(client.post("/subscriptions/sub_1/alerts", json={"alert": UNITS}))
        seats(client, "a", 1)
        seats(client, "b", 1)  # 2 seats: the 50 threshold
        seats(client, "c", 2)  # 4 seats: 80 and 100 together
        seats(client, "d", 3)  # 7: nothing left to cross
    sent = payloads(acme, "alert.triggered")
    assert [[t["code"] for t in p["triggered_alert"]["crossed_thresholds"]] for p in sent] == [
        ["50"],
        ["80", "100"],
    ]
    first = sent[0]["triggered_alert"]
    assert first["alert_code"] == "seats_watch"
    assert first["external_subscription_id"] == "sub_1"
    assert first["external_customer_id"] == "acme"
    assert first["billable_metric_code"] == "seats"
    assert (first["previous_value"], first["current_value"]) == (1, 2)
    assert sent[1]["triggered_alert"]["crossed_thresholds"][1] == {
        "code": "100",
        "value": "4.0",
        "recurring": False,
    }


def test_the_next_period_starts_again_and_recurring_thresholds_repeat(acme):
    amount = {
        "alert_type": "current_usage_amount",
        "code": "spend",
        "thresholds": [
            {"code": "first", "value": 1000},
            {"code": "every", "value": 500, "recurring": True},
        ],
    }
    with acme.client() as client:
        ok(client.post("/subscriptions/sub_1/alerts", json={"alert": amount}))
        seats(client, "a", 5)  # $25: 1000, then 1500, 2000 and 2500 cents
    acme.travel_to("2030-02-01T01:00:00Z")
    with acme.client() as client:
        seats(client, "b", 1)  # $5 in February: below the last value, only resets it
        seats(client, "c", 2)  # $15: 1000 again in a new period, and the next step
    crossed = [
        [t["value"] for t in p["triggered_alert"]["crossed_thresholds"]]
        for p in payloads(acme, "alert.triggered")
    ]
    assert crossed == [["1000.0", "1500.0", "2000.0", "2500.0"], ["1000.0", "1500.0"]]


def test_alerts_fire_only_on_a_premium_lago_and_older_lagos_have_no_route(acme):
    acme.standin.configure(premium=False)
    with acme.client() as client:
        ok(client.post("/subscriptions/sub_1/alerts", json={"alert": UNITS}))
        seats(client, "a", 4)
    assert payloads(acme, "alert.triggered") == []
    acme.standin.configure(alerts_api=False)
    with acme.client() as client:
        reply = client.get("/subscriptions/sub_1/alerts")
    assert reply.status_code == 404
    assert reply.json()["code"] == "resource_not_found"


def test_an_alert_set_past_its_threshold_fires_at_once(acme):
    with acme.client() as client:
        seats(client, "a", 3)
        ok(client.post("/subscriptions/sub_1/alerts", json={"alert": UNITS}))
    sent = payloads(acme, "alert.triggered")
    assert [t["code"] for t in sent[0]["triggered_alert"]["crossed_thresholds"]] == ["50"]


def test_projected_usage_needs_the_premium_integration_and_scales_by_days(acme):
    with acme.client() as client:
        refused = client.get(
            "/customers/acme/projected_usage", params={"external_subscription_id": "sub_1"}
        )
    assert refused.status_code == 403
    assert refused.json()["code"] == "projected_usage_not_enabled"
    acme.standin.configure(premium_integrations=["preview", "projected_usage"])
    acme.travel_to("2030-01-20T12:00:00Z")  # day 11 of the 22 days from 10 to 31 January
    with acme.client() as client:
        events = [
            {
                "transaction_id": f"call-{n}",
                "external_subscription_id": "sub_1",
                "code": "api_calls",
            }
            for n in range(100)
        ]
        ok(client.post("/events/batch", json={"events": events}))
        seats(client, "s", 2)
        projected = ok(
            client.get(
                "/customers/acme/projected_usage", params={"external_subscription_id": "sub_1"}
            )
        )["customer_projected_usage"]
        missing = client.get(
            "/customers/acme/projected_usage", params={"external_subscription_id": "nope"}
        )
    by_code = {c["billable_metric"]["code"]: c for c in projected["charges_usage"]}
    assert by_code["api_calls"]["projected_units"] == "200.0"  # 100 / (11 / 22)
    assert by_code["api_calls"]["projected_amount_cents"] == 0  # within the free 100,000
    assert by_code["seats"]["projected_units"] == "2.0"  # a recurring metric stays
    assert by_code["seats"]["projected_amount_cents"] == 1000
    assert projected["amount_cents"] == 1000
    assert projected["projected_amount_cents"] == 1000
    assert missing.status_code == 405
