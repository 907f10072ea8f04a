"""Subscriptions: create, plan changes, list and get, update, terminate and cancel."""

from __future__ import annotations

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
def seeded(lago_standin, receiver):
    lago_standin.seed()
    lago_standin.travel_to(START)
    with lago_standin.client() as client:
        add_endpoint(client, receiver().url)
        customer(client)
    return lago_standin


def test_create_today_starts_now_and_bills_pay_in_advance(seeded):
    with seeded.client() as client:
        sub = subscribe(client, "pro", name="Main")
        [invoice] = invoices(client)
    assert sub["status"] == "active"
    assert sub["started_at"].startswith(START[:-2])  # the clock ticks on from START
    assert sub["plan"]["code"] == "pro"
    assert sub["plan_amount_cents"] == 2900
    assert sub["current_billing_period_started_at"] == sub["started_at"]
    assert sub["current_billing_period_ending_at"] == "2030-01-31T23:59:59Z"
    assert sub["trial_ended_at"] is None
    assert sub["on_termination_credit_note"] == "credit"
    # 22 of January's 31 days, pay in advance.
    assert invoice["total_amount_cents"] == 2058
    assert invoice["invoice_type"] == "subscription"
    assert types(seeded, object_type="subscription") == ["subscription.started"]


def test_trial_plan_is_not_billed_at_start(seeded):
    with seeded.client() as client:
        sub = subscribe(client, "starter")
        assert invoices(client) == []
    assert sub["status"] == "active"
    assert sub["trial_ended_at"] is None


def test_future_subscription_is_pending_and_past_one_starts_unbilled(seeded):
    with seeded.client() as client:
        future = subscribe(client, "pro", "later", subscription_at="2030-02-15T12:00:00Z")
        past = subscribe(client, "pro", "earlier", subscription_at="2029-12-01T00:00:00Z")
        assert invoices(client) == []
        ran = seeded.travel_to("2030-02-01T01:00:00Z")
        [february] = invoices(client)
    assert future["status"] == "pending"
    assert future["started_at"] is None
    assert future["current_billing_period_started_at"] is None
    assert past["status"] == "active"
    assert past["started_at"] == "2029-12-01T00:00:00Z"
    assert past["current_billing_period_started_at"] == "2030-01-01T00:00:00Z"
    # No catch-up for December: the first invoice is February's, at the next boundary.
    assert [r["job"] for r in ran if r["job"] == "bill_customers"] == ["bill_customers"]
    assert february["issuing_date"] == "2030-02-01"
    assert february["total_amount_cents"] == 2900


def test_unknown_customer_is_created_and_currency_is_set(lago_standin, receiver):
    lago_standin.seed()
    with lago_standin.client() as client:
        add_endpoint(client, receiver().url)
        subscribe(client, "pro", external_customer_id="newcomer")
        created = ok(client.get("/customers/newcomer"))["customer"]
        plan(client, "euro", 1000, amount_currency="EUR")
        mismatch = client.post(
            "/subscriptions",
            json={
                "subscription": {
                    "external_customer_id": "newcomer",
                    "plan_code": "euro",
                    "external_id": "other",
                }
            },
        )
    assert created["currency"] == "USD"
    assert mismatch.status_code == 422
    assert mismatch.json()["error_details"] == {"currency": ["currencies_does_not_match"]}
    assert "customer.created" not in types(lago_standin)


@pytest.mark.parametrize(
    ("fields", "status", "expected"),
    [
        ({"plan_code": "nope"}, 404, {"code": "plan_not_found"}),
        (
            {"ending_at": "2030-01-10T10:00:00Z"},
            422,
            {"error_details": {"ending_at": ["invalid_date"]}},
        ),
        (
            {
                "payment_method": {
                    "payment_method_type": "provider",
                    "payment_method_id": "1a901a90-1a90-1a90-1a90-1a901a901a90",
                }
            },
            422,
            {"error_details": {"payment_method": ["invalid_payment_method"]}},
        ),
    ],
    ids=["unknown-plan", "ending-today", "foreign-payment-method"],
)
def test_create_errors(seeded, fields, status, expected):
    body = {"external_customer_id": "acme", "plan_code": "pro", "external_id": "s"} | fields
    with seeded.client() as client:
        reply = client.post("/subscriptions", json={"subscription": body})
    assert reply.status_code == status
    assert expected.items() <= reply.json().items()


def test_external_id_of_another_customers_active_subscription_is_taken(seeded):
    with seeded.client() as client:
        subscribe(client, "pro", "shared")
        customer(client, "other")
        reply = client.post(
            "/subscriptions",
            json={
                "subscription": {
                    "external_customer_id": "other",
                    "plan_code": "pro",
                    "external_id": "shared",
                }
            },
        )
    assert reply.status_code == 422
    assert reply.json()["error_details"] == {"external_id": ["value_already_exist"]}


def test_same_plan_returns_the_subscription_unchanged(seeded):
    with seeded.client() as client:
        first = subscribe(client, "pro")
        again = subscribe(client, "pro", name="ignored")
    assert again["lago_id"] == first["lago_id"]
    assert again["name"] is None


def test_upgrade_starts_the_new_plan_now_with_credit_note_and_one_invoice(seeded):
    with seeded.client() as client:
        pro = subscribe(client, "pro")
        seeded.advance(days=5)
        business = subscribe(client, "business")
        old = ok(client.get("/subscriptions/sub_1", params={"status": "terminated"}))
        notes = ok(client.get("/credit_notes"))["credit_notes"]
        upgrade_invoice, first_invoice = invoices(client)
    assert business["lago_id"] != pro["lago_id"]
    assert business["status"] == "active"
    assert business["previous_plan_code"] == "pro"
    assert old["subscription"]["lago_id"] == pro["lago_id"]
    assert old["subscription"]["terminated_at"] == business["started_at"]
    # Pro paid Jan 10-31; credited from the upgrade day: 17 days at 2900/31.
    [note] = notes
    assert note["lago_invoice_id"] == first_invoice["lago_id"]
    assert note["reason"] == "order_change"
    assert note["total_amount_cents"] == round(2900 * 17 / 31)
    # Business Jan 15-31 (17 days of 9900/31), minus the credit note.
    expected = round(9900 * 17 / 31)
    assert upgrade_invoice["fees_amount_cents"] == expected
    assert upgrade_invoice["credit_notes_amount_cents"] == note["total_amount_cents"]
    assert upgrade_invoice["total_amount_cents"] == expected - note["total_amount_cents"]
    sub_types = types(seeded, object_type="subscription")
    assert sub_types == ["subscription.started", "subscription.terminated", "subscription.started"]
    assert "credit_note.created" in types(seeded)
    # Lago bills both as `upgrading`, stored per subscription as terminating and starting.
    with seeded.client() as client:
        detail = ok(client.get(f"/invoices/{upgrade_invoice['lago_id']}"))["invoice"]
    reasons = {p["lago_subscription_id"]: p["invoicing_reason"] for p in detail["billing_periods"]}
    assert reasons == {
        pro["lago_id"]: "subscription_terminating",
        business["lago_id"]: "subscription_starting",
    }
    # next_subscription is any successor that is not canceled: the old record shows the new plan.
    assert old["subscription"]["next_plan_code"] == "business"
    assert old["subscription"]["downgrade_plan_date"] is None
    [terminated] = payloads(seeded, "subscription.terminated")
    assert terminated["subscription"]["next_plan_code"] == "business"


def test_downgrade_is_scheduled_for_the_end_of_the_period(seeded):
    with seeded.client() as client:
        current = subscribe(client, "business")
        reply = subscribe(client, "pro")
        pending = ok(client.get("/subscriptions/sub_1", params={"status": "pending"}))
        listed = ok(client.get("/subscriptions", params={"status[]": ["active", "pending"]}))[
            "subscriptions"
        ]
    assert reply["lago_id"] == current["lago_id"]
    assert reply["plan_code"] == "business"
    assert reply["next_plan_code"] == "pro"
    assert reply["downgrade_plan_date"] == "2030-02-01"
    assert pending["subscription"]["plan_code"] == "pro"
    assert pending["subscription"]["status"] == "pending"
    assert {s["status"] for s in listed} == {"active", "pending"}
    [updated] = payloads(seeded, "subscription.updated")
    assert updated["subscription"]["next_plan_code"] == "pro"
    assert updated["subscription"]["customer"]["external_id"] == "acme"


def test_second_downgrade_cancels_the_first_and_an_upgrade_cancels_it_too(seeded):
    with seeded.client() as client:
        subscribe(client, "business")
        subscribe(client, "pro")
        second = subscribe(client, "starter")
        upgraded = subscribe(client, "business")
        canceled = ok(client.get("/subscriptions", params={"status[]": "canceled"}))[
            "subscriptions"
        ]
    assert second["next_plan_code"] == "starter"
    # Same plan as the current one: nothing changes, the pending downgrade stays.
    assert upgraded["next_plan_code"] == "starter"
    assert [s["plan_code"] for s in canceled] == ["pro"]
    assert canceled[0]["canceled_at"] is not None
    # The replaced downgrade is canceled silently: only the current one is said to change.
    assert types(seeded, object_type="subscription") == [
        "subscription.started",
        "subscription.updated",
        "subscription.updated",
    ]


def test_an_upgrade_cancels_a_pending_downgrade_without_a_webhook(seeded):
    with seeded.client() as client:
        pro = subscribe(client, "pro")
        subscribe(client, "starter")
        business = subscribe(client, "business")
        canceled = ok(client.get("/subscriptions", params={"status[]": "canceled"}))
        old = ok(client.get("/subscriptions/sub_1", params={"status": "terminated"}))
    assert [s["plan_code"] for s in canceled["subscriptions"]] == ["starter"]
    assert old["subscription"]["lago_id"] == pro["lago_id"]
    assert old["subscription"]["next_plan_code"] == "business"
    assert business["previous_plan_code"] == "pro"
    assert business["next_plan_code"] is None
    assert types(seeded, object_type="subscription") == [
        "subscription.started",
        "subscription.updated",
        "subscription.terminated",
        "subscription.started",
    ]


def test_pending_subscription_plan_is_swapped_in_place(seeded):
    with seeded.client() as client:
        pending = subscribe(client, "pro", subscription_at="2030-03-01T00:00:00Z")
        swapped = subscribe(client, "starter")
    assert swapped["lago_id"] == pending["lago_id"]
    assert swapped["plan_code"] == "starter"
    assert swapped["status"] == "pending"


def test_list_filters_and_customer_route(seeded):
    with seeded.client() as client:
        customer(client, "other")
        subscribe(client, "pro", "a")
        subscribe(client, "business", "b")
        subscribe(client, "pro", "c", external_customer_id="other")
        ok(client.delete("/subscriptions/b"))

        def ids(path="/subscriptions", **params):
            return sorted(
                s["external_id"] for s in ok(client.get(path, params=params))["subscriptions"]
            )

        assert ids() == ["a", "c"]
        assert ids(external_customer_id="acme") == ["a"]
        assert ids(plan_code="pro") == ["a", "c"]
        assert ids(**{"status[]": ["terminated"]}) == ["b"]
        assert ids(**{"status[]": ["active", "terminated"]}, external_customer_id="acme") == [
            "a",
            "b",
        ]
        assert ids("/customers/other/subscriptions") == ["c"]
        page = ok(client.get("/subscriptions", params={"per_page": 1}))
    assert page["meta"]["total_count"] == 2
    assert page["meta"]["next_page"] == 2


def test_get_by_status_and_404(seeded):
    with seeded.client() as client:
        subscribe(client, "pro")
        assert ok(client.get("/subscriptions/sub_1"))["subscription"]["status"] == "active"
        missing = client.get("/subscriptions/sub_1", params={"status": "pending"})
        unknown = client.get("/subscriptions/nobody")
    assert missing.status_code == 404
    assert unknown.json() == {"status": 404, "error": "Not Found", "code": "subscription_not_found"}


def test_update_name_and_ending_at(seeded):
    with seeded.client() as client:
        subscribe(client, "pro")
        updated = ok(
            client.put(
                "/subscriptions/sub_1",
                json={"subscription": {"name": "Renamed", "ending_at": "2030-06-30T00:00:00Z"}},
            )
        )["subscription"]
        bad = client.put(
            "/subscriptions/sub_1", json={"subscription": {"ending_at": "2029-01-01T00:00:00Z"}}
        )
    assert updated["name"] == "Renamed"
    assert updated["ending_at"] == "2030-06-30T00:00:00Z"
    assert bad.status_code == 422
    assert payloads(seeded, "subscription.updated")[0]["subscription"]["name"] == "Renamed"


def test_update_pending_start_to_today_activates_it(seeded):
    with seeded.client() as client:
        subscribe(client, "pro", subscription_at="2030-03-01T00:00:00Z")
        started = ok(
            client.put(
                "/subscriptions/sub_1",
                params={"status": "pending"},
                json={"subscription": {"ending_at": None, "subscription_at": START}},
            )
        )["subscription"]
    assert started["status"] == "active"
    assert types(seeded, object_type="subscription") == [
        "subscription.started",
        "subscription.updated",
    ]


def test_terminate_arrears_plan_bills_the_used_part(seeded):
    with seeded.client() as client:
        plan(client, "monthly_arrears", 3100)
        subscribe(client, "monthly_arrears")
        seeded.advance(days=10)
        terminated = ok(client.delete("/subscriptions/sub_1"))["subscription"]
        [invoice] = invoices(client)
        again = client.delete("/subscriptions/sub_1")
        detail = ok(client.get(f"/invoices/{invoice['lago_id']}"))["invoice"]
    assert terminated["status"] == "terminated"
    assert terminated["terminated_at"].startswith("2030-01-20T09:00:0")  # the clock ticks on
    assert terminated["current_billing_period_ending_at"] == terminated["terminated_at"]
    # Jan 10-20 is 11 days of 3100/31.
    assert invoice["total_amount_cents"] == 1100
    assert detail["billing_periods"][0]["invoicing_reason"] == "subscription_terminating"
    assert again.status_code == 404
    [webhook] = payloads(seeded, "subscription.terminated")
    assert webhook["subscription"]["plan"]["code"] == "monthly_arrears"


@pytest.mark.parametrize(
    ("option", "refund_expected"), [("credit", False), ("refund", True), ("skip", None)]
)
def test_terminate_pay_in_advance_credit_note_options(seeded, option, refund_expected):
    with seeded.client() as client:
        subscribe(client, "pro")
        seeded.advance(days=1)
        ok(client.delete("/subscriptions/sub_1", params={"on_termination_credit_note": option}))
        notes = ok(client.get("/credit_notes"))["credit_notes"]
        sub = ok(client.get("/subscriptions/sub_1", params={"status": "terminated"}))
    assert sub["subscription"]["on_termination_credit_note"] == option
    if refund_expected is None:
        assert notes == []
        return
    [note] = notes
    assert note["reason"] == "order_cancellation"
    assert note["total_amount_cents"] == round(2900 * 20 / 31)
    assert (note["refund_amount_cents"] > 0) is refund_expected
    assert note["credit_amount_cents"] + note["refund_amount_cents"] == note["total_amount_cents"]


def test_terminate_without_invoice(seeded):
    with seeded.client() as client:
        plan(client, "monthly_arrears", 3100)
        subscribe(client, "monthly_arrears")
        ok(client.delete("/subscriptions/sub_1", params={"on_termination_invoice": "skip"}))
        assert invoices(client) == []


def test_cancel_pending_with_status_pending(seeded):
    with seeded.client() as client:
        subscribe(client, "pro", subscription_at="2030-05-01T00:00:00Z")
        not_active = client.delete("/subscriptions/sub_1")
        canceled = ok(client.delete("/subscriptions/sub_1", params={"status": "pending"}))
    assert not_active.status_code == 404
    assert canceled["subscription"]["status"] == "canceled"
    assert canceled["subscription"]["canceled_at"] is not None
    # TerminateService on a pending subscription: canceled, and said with `terminated`.
    assert types(seeded, object_type="subscription") == ["subscription.terminated"]
    [webhook] = payloads(seeded, "subscription.terminated")
    assert webhook["subscription"]["status"] == "canceled"


def test_undoing_a_downgrade_updates_the_current_one_then_terminates_the_pending_one(seeded):
    with seeded.client() as client:
        current = subscribe(client, "business")
        subscribe(client, "pro")
        pending = ok(client.get("/subscriptions/sub_1", params={"status": "pending"}))
        undone = ok(client.delete("/subscriptions/sub_1", params={"status": "pending"}))
        after = ok(client.get("/subscriptions/sub_1"))["subscription"]
    assert undone["subscription"]["lago_id"] == pending["subscription"]["lago_id"]
    assert undone["subscription"]["status"] == "canceled"
    assert (after["next_plan_code"], after["downgrade_plan_date"]) == (None, None)
    assert types(seeded, object_type="subscription") == [
        "subscription.started",
        "subscription.updated",
        "subscription.updated",
        "subscription.terminated",
    ]
    updated = payloads(seeded, "subscription.updated")[-1]["subscription"]
    assert (updated["lago_id"], updated["next_plan_code"]) == (current["lago_id"], None)
    [terminated] = payloads(seeded, "subscription.terminated")
    assert terminated["subscription"]["lago_id"] == pending["subscription"]["lago_id"]
    assert terminated["subscription"]["status"] == "canceled"


def test_terminating_an_active_subscription_cancels_its_pending_downgrade(seeded):
    with seeded.client() as client:
        subscribe(client, "business")
        subscribe(client, "pro")
        ok(client.delete("/subscriptions/sub_1"))
        assert client.get("/subscriptions/sub_1", params={"status": "pending"}).status_code == 404
        canceled = ok(client.get("/subscriptions", params={"status[]": "canceled"}))
    assert [s["plan_code"] for s in canceled["subscriptions"]] == ["pro"]
    assert types(seeded, object_type="subscription") == [
        "subscription.started",
        "subscription.updated",
        "subscription.terminated",
    ]
    [terminated] = payloads(seeded, "subscription.terminated")
    assert terminated["subscription"]["plan_code"] == "business"
    assert terminated["subscription"]["next_plan_code"] is None


def test_put_keeps_the_termination_options_and_the_end_uses_them(seeded):
    with seeded.client() as client:
        subscribe(client, "pro")
        options = {"on_termination_credit_note": "skip", "on_termination_invoice": "skip"}
        updated = ok(
            client.put(
                "/subscriptions/sub_1",
                json={"subscription": options | {"ending_at": "2030-03-15T12:00:00Z"}},
            )
        )["subscription"]
        bad = client.put(
            "/subscriptions/sub_1",
            json={"subscription": {"ending_at": None, "on_termination_credit_note": "maybe"}},
        )
        seeded.travel_to("2030-03-16T00:00:00Z")
        ended = ok(client.get("/subscriptions/sub_1", params={"status": "terminated"}))
        notes = ok(client.get("/credit_notes"))["credit_notes"]
        reasons = [
            p["invoicing_reason"]
            for i in invoices(client)
            for p in ok(client.get(f"/invoices/{i['lago_id']}"))["invoice"]["billing_periods"]
        ]
    assert (updated["on_termination_credit_note"], updated["on_termination_invoice"]) == (
        "skip",
        "skip",
    )
    assert bad.status_code == 422
    assert bad.json()["error_details"] == {"on_termination_credit_note": ["invalid_value"]}
    assert ended["subscription"]["terminated_at"].startswith("2030-03-15")
    assert ended["subscription"]["on_termination_credit_note"] == "skip"
    assert notes == []
    assert "subscription_terminating" not in reasons


def test_delete_takes_the_termination_options_as_query_parameters(seeded):
    with seeded.client() as client:
        plan(client, "monthly_arrears", 3100)
        subscribe(client, "monthly_arrears")
        skip = {"ending_at": None, "on_termination_invoice": "skip"}
        ok(client.put("/subscriptions/sub_1", json={"subscription": skip}))
        arrears = ok(client.get("/subscriptions/sub_1"))["subscription"]
        seeded.advance(days=3)
        ok(client.delete("/subscriptions/sub_1", params={"on_termination_invoice": "generate"}))
        [invoice] = invoices(client)
    # A pay-in-arrears plan has no credit note to choose.
    assert arrears["on_termination_credit_note"] is None
    assert arrears["on_termination_invoice"] == "skip"
    assert invoice["total_amount_cents"] == 400  # Jan 10-13: 4 days of 3100/31


def test_ending_at_must_be_after_today_and_null_undoes_it(seeded):
    with seeded.client() as client:
        subscribe(client, "pro")
        today = client.put(
            "/subscriptions/sub_1", json={"subscription": {"ending_at": "2030-01-10T23:00:00Z"}}
        )
        ok(
            client.put(
                "/subscriptions/sub_1", json={"subscription": {"ending_at": "2030-02-10T00:00:00Z"}}
            )
        )
        undone = ok(client.put("/subscriptions/sub_1", json={"subscription": {"ending_at": None}}))
        seeded.travel_to("2030-02-11T00:00:00Z")
        still = ok(client.get("/subscriptions/sub_1"))["subscription"]
    assert today.status_code == 422
    assert today.json()["error_details"] == {"ending_at": ["invalid_date"]}
    assert undone["subscription"]["ending_at"] is None
    assert still["status"] == "active"


def test_consolidate_invoice_defaults_to_true_and_false_bills_on_its_own(seeded):
    with seeded.client() as client:
        plan(client, "arrears_a", 3100)
        plan(client, "arrears_b", 6200)
        together = subscribe(client, "arrears_a", "a")
        subscribe(client, "arrears_b", "b")
        alone = subscribe(client, "pro", "c", consolidate_invoice=False)
        seeded.travel_to("2030-02-01T01:00:00Z")
        february = [i for i in invoices(client) if i["issuing_date"] == "2030-02-01"]
        billed = [
            sorted({p["external_subscription_id"] for p in i["billing_periods"]})
            for i in (ok(client.get(f"/invoices/{i['lago_id']}"))["invoice"] for i in february)
        ]
    assert together["consolidate_invoice"] is True
    assert alone["consolidate_invoice"] is False
    assert sorted(billed) == [["a", "b"], ["c"]]


def test_the_trial_counts_from_the_first_start_across_plan_changes(seeded):
    with seeded.client() as client:
        plan(client, "team", 1900, pay_in_advance=True, trial_period=14)
        plan(client, "crew", 2900, pay_in_advance=True, trial_period=14)
        subscribe(client, "starter")
        seeded.advance(days=5)
        team = subscribe(client, "team")
        # Still in the trial that started on Jan 10: nothing to pay for either plan.
        assert [i["total_amount_cents"] for i in invoices(client)] == [0]
        seeded.advance(days=10)
        ended = ok(client.get("/subscriptions/sub_1"))["subscription"]
        crew = subscribe(client, "crew")
        [upgrade_invoice, *_] = invoices(client)
        detail = ok(client.get(f"/invoices/{upgrade_invoice['lago_id']}"))["invoice"]
    assert team["trial_ended_at"] is None
    assert ended["trial_ended_at"] == "2030-01-24T09:00:00Z"
    # Crew's own 14 days are not restarted: it is billed from the upgrade on.
    fees = [f for f in detail["fees"] if f["item"]["type"] == "subscription"]
    assert [f["item"]["code"] for f in fees] == ["crew"]
    assert fees[0]["from_date"] == crew["started_at"]
