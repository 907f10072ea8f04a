"""POST /invoices/preview: what a new subscription, a plan change, a termination or the next
period would invoice, without storing anything; and a free Lago's refusals."""

from __future__ import annotations

import pytest

from .billing_helpers import START, customer, invoices, ok, subscribe, types

FORBIDDEN = {"status": 403, "error": "Forbidden", "code": "feature_unavailable"}
MISSING = {"status": 405, "error": "Method Not Allowed", "code": "premium_integration_missing"}


@pytest.fixture
def acme(lago_standin):
    """Acme on Pro ($29 a month in advance) since START, on a premium Lago."""
    lago_standin.seed()
    lago_standin.travel_to(START)
    lago_standin.standin.configure(premium=True)
    with lago_standin.client() as client:
        customer(client)
        subscribe(client, "pro")
    yield lago_standin
    lago_standin.standin.configure(premium=False, premium_integrations=["preview"])


def preview(client, **body):
    return client.post("/invoices/preview", json={"customer": {"external_id": "acme"}} | body)


def change(client, plan_code=None, **extra):
    wanted = {"external_ids": ["sub_1"]} | ({"plan_code": plan_code} if plan_code else {})
    return preview(client, subscriptions=wanted | extra)


def fees(invoice):
    return {(f["item"]["type"], f["item"]["code"]): f["amount_cents"] for f in invoice["fees"]}


def test_preview_stores_nothing_and_sends_no_webhook(acme):
    before = types(acme)
    with acme.client() as client:
        ok(change(client, "business"))
        ok(preview(client, plan_code="starter"))
        assert len(invoices(client)) == 1
        assert ok(client.get("/subscriptions/sub_1"))["subscription"]["plan_code"] == "pro"
        assert ok(client.get("/credit_notes"))["credit_notes"] == []
    assert types(acme) == before


def test_proposal_bills_the_rest_of_the_first_period(acme):
    with acme.client() as client:
        invoice = ok(preview(client, plan_code="business"))["invoice"]
    # 22 of January's 31 days of $99, in advance; a new subscription has no usage yet.
    assert fees(invoice) == {("subscription", "business"): 7026}
    assert (invoice["lago_id"], invoice["number"], invoice["issuing_date"]) == (
        None,
        "",
        "2030-01-10",
    )
    [sub] = invoice["subscriptions"]
    assert (sub["lago_id"], sub["plan_code"], sub["status"]) == (None, "business", "active")
    assert invoice["total_amount_cents"] == 7026


def test_upgrade_ends_now_and_credits_the_unused_paid_days(acme):
    with acme.client() as client:
        invoice = ok(change(client, "business"))["invoice"]
    assert fees(invoice) == {
        ("subscription", "business"): 7026,
        ("charge", "api_calls"): 0,
        ("charge", "seats"): 0,
    }
    old, new = invoice["subscriptions"]
    assert (old["plan_code"], old["status"], old["next_plan_code"]) == (
        "pro",
        "terminated",
        "business",
    )
    assert (new["plan_code"], new["started_at"], new["previous_plan_code"]) == (
        "business",
        START,
        "pro",
    )
    [credit] = invoice["credits"]
    # Pro was paid for 22 days (2058); from the upgrade day on, all of it is unused.
    assert credit["amount_cents"] == invoice["credit_notes_amount_cents"] == 2058
    assert invoice["total_amount_cents"] == 7026 - 2058
    assert invoice["issuing_date"] == "2030-01-10"


def test_downgrade_waits_for_the_period_end(acme):
    with acme.client() as client:
        advance = ok(change(client, "starter"))["invoice"]
        ok(
            client.post(
                "/plans",
                json={
                    "plan": {
                        "name": "Lite",
                        "code": "lite",
                        "interval": "monthly",
                        "amount_cents": 500,
                        "amount_currency": "USD",
                        "pay_in_advance": False,
                    }
                },
            )
        )
        arrears = ok(change(client, "lite"))["invoice"]
    assert advance["issuing_date"] == "2030-02-01"
    assert fees(advance)[("subscription", "starter")] == 900
    assert advance["credits"] == []
    assert [s["plan_code"] for s in advance["subscriptions"]] == ["pro", "starter"]
    # A new plan in arrears is billed later: only the current subscription is previewed.
    assert [s["plan_code"] for s in arrears["subscriptions"]] == ["pro"]
    assert ("subscription", "lite") not in fees(arrears)


def test_termination_and_projection(acme):
    with acme.client() as client:
        ended = ok(change(client, terminated_at="2030-01-20T00:00:00Z"))["invoice"]
        past = change(client, terminated_at="2030-01-01T00:00:00Z")
        upcoming = ok(change(client))["invoice"]
    [sub] = ended["subscriptions"]
    assert (sub["status"], sub["terminated_at"]) == ("terminated", "2030-01-20T00:00:00Z")
    assert ("subscription", "pro") not in fees(ended)
    assert ended["issuing_date"] == "2030-01-20"
    assert past.json()["error_details"] == {"terminated_at": ["cannot_be_in_past"]}
    assert upcoming["issuing_date"] == "2030-02-01"
    assert fees(upcoming)[("subscription", "pro")] == 2900


def test_refusals(acme):
    with acme.client() as client:
        subscribe(client, "starter", "sub_2")
        same = change(client, "pro")
        unknown_plan = change(client, "platinum")
        proposal_unknown_plan = preview(client, plan_code="platinum")
        unknown_customer = client.post(
            "/invoices/preview", json={"customer": {"external_id": "ghost"}, "plan_code": "pro"}
        )
        unknown_sub = preview(client, subscriptions={"external_ids": ["nope"]})
        two = preview(
            client, subscriptions={"external_ids": ["sub_1", "sub_2"], "plan_code": "business"}
        )
    assert same.status_code == 422
    assert same.json()["error_details"] == {
        "base": ["new_plan_should_be_different_from_existing_plan"]
    }
    assert unknown_plan.json()["code"] == proposal_unknown_plan.json()["code"] == "plan_not_found"
    assert unknown_customer.json()["code"] == "customer_not_found"
    assert unknown_sub.json()["code"] == "subscription_not_found"
    assert two.json()["error_details"] == {
        "subscriptions": ["only_one_subscription_allowed_for_plan_change"]
    }


def test_a_free_lago_refuses_previews(acme):
    acme.standin.configure(premium=False)
    with acme.client() as client:
        proposal = preview(client, plan_code="business")
        upgrade = change(client, "business")
        # The context is checked first: a wrong plan is still a 404.
        unknown_plan = change(client, "platinum")
    assert (proposal.status_code, proposal.json()) == (403, FORBIDDEN)
    assert (upgrade.status_code, upgrade.json()) == (403, FORBIDDEN)
    assert unknown_plan.status_code == 404


def test_without_the_preview_integration_only_new_subscriptions_are_previewed(acme):
    with acme.control() as control:
        assert control.put("/config", json={"premium_integrations": []}).status_code == 200
    with acme.client() as client:
        proposal = preview(client, plan_code="business")
        upgrade = change(client, "business")
        projection = change(client)
    assert proposal.status_code == 200
    assert (upgrade.status_code, upgrade.json()) == (405, MISSING)
    assert (projection.status_code, projection.json()) == (405, MISSING)
