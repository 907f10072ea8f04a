"""Coupons and applied coupons: Lago's rules for applying them, and their credits on invoices."""

from __future__ import annotations

import pytest

from .billing_helpers import (
    START,
    add_endpoint,
    coupon_body,
    customer,
    invoices,
    ok,
    percentage_terms,
    subscribe,
)

FEB = "2030-02-01T01:00:00Z"  # Pro renews: the February period billed in advance ($29.00)
MAR = "2030-03-01T01:00:00Z"


@pytest.fixture
def acme(lago_standin, receiver):
    """The demo plans, Acme and Globex (both with a card), a webhook endpoint."""
    lago_standin.seed()
    lago_standin.travel_to(START)
    with lago_standin.client() as client:
        for external_id in ("acme", "globex"):
            customer(client, external_id)
        add_endpoint(client, receiver().url)
    return lago_standin


def coupon(client, code: str, **fields):
    return ok(client.post("/coupons", json={"coupon": coupon_body(code, **fields)}))["coupon"]


def apply(client, code: str, external_customer_id: str = "acme", **overrides):
    body = {"external_customer_id": external_customer_id, "coupon_code": code} | overrides
    return client.post("/applied_coupons", json={"applied_coupon": body})


def applied(client, external_customer_id: str = "acme", **params):
    path = f"/customers/{external_customer_id}/applied_coupons"
    return ok(client.get(path, params=params))["applied_coupons"]


def coupon_credits(invoice) -> list[tuple[str, int]]:
    return [(c["item"]["code"], c["amount_cents"]) for c in invoice["credits"]]


def latest_subscription_invoice(client):
    return ok(
        client.get(f"/invoices/{invoices(client, invoice_type='subscription')[0]['lago_id']}")
    )["invoice"]


def january_then_february(acme, client):
    """Subscribe Acme to Pro, then renew: each invoice and Acme's one applied coupon after it."""
    subscribe(client, "pro")
    january = latest_subscription_invoice(client)
    [after_january] = applied(client)
    acme.travel_to(FEB)
    february = latest_subscription_invoice(client)
    [after_february] = applied(client)
    return january, after_january, february, after_february


def test_the_catalogue_and_its_rules(acme):
    with acme.client() as client:
        made = coupon(client, "welcome", description="Ten dollars off")
        again = client.post(
            "/coupons",
            json={
                "coupon": {
                    "name": "Twice",
                    "code": "welcome",
                    "coupon_type": "percentage",
                    "frequency": "recurring",
                    "expiration": "no_expiration",
                }
            },
        )
        coupon(client, "later", expiration="time_limit", expiration_at="2030-06-01T00:00:00Z")
        coupon(client, "sooner", expiration="time_limit", expiration_at="2030-05-01T00:00:00Z")
        coupon(client, "newer")
        listed = ok(client.get("/coupons"))
        fetched = ok(client.get("/coupons/welcome"))["coupon"]
        missing = client.get("/coupons/nope")
    assert made["reusable"] is True and made["percentage_rate"] is None
    assert again.status_code == 422
    assert again.json()["error_details"] == {
        "percentage_rate": ["value_is_mandatory"],
        "frequency_duration": ["value_is_mandatory"],
        "code": ["value_already_exist"],
    }
    # Active first, those without expiry first, then the nearest expiry, then the newest.
    assert [c["code"] for c in listed["coupons"]] == ["newer", "welcome", "sooner", "later"]
    assert listed["meta"]["total_count"] == 4
    assert fetched == made
    assert missing.status_code == 404 and missing.json()["code"] == "coupon_not_found"


def test_applying_follows_lago_s_rules(acme):
    with acme.client() as client:
        coupon(client, "once_only", reusable=False)
        coupon(client, "reusable")
        coupon(
            client,
            "spring",
            coupon_type="percentage",
            percentage_rate="12.5",
            amount_cents=None,
            amount_currency=None,
            expiration="time_limit",
            expiration_at="2030-01-20T00:00:00Z",
        )
        first = apply(client, "once_only")
        second = apply(client, "once_only")
        reused = [apply(client, "reusable").status_code for _ in range(2)]
        nobody = apply(client, "reusable", "nobody")
        unknown = apply(client, "nope")
        overridden = ok(apply(client, "reusable", "globex", amount_cents=250, frequency="forever"))
        spring = ok(apply(client, "spring"))["applied_coupon"]
        acme.travel_to("2030-01-21T00:00:00Z")
        expired = apply(client, "spring", "globex")
        spring_now = ok(client.get("/coupons/spring"))["coupon"]
        bad = apply(client, "reusable", frequency="recurring")
    assert first.status_code == 200
    body = first.json()["applied_coupon"]
    assert body["coupon_code"] == "once_only" and body["status"] == "active"
    assert body["amount_cents"] == 1000 and body["amount_cents_remaining"] == 1000
    assert body["frequency"] == "once" and body["external_customer_id"] == "acme"
    assert second.status_code == 422
    assert second.json()["error_details"] == {"coupon": ["coupon_is_not_reusable"]}
    assert reused == [200, 200]
    assert nobody.status_code == 404 and nobody.json()["code"] == "customer_not_found"
    assert unknown.status_code == 404 and unknown.json()["code"] == "coupon_not_found"
    assert overridden["applied_coupon"]["amount_cents"] == 250
    assert overridden["applied_coupon"]["frequency"] == "forever"
    assert overridden["applied_coupon"]["amount_cents_remaining"] is None
    assert spring["percentage_rate"] == "12.5" and spring["amount_cents"] is None
    assert spring["expiration_at"] == "2030-01-20T00:00:00Z"
    # Past its time limit the coupon is terminated: no new customer gets it.
    assert expired.status_code == 404 and expired.json()["code"] == "coupon_not_found"
    assert spring_now["terminated_at"] == "2030-01-20T00:00:00Z"
    assert bad.status_code == 422
    assert bad.json()["error_details"] == {"frequency_duration": ["value_is_mandatory"]}


def test_an_amount_once_is_used_across_invoices_until_spent(acme):
    with acme.client() as client:
        coupon(client, "big", amount_cents=5000)
        ok(apply(client, "big"))
        first, during, second, after = january_then_february(acme, client)
    # January from the 10th, prorated: $20.58, all of it paid by the coupon.
    assert first["fees_amount_cents"] == 2058
    assert first["coupons_amount_cents"] == 2058
    assert first["sub_total_excluding_taxes_amount_cents"] == 0
    assert first["total_amount_cents"] == 0
    assert coupon_credits(first) == [("big", 2058)]
    assert first["credits"][0]["item"]["type"] == "coupon"
    assert during["status"] == "active" and during["amount_cents_remaining"] == 2942
    assert [c["amount_cents"] for c in during["credits"]] == [2058]
    assert during["credits"][0]["invoice"]["lago_id"] == first["lago_id"]
    # February: what is left of the $50.00.
    assert second["fees_amount_cents"] == 2900
    assert coupon_credits(second) == [("big", 2900)]
    assert second["coupons_amount_cents"] == 2900
    assert after["amount_cents_remaining"] == 42
    assert after["status"] == "active"


def test_a_recurring_percentage_counts_its_periods_down(acme):
    with acme.client() as client:
        coupon(client, "tenth", **percentage_terms("10", 2))
        ok(apply(client, "tenth"))
        january, after_one, february, after_two = january_then_february(acme, client)
        acme.travel_to(MAR)
        march = latest_subscription_invoice(client)
        active = applied(client, status="active")
    assert coupon_credits(january) == [("tenth", 206)]  # 10 % of $20.58, rounded
    assert january["total_amount_cents"] == 2058 - 206
    assert after_one["frequency_duration_remaining"] == 1 and after_one["status"] == "active"
    assert coupon_credits(february) == [("tenth", 290)]
    assert after_two["frequency_duration_remaining"] == 0
    assert after_two["status"] == "terminated"
    assert coupon_credits(march) == [] and march["coupons_amount_cents"] == 0
    assert march["total_amount_cents"] == 2900
    assert active == []


def test_forever_coupons_stay_and_removal_ends_them(acme):
    with acme.client() as client:
        coupon(client, "five", amount_cents=500, frequency="forever")
        coupon(client, "ten", amount_cents=1000)
        five = ok(apply(client, "five"))["applied_coupon"]
        ten_for_globex = ok(apply(client, "ten", "globex"))["applied_coupon"]
        subscribe(client, "pro")
        acme.travel_to(FEB)
        february = latest_subscription_invoice(client)
        not_theirs = client.delete(f"/customers/acme/applied_coupons/{ten_for_globex['lago_id']}")
        removed = ok(client.delete(f"/customers/acme/applied_coupons/{five['lago_id']}"))
        acme.travel_to(MAR)
        march = latest_subscription_invoice(client)
        by_code = ok(client.get("/applied_coupons", params={"coupon_code[]": ["ten"]}))
        terminated = applied(client, status="terminated")
    assert coupon_credits(february) == [("five", 500)]
    assert february["total_amount_cents"] == 2400
    assert not_theirs.status_code == 404
    assert not_theirs.json()["code"] == "applied_coupon_not_found"
    assert removed["applied_coupon"]["status"] == "terminated"
    assert removed["applied_coupon"]["terminated_at"] is not None
    assert coupon_credits(march) == []
    assert [a["external_customer_id"] for a in by_code["applied_coupons"]] == ["globex"]
    assert [a["coupon_code"] for a in terminated] == ["five"]


def test_updating_a_coupon_keeps_the_terms_once_applied(acme):
    with acme.client() as client:
        coupon(client, "summer")
        before = ok(
            client.put("/coupons/summer", json={"coupon": {"amount_cents": 1500, "name": "Sun"}})
        )["coupon"]
        ok(apply(client, "summer"))
        after = ok(
            client.put(
                "/coupons/summer",
                json={"coupon": {"amount_cents": 9900, "description": "Warm days"}},
            )
        )["coupon"]
        bad = client.put("/coupons/summer", json={"coupon": {"name": ""}})
        missing = client.put("/coupons/winter", json={"coupon": {"name": "Cold"}})
    assert (before["amount_cents"], before["name"]) == (1500, "Sun")
    assert (after["amount_cents"], after["description"]) == (1500, "Warm days")
    assert bad.status_code == 422 and bad.json()["error_details"] == {
        "name": ["value_is_mandatory"]
    }
    assert missing.status_code == 404 and missing.json()["code"] == "coupon_not_found"


def test_voiding_an_invoice_gives_the_coupon_back(acme):
    acme.set_payments("acme", outcomes=["failed"])
    with acme.client() as client:
        coupon(client, "two_months", **percentage_terms("50", 1))
        ok(apply(client, "two_months"))
        subscribe(client, "pro")
        january = latest_subscription_invoice(client)
        [used] = applied(client)
        ok(client.post(f"/invoices/{january['lago_id']}/void"))
        [back] = applied(client)
    assert coupon_credits(january) == [("two_months", 1029)]
    assert (used["status"], used["frequency_duration_remaining"]) == ("terminated", 0)
    assert (back["status"], back["frequency_duration_remaining"]) == ("active", 1)
    assert back["terminated_at"] is None
