"""Wallets: create with credits, top-ups, consumption by invoices, ongoing balance, depletion."""

from __future__ import annotations

import json

import pytest

from .billing_helpers import START, add_endpoint, customer, invoices, ok, payloads, subscribe


@pytest.fixture
def acme(lago_standin, receiver):
    lago_standin.seed()
    lago_standin.travel_to(START)
    with lago_standin.client() as client:
        add_endpoint(client, receiver().url)
        customer(client)
    return lago_standin


def create_wallet(client, **fields):
    body = {"external_customer_id": "acme", "rate_amount": "1", "currency": "USD"} | fields
    return ok(client.post("/wallets", json={"wallet": body}))["wallet"]


def top_up(client, wallet_id, **credits):
    body = {"wallet_transaction": {"wallet_id": wallet_id} | credits}
    return ok(client.post("/wallet_transactions", json=body))["wallet_transactions"]


def test_create_with_granted_and_paid_credits(acme):
    with acme.client() as client:
        wallet = create_wallet(client, name="Prepaid", granted_credits="10", paid_credits="20")
        fetched = ok(client.get(f"/wallets/{wallet['lago_id']}"))["wallet"]
        [credit_invoice] = invoices(client, invoice_type="credit")
        transactions = ok(client.get(f"/wallets/{wallet['lago_id']}/wallet_transactions"))
    assert wallet["status"] == "active"
    assert wallet["code"] == "prepaid"
    # Granted credits settle now; paid ones once their invoice is paid (here right away).
    assert fetched["balance_cents"] == 3000
    assert fetched["credits_balance"] == "30.0"
    assert fetched["ongoing_balance_cents"] == 3000
    assert credit_invoice["total_amount_cents"] == 2000
    assert credit_invoice["payment_status"] == "succeeded"
    statuses = {(t["transaction_status"], t["status"]) for t in transactions["wallet_transactions"]}
    assert statuses == {("granted", "settled"), ("purchased", "settled")}
    [added] = payloads(acme, "invoice.paid_credit_added")
    assert added["invoice"]["fees"][0]["item"]["type"] == "credit"
    [updated] = payloads(acme, "wallet_transaction.updated")
    assert updated["wallet_transaction"]["status"] == "settled"
    assert updated["wallet_transaction"]["wallet"]["balance_cents"] == 3000


def test_paid_credits_wait_for_payment(acme):
    acme.set_payments("acme", outcomes=["failed", "succeeded"])
    with acme.client() as client:
        wallet = create_wallet(client, rate_amount="0.5")
        [pending] = top_up(client, wallet["lago_id"], paid_credits="100")
        before = ok(client.get(f"/wallets/{wallet['lago_id']}"))["wallet"]
        ok(client.post(f"/invoices/{pending['lago_invoice_id']}/retry_payment"))
        after = ok(client.get(f"/wallets/{wallet['lago_id']}"))["wallet"]
    assert pending["status"] == "pending"
    assert pending["transaction_status"] == "purchased"
    assert pending["amount"] == "50.0"
    assert pending["credit_amount"] == "100.0"
    assert before["balance_cents"] == 0
    assert after["balance_cents"] == 5000
    assert after["credits_balance"] == "100.0"
    assert payloads(acme, "invoice.payment_failure")


def test_top_up_lists_paid_credits_first_and_only_granted_settle_at_once(acme):
    acme.set_payments("acme", outcomes=["failed", "succeeded"])
    with acme.client() as client:
        wallet = create_wallet(client)
        acme.settle()
        first = len(acme.webhooks())
        paid, granted = top_up(client, wallet["lago_id"], granted_credits="5", paid_credits="20")
        before = ok(client.get(f"/wallets/{wallet['lago_id']}"))["wallet"]
        [credit_invoice] = invoices(client, invoice_type="credit")
        ok(client.post(f"/invoices/{credit_invoice['lago_id']}/retry_payment"))
        after = ok(client.get(f"/wallets/{wallet['lago_id']}"))["wallet"]
    assert (paid["transaction_status"], paid["status"], paid["settled_at"]) == (
        "purchased",
        "pending",
        None,
    )
    assert (granted["transaction_status"], granted["status"]) == ("granted", "settled")
    assert paid["lago_invoice_id"] == credit_invoice["lago_id"]
    assert credit_invoice["status"] == "finalized"
    assert before["balance_cents"] == 500
    assert after["balance_cents"] == 2500
    sent = [
        (w["webhook_type"], json.loads(w["payload"]).get("wallet_transaction", {}).get("status"))
        for w in acme.webhooks()[first:]
    ]
    # Both transactions are announced (paid first), then the credit invoice; the paid credits
    # are settled once their invoice is paid.
    assert sent[:3] == [
        ("wallet_transaction.created", "pending"),
        ("wallet_transaction.created", "settled"),
        ("invoice.paid_credit_added", None),
    ]
    assert ("wallet_transaction.updated", "settled") in sent[3:]


def test_voided_credits_and_validation(acme):
    with acme.client() as client:
        wallet = create_wallet(client, granted_credits="5")
        [voided] = top_up(client, wallet["lago_id"], voided_credits="2")
        too_much = client.post(
            "/wallet_transactions",
            json={"wallet_transaction": {"wallet_id": wallet["lago_id"], "voided_credits": "9"}},
        )
        bad = client.post(
            "/wallet_transactions",
            # The spec's pattern lets "1x5" through (an unescaped dot); lago-api does not.
            json={"wallet_transaction": {"wallet_id": wallet["lago_id"], "paid_credits": "1x5"}},
        )
        gone = client.post(
            "/wallet_transactions",
            json={"wallet_transaction": {"wallet_id": "1a901a90-1a90-1a90-1a90-1a901a901a90"}},
        )
        after = ok(client.get(f"/wallets/{wallet['lago_id']}"))["wallet"]
    assert voided["transaction_type"] == "outbound"
    assert voided["transaction_status"] == "voided"
    assert after["balance_cents"] == 300
    assert too_much.json()["error_details"] == {"voided_credits": ["insufficient_credits"]}
    assert bad.json()["error_details"] == {
        "paid_credits": ["invalid_paid_credits", "invalid_amount"]
    }
    assert gone.json()["error_details"] == {"wallet_id": ["wallet_not_found"]}


def test_wallet_pays_subscription_invoices_first(acme):
    with acme.client() as client:
        wallet = create_wallet(client, granted_credits="15")
        subscribe(client, "pro")
        [invoice] = invoices(client, invoice_type="subscription")
        after = ok(client.get(f"/wallets/{wallet['lago_id']}"))["wallet"]
        outbound = ok(
            client.get(
                f"/wallets/{wallet['lago_id']}/wallet_transactions",
                params={"transaction_type": "outbound"},
            )
        )["wallet_transactions"]
    assert invoice["fees_amount_cents"] == 2058
    assert invoice["prepaid_credit_amount_cents"] == 1500
    assert invoice["total_amount_cents"] == 558
    assert after["balance_cents"] == 0
    assert after["consumed_credits"] == "15.0"
    assert [t["lago_invoice_id"] for t in outbound] == [invoice["lago_id"]]
    assert [t["transaction_status"] for t in outbound] == ["invoiced"]
    [depleted] = payloads(acme, "wallet.depleted_ongoing_balance")
    assert depleted["wallet"]["ongoing_balance_cents"] == 0


def test_ongoing_balance_follows_usage(acme):
    with acme.client() as client:
        subscribe(client, "pro")
        wallet = create_wallet(client, granted_credits="12")

        def seat(user):
            ok(
                client.post(
                    "/events",
                    json={
                        "event": {
                            "transaction_id": f"seat-{user}",
                            "external_subscription_id": "sub_1",
                            "code": "seats",
                            "properties": {"user_id": user},
                        }
                    },
                )
            )
            return ok(client.get(f"/wallets/{wallet['lago_id']}"))["wallet"]

        one = seat("u1")
        assert payloads(acme, "wallet.depleted_ongoing_balance") == []
        two = seat("u2")
        three = seat("u3")
    assert one["balance_cents"] == 1200
    assert one["ongoing_usage_balance_cents"] == 500
    assert one["ongoing_balance_cents"] == 700
    assert one["credits_ongoing_balance"] == "7.0"
    assert two["ongoing_balance_cents"] == 200
    assert three["ongoing_balance_cents"] == -300
    [depleted] = payloads(acme, "wallet.depleted_ongoing_balance")
    assert depleted["wallet"]["ongoing_balance_cents"] == -300


def test_list_terminate_and_limits(acme):
    with acme.client() as client:
        first = create_wallet(client, code="main")
        taken = client.post(
            "/wallets",
            json={
                "wallet": {
                    "external_customer_id": "acme",
                    "rate_amount": "1",
                    "currency": "USD",
                    "code": "main",
                }
            },
        )
        unknown = client.post(
            "/wallets",
            json={
                "wallet": {"external_customer_id": "nobody", "rate_amount": "1", "currency": "USD"}
            },
        )
        listed = ok(client.get("/wallets", params={"external_customer_id": "acme"}))
        terminated = ok(client.delete(f"/wallets/{first['lago_id']}"))["wallet"]
        by_customer = ok(client.get("/customers/acme/wallets"))
        no_customer = client.get("/wallets", params={"external_customer_id": "nobody"})
    assert taken.json()["error_details"] == {"code": ["value_already_exist"]}
    assert unknown.json()["error_details"] == {"customer": ["customer_not_found"]}
    assert listed["meta"]["total_count"] == 1
    assert terminated["status"] == "terminated"
    assert terminated["terminated_at"] is not None
    assert by_customer["wallets"][0]["status"] == "terminated"
    assert no_customer.status_code == 404


def test_voiding_an_invoice_gives_the_credits_back(acme):
    acme.set_payments("acme", outcomes=["failed"])
    with acme.client() as client:
        wallet = create_wallet(client, granted_credits="5")
        subscribe(client, "pro")
        [invoice] = invoices(client, invoice_type="subscription")
        ok(client.post(f"/invoices/{invoice['lago_id']}/void"))
        after = ok(client.get(f"/wallets/{wallet['lago_id']}"))["wallet"]
    assert invoice["prepaid_credit_amount_cents"] == 500
    assert after["balance_cents"] == 500


def test_a_failed_payment_marks_the_purchase_failed_and_a_later_one_settles_it(acme):
    acme.set_payments("acme", outcomes=["failed", "succeeded"])
    with acme.client() as client:
        wallet = create_wallet(client)
        [purchase] = top_up(client, wallet["lago_id"], paid_credits="10")
        listed = ok(client.get(f"/wallets/{wallet['lago_id']}/wallet_transactions"))
        [failed] = listed["wallet_transactions"]
        ok(client.post(f"/invoices/{failed['lago_invoice_id']}/retry_payment"))
        [settled] = ok(client.get(f"/wallets/{wallet['lago_id']}/wallet_transactions"))[
            "wallet_transactions"
        ]
    assert purchase["status"] == "pending"
    assert (failed["status"], failed["failed_at"] is not None) == ("failed", True)
    assert settled["status"] == "settled"
    updates = [
        p["wallet_transaction"]["status"] for p in payloads(acme, "wallet_transaction.updated")
    ]
    assert updates == ["failed", "settled"]
