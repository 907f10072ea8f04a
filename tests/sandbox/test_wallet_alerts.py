"""Wallet alerts in the stand-in, as lago-api serves them: a balance going down past a level."""

from __future__ import annotations

import pytest

from .billing_helpers import START, add_endpoint, customer, ok, payloads

LOW = {
    "alert_type": "wallet_credits_balance",
    "code": "low",
    "name": "Low credits",
    "thresholds": [{"code": "low", "value": 20}],
}
BASE = "/customers/acme/wallets/prepaid/alerts"


@pytest.fixture
def acme(premium, receiver):
    premium.seed()
    premium.travel_to(START)
    with premium.client() as client:
        add_endpoint(client, receiver().url)
        customer(client)
        body = {
            "external_customer_id": "acme",
            "name": "Prepaid",
            "rate_amount": "1",
            "currency": "USD",
            "granted_credits": "100",
        }
        premium.wallet = ok(client.post("/wallets", json={"wallet": body}))["wallet"]
    return premium


def move(client, wallet, **credits):
    body = {"wallet_transaction": {"wallet_id": wallet["lago_id"]} | credits}
    ok(client.post("/wallet_transactions", json=body))


def test_a_wallet_alert_is_created_listed_updated_and_deleted(acme):
    with acme.client() as client:
        created = ok(client.post(BASE, json={"alert": LOW}))["alert"]
        again = client.post(BASE, json={"alert": LOW})
        same_type = client.post(BASE, json={"alert": LOW | {"code": "other"}})
        listed = ok(client.get(BASE))
        updated = ok(client.put(f"{BASE}/low", json={"alert": {"thresholds": [{"value": 30}]}}))
        deleted = ok(client.delete(f"{BASE}/low"))["alert"]
        gone = client.get(f"{BASE}/low")
        no_wallet = client.get("/customers/acme/wallets/nope/alerts")
        no_customer = client.get("/customers/nobody/wallets/prepaid/alerts")
    assert created["alert_type"] == "wallet_credits_balance"
    assert created["lago_wallet_id"] == acme.wallet["lago_id"]
    assert created["wallet_code"] == "prepaid"
    assert created["external_subscription_id"] is None and created["billable_metric"] is None
    assert created["direction"] == "decreasing"
    assert created["previous_value"] == 100  # the balance when it was made
    assert created["thresholds"] == [{"code": "low", "value": "20.0", "recurring": False}]
    assert again.json()["error_details"] == {"code": ["value_already_exist"]}
    assert same_type.json()["error_details"] == {"base": ["alert_already_exists"]}
    assert [a["code"] for a in listed["alerts"]] == ["low"]
    assert listed["meta"]["total_count"] == 1
    assert updated["alert"]["thresholds"][0]["value"] == "30.0"
    assert deleted["code"] == "low" and deleted["thresholds"] == []
    assert gone.status_code == 404 and gone.json()["code"] == "alert_not_found"
    assert no_wallet.json()["code"] == "wallet_not_found"
    assert no_customer.json()["code"] == "customer_not_found"


def test_the_alert_fires_once_per_fall_past_the_level(acme):
    with acme.client() as client:
        ok(client.post(BASE, json={"alert": LOW}))
        move(client, acme.wallet, voided_credits="70")  # 30 left: above the level
        move(client, acme.wallet, voided_credits="15")  # 15: crossed
        move(client, acme.wallet, voided_credits="5")  # 10: still below, no second alert
        first = payloads(acme, "alert.triggered")
        move(client, acme.wallet, granted_credits="50")  # 60: back above
        move(client, acme.wallet, voided_credits="45")  # 15: crossed again
    sent = payloads(acme, "alert.triggered")
    assert len(first) == 1 and len(sent) == 2
    alert = sent[0]["triggered_alert"]
    assert alert["alert_code"] == "low" and alert["alert_type"] == "wallet_credits_balance"
    assert alert["lago_wallet_id"] == acme.wallet["lago_id"]
    assert alert["lago_subscription_id"] is None
    assert alert["external_customer_id"] == "acme"
    assert alert["previous_value"] == 30 and alert["current_value"] == 15
    assert alert["crossed_thresholds"] == [{"code": "low", "value": "20.0", "recurring": False}]
    assert sent[1]["triggered_alert"]["previous_value"] == 60


def test_without_licence_or_api(acme):
    acme.standin.configure(premium=False)
    with acme.client() as client:
        ok(client.post(BASE, json={"alert": LOW}))
        move(client, acme.wallet, voided_credits="90")
        acme.standin.configure(alerts_api=False)
        missing = client.get(BASE)
    assert payloads(acme, "alert.triggered") == []
    assert missing.status_code == 404


def test_a_recurring_step_below_the_lowest_level_fires_at_each_step(acme):
    steps = LOW | {
        "alert_type": "wallet_balance_amount",
        "code": "steps",
        "thresholds": [
            {"code": "half", "value": 5000},
            {"code": "step", "value": 1000, "recurring": True},
        ],
    }
    with acme.client() as client:
        ok(client.post(BASE, json={"alert": steps}))  # $100 now; $50, then every $10 below
        move(client, acme.wallet, voided_credits="75")  # $25: 50, 40 and 30 crossed
        move(client, acme.wallet, voided_credits="6")  # $19: 20 crossed
        move(client, acme.wallet, voided_credits="0.5")  # $18.50: nothing
    sent = [p["triggered_alert"] for p in payloads(acme, "alert.triggered")]
    assert [[(t["code"], t["value"]) for t in s["crossed_thresholds"]] for s in sent] == [
        [("half", "5000.0"), ("step", "3000.0"), ("step", "4000.0")],
        [("step", "2000.0")],
    ]
    assert (sent[1]["previous_value"], sent[1]["current_value"]) == (2500, 1900)
