"""The clock runs lago-api's jobs: trials end, periods are billed, invoices go overdue,
payments are retried; downgrades, pending starts, ending dates and grace periods."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from .billing_helpers import (
    START,
    add_endpoint,
    customer,
    invoices,
    ok,
    payloads,
    plan,
    subscribe,
    types,
)


@pytest.fixture
def inbox(lago_standin, receiver):
    lago_standin.seed()
    lago_standin.travel_to(START)
    box = receiver()
    with lago_standin.client() as client:
        add_endpoint(client, box.url, signature_algo="hmac")
        customer(client)
    return box


def _jobs(ran):
    return [(r["at"], r["job"]) for r in ran]


def test_trial_invoice_failure_overdue_then_retry_success(lago_standin, inbox):
    lago_standin.set_payments("acme", outcomes=["failed"], error_code="insufficient_funds")
    with lago_standin.client() as client:
        sub = subscribe(client, "starter")
        assert invoices(client) == []
        before = lago_standin.advance(days=13)
        ran = lago_standin.advance(days=2)
        [invoice] = invoices(client)
        sub_now = ok(client.get("/subscriptions/sub_1"))["subscription"]
    assert before == []
    # The trial ends at Jan 24 09:00; the :35 job bills the rest of January (8 of 31 days),
    # the payment fails, and the :25 job marks it overdue (net payment term 0) an hour later.
    assert _jobs(ran) == [
        ("2030-01-24T09:35:00Z", "bill_ended_trial_subscriptions"),
        ("2030-01-24T10:25:00Z", "mark_invoices_as_payment_overdue"),
    ]
    assert ran[0]["subscription"] == sub["lago_id"]
    assert ran[0]["invoice"] == invoice["lago_id"]
    assert sub_now["trial_ended_at"].startswith("2030-01-24T09:00:0")  # the clock ticks on
    assert invoice["total_amount_cents"] == round(900 * 8 / 31)
    assert invoice["payment_status"] == "failed"
    assert invoice["payment_overdue"] is True
    assert types(lago_standin)[-5:] == [
        "subscription.trial_ended",
        "invoice.created",
        "invoice.generated",
        "invoice.payment_failure",
        "invoice.payment_overdue",
    ]
    [failure] = payloads(lago_standin, "invoice.payment_failure")
    error = failure["payment_provider_invoice_payment_error"]["provider_error"]
    assert error["error_code"] == "insufficient_funds"

    with lago_standin.client() as client:
        assert ok(client.get("/invoices", params={"payment_overdue": "true"}))["invoices"]
        assert ok(client.get("/analytics/overdue_balance"))["overdue_balances"] == [
            {
                "month": "2030-01-01T00:00:00.000Z",
                "amount_cents": invoice["total_amount_cents"],
                "currency": "USD",
                "lago_invoice_ids": [invoice["lago_id"]],
            }
        ]
        euros = client.get("/analytics/overdue_balance", params={"currency": "EUR"})
        assert ok(euros)["overdue_balances"] == []
        retried = client.post(f"/invoices/{invoice['lago_id']}/retry_payment")
        paid = ok(client.get(f"/invoices/{invoice['lago_id']}"))["invoice"]
        assert ok(client.get("/analytics/overdue_balance"))["overdue_balances"] == []
    assert retried.status_code == 200
    assert paid["payment_status"] == "succeeded"
    assert paid["payment_overdue"] is False
    [succeeded] = payloads(lago_standin, "payment.succeeded")
    assert succeeded["payment"]["invoice_ids"] == [invoice["lago_id"]]
    assert succeeded["payment"]["payment_status"] == "succeeded"

    # Every delivered webhook is HMAC-signed over its exact body.
    lago_standin.settle()
    key = lago_standin.hmac_key.encode()
    for request in inbox.requests:
        expected = base64.b64encode(hmac.new(key, request.body, hashlib.sha256).digest())
        assert request.headers["X-Lago-Signature"] == expected.decode()
    delivered = {json.loads(r.body)["webhook_type"] for r in inbox.requests}
    assert {"invoice.payment_overdue", "invoice.payment_failure", "payment.succeeded"} <= delivered


def test_period_boundary_bills_usage_in_arrears_and_the_next_period_in_advance(lago_standin, inbox):
    with lago_standin.client() as client:
        subscribe(client, "pro")
        events = [
            {
                "transaction_id": f"tx{n}",
                "external_subscription_id": "sub_1",
                "code": "api_calls",
            }
            for n in range(3)
        ]
        ok(client.post("/events/batch", json={"events": events}))
        ok(
            client.post(
                "/events",
                json={
                    "event": {
                        "transaction_id": "seat1",
                        "external_subscription_id": "sub_1",
                        "code": "seats",
                        "properties": {"user_id": "u1"},
                    }
                },
            )
        )
        ran = lago_standin.travel_to("2030-02-01T01:00:00Z")
        february, january = invoices(client)
        detail = ok(client.get(f"/invoices/{february['lago_id']}"))["invoice"]
        sub = ok(client.get("/subscriptions/sub_1"))["subscription"]
    billing = [r for r in ran if r["job"] == "bill_customers"]
    assert [r["at"] for r in billing] == ["2030-02-01T00:10:00Z"]
    assert january["total_amount_cents"] == 2058
    fees = {(f["item"]["type"], f["item"]["code"]): f for f in detail["fees"]}
    assert fees[("subscription", "pro")]["amount_cents"] == 2900
    assert fees[("subscription", "pro")]["from_date"] == "2030-02-01T00:00:00Z"
    assert fees[("charge", "seats")]["amount_cents"] == 500
    assert fees[("charge", "seats")]["units"] == "1.0"
    assert fees[("charge", "api_calls")]["events_count"] == 3
    assert fees[("charge", "api_calls")]["amount_cents"] == 0
    assert fees[("charge", "api_calls")]["to_date"] == "2030-01-31T23:59:59Z"
    assert february["total_amount_cents"] == 3400
    assert february["issuing_date"] == "2030-02-01"
    reasons = [p["invoicing_reason"] for p in detail["billing_periods"]]
    assert reasons == ["subscription_periodic", "subscription_periodic"]
    assert sub["current_billing_period_started_at"] == "2030-02-01T00:00:00Z"
    assert sub["current_billing_period_ending_at"] == "2030-02-28T23:59:59Z"


def test_arrears_plan_is_billed_after_the_period_and_a_quarter_jump_bills_each_month(
    lago_standin, inbox
):
    with lago_standin.client() as client:
        plan(client, "arrears", 3100)
        subscribe(client, "arrears")
        assert invoices(client) == []
        ran = lago_standin.travel_to("2030-04-15T00:00:00Z")
        listed = invoices(client)
    billed_at = [r["at"] for r in ran if r["job"] == "bill_customers"]
    assert billed_at == [
        "2030-02-01T00:10:00Z",
        "2030-03-01T00:10:00Z",
        "2030-04-01T00:10:00Z",
    ]
    assert [i["total_amount_cents"] for i in reversed(listed)] == [2200, 3100, 3100]
    assert [i["issuing_date"] for i in reversed(listed)] == [
        "2030-02-01",
        "2030-03-01",
        "2030-04-01",
    ]


def test_downgrade_takes_effect_at_the_boundary_on_an_invoice_of_its_own(lago_standin, inbox):
    with lago_standin.client() as client:
        business = subscribe(client, "business")
        subscribe(client, "pro")
        subscribe(client, "pro", "sub_2")
        ran = lago_standin.travel_to("2030-02-01T00:30:00Z")
        active = ok(client.get("/subscriptions/sub_1"))["subscription"]
        old = ok(client.get("/subscriptions/sub_1", params={"status": "terminated"}))
        february = [i for i in invoices(client) if i["issuing_date"] == "2030-02-01"]
        details = [ok(client.get(f"/invoices/{i['lago_id']}"))["invoice"] for i in february]
    assert [r["job"] for r in ran] == ["bill_customers", "bill_customers"]
    assert active["plan_code"] == "pro"
    assert active["started_at"] == "2030-02-01T00:00:00Z"
    assert active["previous_plan_code"] == "business"
    assert old["subscription"]["lago_id"] == business["lago_id"]
    assert old["subscription"]["terminated_at"] == "2030-02-01T00:00:00Z"
    # After the switch, the old record names its successor and the day it started.
    assert old["subscription"]["next_plan_code"] == "pro"
    assert old["subscription"]["downgrade_plan_date"] == "2030-02-01"
    [switch] = [
        d
        for d in details
        if {p["external_subscription_id"] for p in d["billing_periods"]} == {"sub_1"}
    ]
    reasons = {p["lago_subscription_id"]: p["invoicing_reason"] for p in switch["billing_periods"]}
    assert reasons == {
        business["lago_id"]: "subscription_terminating",
        active["lago_id"]: "subscription_starting",
    }
    plans = {f["item"]["code"] for f in switch["fees"] if f["item"]["type"] == "subscription"}
    assert plans == {"pro"}
    assert switch["total_amount_cents"] == 2900
    assert types(lago_standin, object_type="subscription")[-2:] == [
        "subscription.terminated",
        "subscription.started",
    ]


def test_future_subscription_starts_on_its_day(lago_standin, inbox):
    with lago_standin.client() as client:
        subscribe(client, "pro", subscription_at="2030-01-20T15:00:00Z")
        ran = lago_standin.travel_to("2030-01-21T00:00:00Z")
        sub = ok(client.get("/subscriptions/sub_1"))["subscription"]
        [invoice] = invoices(client)
    # ActivateSubscriptionsJob runs every 5 minutes and looks at the date only.
    assert _jobs(ran) == [("2030-01-20T00:00:00Z", "activate_subscriptions")]
    assert sub["status"] == "active"
    assert sub["started_at"] == "2030-01-20T00:00:00Z"
    assert invoice["total_amount_cents"] == round(2900 * 12 / 31)


def test_ending_at_sends_alerts_then_terminates(lago_standin, inbox):
    with lago_standin.client() as client:
        plan(client, "arrears", 3100)
        subscribe(client, "arrears", ending_at="2030-03-20T12:00:00Z")
        ran = lago_standin.travel_to("2030-03-21T00:00:00Z")
        sub = ok(client.get("/subscriptions/sub_1", params={"status": "terminated"}))
        last = invoices(client)[0]
    alerts = [(r["at"], r["days_before"]) for r in ran if r["job"] == "termination_alert"]
    assert alerts == [("2030-02-03T00:50:00Z", 45), ("2030-03-05T00:50:00Z", 15)]
    terminations = [r["at"] for r in ran if r["job"] == "terminate_ended_subscriptions"]
    assert terminations == ["2030-03-20T00:05:00Z"]
    assert sub["subscription"]["terminated_at"] == "2030-03-20T00:05:00Z"
    assert len(payloads(lago_standin, "subscription.termination_alert")) == 2
    # March 1-20 of an arrears plan: 20 of 31 days.
    assert last["total_amount_cents"] == 2000


def test_scheduled_retries_collect_a_failed_payment(lago_standin, inbox):
    lago_standin.set_payments(
        "acme",
        outcomes=["failed", "failed", "succeeded"],
        retry_after_seconds=86400,
        max_retries=3,
    )
    with lago_standin.client() as client:
        subscribe(client, "pro")
        ran = lago_standin.advance(days=3)
        [invoice] = invoices(client)
        attempts = ok(client.get("/payments"))["payments"]
    retries = [(r["at"], r["payment_status"]) for r in ran if r["job"] == "retry_payments"]
    assert retries == [
        ("2030-01-11T09:45:00Z", "failed"),
        ("2030-01-12T09:45:00Z", "succeeded"),
    ]
    assert invoice["payment_status"] == "succeeded"
    assert invoice["payment_overdue"] is False
    assert [p["payment_status"] for p in attempts] == ["succeeded", "failed", "failed"]
    assert len(payloads(lago_standin, "invoice.payment_failure")) == 2


def test_grace_period_keeps_a_draft_until_it_is_finalized(lago_standin, inbox):
    lago_standin.standin.configure(premium=True)
    try:
        with lago_standin.client() as client:
            ok(
                client.post(
                    "/customers",
                    json={
                        "customer": {
                            "external_id": "acme",
                            "billing_configuration": {"invoice_grace_period": 3},
                        }
                    },
                )
            )
            subscribe(client, "pro")
            [draft] = invoices(client)
            refreshed = ok(client.put(f"/invoices/{draft['lago_id']}/refresh"))["invoice"]
            ran = lago_standin.advance(days=4)
            [final] = invoices(client)
    finally:
        lago_standin.standin.configure(premium=False)
    assert draft["status"] == "draft"
    assert draft["number"].endswith("-DRAFT")
    assert refreshed["status"] == "draft"
    assert ("2030-01-13T00:20:00Z", "finalize_invoices") in _jobs(ran)
    assert final["status"] == "finalized"
    assert final["number"].endswith("-001-001")
    assert types(lago_standin, object_type="invoice")[:2] == ["invoice.drafted", "invoice.created"]


def test_clock_without_running_jobs_and_moving_back(lago_standin, inbox):
    with lago_standin.client() as client:
        subscribe(client, "starter")
    with lago_standin.control() as control:
        quiet = control.post("/clock", json={"advance_seconds": 86400 * 40, "run": False})
        due = control.post("/clock", json={"advance_seconds": 3600}).json()
        back = control.post("/clock", json={"travel_to": "2030-01-01T00:00:00Z"}).json()
    assert quiet.json()["ran"] == []
    # What fell due while the jobs were off runs at their next slots.
    assert {r["job"] for r in due["ran"]} >= {"bill_ended_trial_subscriptions", "bill_customers"}
    assert back["now"].startswith("2030-01-01T00:00")
    assert back["ran"] == []
