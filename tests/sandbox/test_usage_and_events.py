"""Events ingestion, current usage, payment methods and the provider-customer error knob."""

from __future__ import annotations

import pytest

from .billing_helpers import START, add_endpoint, customer, ok, payloads, plan, subscribe


@pytest.fixture
def acme(lago_standin, receiver):
    lago_standin.seed()
    lago_standin.travel_to(START)
    with lago_standin.client() as client:
        add_endpoint(client, receiver().url)
        customer(client)
    return lago_standin


def event(transaction_id, code="api_calls", sub="sub_1", **fields):
    return {
        "transaction_id": transaction_id,
        "external_subscription_id": sub,
        "code": code,
    } | fields


def test_event_ingestion_rules(acme):
    with acme.client() as client:
        subscribe(client, "pro")
        created = ok(client.post("/events", json={"event": event("t1", timestamp="1894270800.25")}))
        duplicate = client.post("/events", json={"event": event("t1")})
        other_sub = ok(client.post("/events", json={"event": event("t1", sub="sub_2")}))
        iso = client.post("/events", json={"event": event("t2", timestamp="2030-01-10T10:00:00Z")})
        fetched = ok(client.get("/events/t1"))
        batch = client.post("/events/batch", json={"events": [event("b1"), event("b1")]})
        missing = client.get("/events/b1")
        too_many = client.post(
            "/events/batch", json={"events": [event(f"x{n}") for n in range(101)]}
        )
    assert created["event"]["timestamp"] == "2030-01-10T10:20:00.250Z"
    assert created["event"]["lago_customer_id"] is None
    assert other_sub["event"]["external_subscription_id"] == "sub_2"
    assert duplicate.json()["error_details"] == {"transaction_id": ["value_already_exist"]}
    assert iso.json()["error_details"] == {"timestamp": ["invalid_format"]}
    assert fetched["event"]["lago_subscription_id"] is not None
    assert batch.status_code == 422
    assert batch.json()["error_details"] == {"1": {"transaction_id": ["value_already_exist"]}}
    assert missing.status_code == 404
    assert too_many.json()["error_details"] == {"events": ["too_many_events"]}


def test_current_usage_prices_the_period_so_far(acme):
    with acme.client() as client:
        metric = ok(
            client.post(
                "/billable_metrics",
                json={
                    "billable_metric": {
                        "name": "Storage",
                        "code": "gb",
                        "aggregation_type": "sum_agg",
                        "field_name": "gb",
                    }
                },
            )
        )["billable_metric"]
        plan(
            client,
            "metered",
            0,
            charges=[
                {
                    "billable_metric_id": metric["lago_id"],
                    "charge_model": "package",
                    "properties": {"amount": "5", "package_size": 10, "free_units": 5},
                }
            ],
        )
        subscribe(client, "metered")
        for n, gb in enumerate(("12.5", "10", "3")):
            ok(client.post("/events", json={"event": event(f"g{n}", "gb", properties={"gb": gb})}))
        # Before the subscription started: not part of this period.
        ok(
            client.post(
                "/events",
                json={"event": event("old", "gb", timestamp=1893000000, properties={"gb": "100"})},
            )
        )
        usage = ok(
            client.get(
                "/customers/acme/current_usage", params={"external_subscription_id": "sub_1"}
            )
        )["customer_usage"]
        unknown = client.get(
            "/customers/acme/current_usage", params={"external_subscription_id": "nope"}
        )
    assert usage["from_datetime"].startswith(START[:-2])  # the clock ticks on from START
    assert usage["to_datetime"] == "2030-01-31T23:59:59Z"
    assert usage["issuing_date"] == "2030-02-01"
    assert usage["currency"] == "USD"
    [charge] = usage["charges_usage"]
    assert charge["units"] == "25.5"
    assert charge["events_count"] == 3
    assert charge["billable_metric"]["code"] == "gb"
    assert charge["charge"]["charge_model"] == "package"
    # 25.5 GB minus 5 free = 20.5 -> 3 packages of 10 at $5.
    assert charge["amount_cents"] == 1500
    assert usage["amount_cents"] == usage["total_amount_cents"] == 1500
    assert unknown.json()["code"] == "no_active_subscription"


def test_graduated_and_volume_charges(acme):
    with acme.client() as client:
        metric_id = ok(client.get("/billable_metrics/api_calls"))["billable_metric"]["lago_id"]
        plan(
            client,
            "volume",
            0,
            charges=[
                {
                    "billable_metric_id": metric_id,
                    "charge_model": "volume",
                    "properties": {
                        "volume_ranges": [
                            {
                                "from_value": 0,
                                "to_value": 2,
                                "per_unit_amount": "1",
                                "flat_amount": "0",
                            },
                            {
                                "from_value": 3,
                                "to_value": None,
                                "per_unit_amount": "0.5",
                                "flat_amount": "1",
                            },
                        ]
                    },
                }
            ],
        )
        subscribe(client, "business", "graduated")
        subscribe(client, "volume", "volume")
        events = [event(f"g{n}", sub="graduated") for n in range(3)]
        events += [event(f"v{n}", sub="volume") for n in range(4)]
        ok(client.post("/events/batch", json={"events": events}))

        def amount(sub):
            usage = ok(
                client.get(
                    "/customers/acme/current_usage", params={"external_subscription_id": sub}
                )
            )["customer_usage"]
            return {c["billable_metric"]["code"]: c["amount_cents"] for c in usage["charges_usage"]}

        # Business: 1,000,000 free calls.
        assert amount("graduated")["api_calls"] == 0
        # Volume: 4 units fall in the second range: 4 x 0.5 + 1.
        assert amount("volume") == {"api_calls": 300}


def test_post_validation_sends_events_errors(acme):
    with acme.client() as client:
        subscribe(client, "pro")
        ok(client.post("/events", json={"event": event("bad", "no_such_metric")}))
        ok(client.post("/events", json={"event": event("nouser", "seats", properties={})}))
        ok(client.post("/events", json={"event": event("fine")}))
    ran = acme.advance(hours=1)
    assert [r["job"] for r in ran] == ["post_validate_events"]
    [report] = payloads(acme, "events.errors")
    assert report["events_errors"] == {
        "invalid_code": ["bad"],
        "missing_aggregation_property": ["nouser"],
        "invalid_filter_values": [],
        "missing_group_key": [],
    }
    assert acme.advance(hours=2) == []


def test_payment_methods_list_default_and_delete(acme):
    extra = acme.add_payment_method("acme", "pm_backup", default=False)
    with acme.client() as client:
        listed = ok(client.get("/customers/acme/payment_methods"))["payment_methods"]
        made_default = ok(
            client.put(f"/customers/acme/payment_methods/{extra['lago_id']}/set_as_default")
        )["payment_method"]
        after = ok(client.get("/customers/acme/payment_methods"))["payment_methods"]
        removed = ok(client.delete(f"/customers/acme/payment_methods/{extra['lago_id']}"))
        left = ok(client.get("/customers/acme/payment_methods"))
        unknown = client.delete(f"/customers/acme/payment_methods/{extra['lago_id']}")
    assert len(listed) == 2
    assert [m["is_default"] for m in listed] == [False, True]
    assert listed[1]["provider_method_id"].startswith("pm_")
    assert listed[1]["payment_provider_type"] == "stripe"
    assert made_default["is_default"] is True
    assert sum(m["is_default"] for m in after) == 1
    assert removed["payment_method"]["provider_method_id"] == "pm_backup"
    assert left["meta"]["total_count"] == 1
    assert unknown.json()["code"] == "payment_method_not_found"


def test_provider_customer_error_knob(acme):
    acme.set_payments("beta", provider_customer_error="No such API key")
    with acme.client() as client:
        failed = customer(client, "beta")
        retried = customer(client, "beta")
    assert failed["billing_configuration"]["provider_customer_id"] is None
    [error] = payloads(acme, "customer.payment_provider_error")
    assert error["payment_provider_customer_error"] == {
        "lago_customer_id": failed["lago_id"],
        "external_customer_id": "beta",
        "payment_provider": "stripe",
        "payment_provider_code": "stripe",
        "provider_error": {"message": "No such API key", "error_code": "customer_creation_failed"},
    }
    # The error is used once: the next sync creates the customer at the provider.
    assert retried["billing_configuration"]["provider_customer_id"].startswith("cus_")
    created = payloads(acme, "customer.payment_provider_created")
    assert [c["customer"]["external_id"] for c in created] == ["acme", "beta"]
    assert "customer.updated" in [w["webhook_type"] for w in acme.webhooks()]
