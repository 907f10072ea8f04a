"""Pier's Lago client reads current and past usage from the Lago stand-in."""

from __future__ import annotations

import pytest

from portal.lago import CustomerUsage, LagoClient, NoUsageYet

START = "2030-01-10T09:00:00Z"


@pytest.fixture
def lago(lago_standin):
    lago_standin.seed()
    lago_standin.travel_to(START)
    with LagoClient(lago_standin.url, lago_standin.api_key, max_retries=0) as client:
        client.upsert_customer({"external_id": "acme", "name": "Acme"})
        yield client


def subscribe(lago: LagoClient, plan_code: str, **fields) -> None:
    body = {"external_customer_id": "acme", "plan_code": plan_code, "external_id": "sub_1"}
    lago.request("POST", "/subscriptions", body={"subscription": body | fields})


def calls(lago: LagoClient, prefix: str, count: int) -> None:
    events = [
        {"transaction_id": f"{prefix}{n}", "external_subscription_id": "sub_1", "code": "api_calls"}
        for n in range(count)
    ]
    lago.request("POST", "/events/batch", body={"events": events})


def test_a_subscription_that_has_not_started_has_no_usage_yet(lago):
    assert lago.get_current_usage("acme", "sub_1") == NoUsageYet("acme", "sub_1")
    subscribe(lago, "pro", subscription_at="2030-02-01T00:00:00Z")
    assert isinstance(lago.get_current_usage("acme", "sub_1"), NoUsageYet)


def test_current_and_past_usage_of_an_active_subscription(lago, lago_standin):
    subscribe(lago, "pro")
    calls(lago, "jan", 3)
    usage = lago.get_current_usage("acme", "sub_1")
    assert isinstance(usage, CustomerUsage)
    assert {c.billable_metric_code: c.events_count for c in usage.charges_usage} == {
        "api_calls": 3,
        "seats": 0,
    }
    # The invoice of the first period's advance fee is listed, with no usage billed yet.
    assert [u.charges_usage for u in lago.get_past_usage("acme", "sub_1").items] == [()]

    lago_standin.travel_to("2030-02-01T01:00:00Z")
    calls(lago, "feb", 2)
    lago_standin.travel_to("2030-03-01T01:00:00Z")
    page = lago.get_past_usage("acme", "sub_1", periods_count=1)
    [february] = page.items
    assert february.from_datetime.isoformat() == "2030-02-01T00:00:00+00:00"
    assert {c.billable_metric_code: c.events_count for c in february.charges_usage} == {
        "api_calls": 2,
        "seats": 0,
    }
    assert february.lago_invoice_id is not None
    assert page.meta.next_page == 2
    older = lago.get_past_usage("acme", "sub_1", periods_count=1, page=2).items
    assert [u.from_datetime.isoformat() for u in older] == ["2030-01-10T09:00:00+00:00"]
