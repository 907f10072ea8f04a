"""Current usage without an active subscription, and the usage of past billed periods."""

from __future__ import annotations

import pytest

from .billing_helpers import START, customer, ok, plan, subscribe


@pytest.fixture
def metered(lago_standin):
    """Acme on a $10 monthly plan in arrears with API calls at $0.50 each, from START."""
    lago_standin.seed()
    lago_standin.travel_to(START)
    with lago_standin.client() as client:
        metric_id = ok(client.get("/billable_metrics/api_calls"))["billable_metric"]["lago_id"]
        customer(client)
        plan(
            client,
            "metered",
            1000,
            charges=[
                {
                    "billable_metric_id": metric_id,
                    "charge_model": "standard",
                    "properties": {"amount": "0.5"},
                }
            ],
        )
        subscribe(client, "metered")
    return lago_standin


def calls(client, prefix: str, count: int) -> None:
    events = [
        {"transaction_id": f"{prefix}{n}", "external_subscription_id": "sub_1", "code": "api_calls"}
        for n in range(count)
    ]
    ok(client.post("/events/batch", json={"events": events}))


def test_current_usage_without_an_active_subscription_is_405(metered):
    with metered.client() as client:
        unknown = client.get(
            "/customers/acme/current_usage", params={"external_subscription_id": "nope"}
        )
        customer(client, "beta")
        # Another customer's subscription is not this customer's active subscription.
        foreign = client.get(
            "/customers/beta/current_usage", params={"external_subscription_id": "sub_1"}
        )
        ok(client.delete("/subscriptions/sub_1"))
        ended = client.get(
            "/customers/acme/current_usage", params={"external_subscription_id": "sub_1"}
        )
        no_customer = client.get(
            "/customers/ghost/current_usage", params={"external_subscription_id": "sub_1"}
        )
    body = {"status": 405, "error": "Method Not Allowed", "code": "no_active_subscription"}
    assert (unknown.status_code, unknown.json()) == (405, body)
    assert (foreign.status_code, foreign.json()) == (405, body)
    assert (ended.status_code, ended.json()) == (405, body)
    assert no_customer.json()["code"] == "customer_not_found"


def test_current_usage_without_the_parameter_is_405_too(metered):
    metered.standin.configure(strict=False)
    try:
        with metered.client() as client:
            reply = client.get("/customers/acme/current_usage")
    finally:
        metered.standin.configure(strict=True)
    assert reply.status_code == 405
    assert reply.json()["code"] == "no_active_subscription"
    [violation] = metered.pop_violations()
    assert "external_subscription_id" in " ".join(violation.errors)


def test_past_usage_lists_billed_periods_newest_first(metered):
    with metered.client() as client:
        calls(client, "jan", 3)
        metered.travel_to("2030-02-01T01:00:00Z")
        calls(client, "feb", 5)
        metered.travel_to("2030-03-01T01:00:00Z")
        both = ok(
            client.get("/customers/acme/past_usage", params={"external_subscription_id": "sub_1"})
        )
        latest = ok(
            client.get(
                "/customers/acme/past_usage",
                params={"external_subscription_id": "sub_1", "periods_count": 1},
            )
        )
        other_metric = ok(
            client.get(
                "/customers/acme/past_usage",
                params={"external_subscription_id": "sub_1", "billable_metric_code": "seats"},
            )
        )
        unknown_sub = ok(
            client.get("/customers/acme/past_usage", params={"external_subscription_id": "nope"})
        )
        unknown_metric = client.get(
            "/customers/acme/past_usage",
            params={"external_subscription_id": "sub_1", "billable_metric_code": "nope"},
        )
        invoices = ok(client.get("/invoices"))["invoices"]
    feb, jan = both["usage_periods"]
    assert (feb["from_datetime"], feb["to_datetime"]) == (
        "2030-02-01T00:00:00Z",
        "2030-02-28T23:59:59Z",
    )
    assert (jan["from_datetime"], jan["to_datetime"]) == (START, "2030-01-31T23:59:59Z")
    assert [p["lago_invoice_id"] for p in both["usage_periods"]] == [i["lago_id"] for i in invoices]
    assert feb["issuing_date"] == "2030-03-01"
    [feb_calls] = feb["charges_usage"]
    assert (feb_calls["units"], feb_calls["events_count"], feb_calls["amount_cents"]) == (
        "5.0",
        5,
        250,
    )
    assert jan["charges_usage"][0]["amount_cents"] == 150
    # Like lago-api, the amounts are the invoice's fees (the base fee included).
    assert feb["amount_cents"] == feb["total_amount_cents"] == 1000 + 250
    assert both["meta"] == {
        "current_page": 1,
        "next_page": None,
        "prev_page": None,
        "total_pages": 1,
        "total_count": 2,
    }
    assert [p["from_datetime"] for p in latest["usage_periods"]] == ["2030-02-01T00:00:00Z"]
    assert latest["meta"]["total_pages"] == 2
    assert latest["meta"]["next_page"] == 2
    assert [p["charges_usage"] for p in other_metric["usage_periods"]] == [[], []]
    assert unknown_sub == {
        "usage_periods": [],
        "meta": {
            "current_page": 0,
            "next_page": None,
            "prev_page": None,
            "total_pages": 0,
            "total_count": 0,
        },
    }
    assert unknown_metric.status_code == 404
    assert unknown_metric.json()["code"] == "billable_metric_not_found"


def test_past_usage_needs_the_subscription(metered):
    metered.standin.configure(strict=False)
    try:
        with metered.client() as client:
            reply = client.get("/customers/acme/past_usage")
    finally:
        metered.standin.configure(strict=True)
    assert reply.status_code == 422
    assert reply.json()["error_details"] == {"external_subscription_id": ["value_is_mandatory"]}
    assert [v.kind for v in metered.pop_violations()] == ["request"]
