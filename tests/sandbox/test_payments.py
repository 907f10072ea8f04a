"""Lago's charges: the payment method it picks, cards that decline or ask for 3-D Secure,
`retry_payment`, the customer's checkout URL and an invoice's payment URL (lago-api's
Invoices::Payments::CreateService, Stripe::Payments::CreateService, RetryService)."""

from __future__ import annotations

import httpx
import pytest

from .billing_helpers import (
    START,
    add_card,
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
def billed(lago_standin, receiver):
    """The seeded plans, a webhook endpoint, and the clock pinned."""
    lago_standin.seed()
    lago_standin.travel_to(START)
    with lago_standin.client() as client:
        add_endpoint(client, receiver().url)
        plan(client, "upfront", 4900, pay_in_advance=True)
    return lago_standin


def payments_of(client, invoice_id: str) -> list[dict]:
    return ok(client.get("/payments", params={"invoice_id": invoice_id}))["payments"]


def test_a_card_that_needs_3ds_fails_silently_then_asks_for_action_on_the_next_attempt(billed):
    with billed.client() as client:
        customer(client, card="requires_authentication")
        subscribe(client, "upfront")
        [invoice] = invoices(client)
        [first] = payments_of(client, invoice["lago_id"])
    # Off session with error_on_requires_action: authentication_required, and no webhook.
    assert invoice["payment_status"] == "failed"
    assert first["payment_status"] == "failed"
    assert types(billed)[-3:] == ["subscription.started", "invoice.created", "invoice.generated"]

    with billed.client() as client:
        retried = client.post(f"/invoices/{invoice['lago_id']}/retry_payment")
        waiting = ok(client.get(f"/invoices/{invoice['lago_id']}"))["invoice"]
        again = client.post(f"/invoices/{invoice['lago_id']}/retry_payment")
    assert (retried.status_code, retried.content) == (200, b"")
    assert waiting["payment_status"] == "pending"
    assert types(billed)[-1] == "payment.requires_action"
    [action] = payloads(billed, "payment.requires_action")
    payment = action["payment"]
    assert payment["payment_status"] == "processing"
    assert payment["status"] == "requires_action"
    assert payment["invoice_ids"] == [invoice["lago_id"]]
    url = payment["next_action"]["redirect_to_url"]["url"]
    assert url.startswith(billed.url)
    assert again.status_code == 405
    assert again.json()["code"] == "payment_processor_is_currently_handling_payment"

    page = httpx.post(url, data={"outcome": "succeeded"}, trust_env=False)
    assert page.status_code == 200
    with billed.client() as client:
        paid = ok(client.get(f"/invoices/{invoice['lago_id']}"))["invoice"]
    assert paid["payment_status"] == "succeeded"
    assert types(billed)[-2:] == ["payment.succeeded", "invoice.payment_status_updated"]


@pytest.mark.parametrize(
    ("card", "decline_code", "message"),
    [
        ("declines", "generic_decline", "Your card was declined."),
        ("insufficient_funds", "insufficient_funds", "Your card has insufficient funds."),
    ],
)
def test_a_declined_card_sends_the_payment_failure_with_stripes_error(
    billed, card, decline_code, message
):
    with billed.client() as client:
        created = customer(client, card=card)
        subscribe(client, "upfront")
        [invoice] = invoices(client)
    assert invoice["payment_status"] == "failed"
    assert types(billed)[-1] == "invoice.payment_failure"
    [body] = payloads(billed, "invoice.payment_failure")
    failure = body["payment_provider_invoice_payment_error"]
    assert failure["lago_invoice_id"] == invoice["lago_id"]
    assert failure["external_customer_id"] == "acme"
    assert (
        failure["provider_customer_id"] == created["billing_configuration"]["provider_customer_id"]
    )
    assert (failure["payment_provider"], failure["payment_provider_code"]) == ("stripe", "stripe")
    assert failure["provider_error"] == {"message": message, "error_code": "card_declined"}
    details = failure["error_details"]
    assert (details["code"], details["message"], details["http_status"]) == (
        "card_declined",
        message,
        402,
    )
    assert details["http_body"]["error"]["decline_code"] == decline_code
    assert details["http_body"]["error"]["type"] == "card_error"


def test_a_stripe_customer_lago_creates_has_no_card_until_the_checkout_url_is_used(billed):
    with billed.client() as client:
        created = customer(client, card=None)
        subscribe(client, "upfront")
        [invoice] = invoices(client)
        assert payments_of(client, invoice["lago_id"]) == []
        listed = ok(client.get("/customers/acme/payment_methods"))["payment_methods"]
        regenerated = ok(client.post("/customers/acme/checkout_url"))["customer"]
    assert listed == []
    assert invoice["payment_status"] == "pending"
    assert [t for t in types(billed) if t.startswith("customer.")] == [
        "customer.created",
        "customer.payment_provider_created",
        "customer.checkout_url_generated",
    ]
    assert not [t for t in types(billed) if t.startswith("payment.")]
    assert "invoice.payment_failure" not in types(billed)
    [body] = payloads(billed, "customer.checkout_url_generated")
    checkout = body["payment_provider_customer_checkout_url"]
    assert body["object_type"] == "payment_provider_customer_checkout_url"
    assert checkout == {
        "lago_customer_id": created["lago_id"],
        "external_customer_id": "acme",
        "payment_provider": "stripe",
        "payment_provider_code": "stripe",
        "checkout_url": f"{billed.url}/_sandbox/setup/acme",
    }
    assert regenerated == checkout
    assert httpx.get(checkout["checkout_url"], trust_env=False).status_code == 200

    with billed.client() as client:
        add_card(client, "acme", "succeeds")
        ok(client.post(f"/invoices/{invoice['lago_id']}/retry_payment"))
        paid = ok(client.get(f"/invoices/{invoice['lago_id']}"))["invoice"]
    assert paid["payment_status"] == "succeeded"


def test_the_subscriptions_payment_method_wins_and_manual_means_no_charge(billed):
    with billed.client() as client:
        customer(client, card="declines")
        good = add_card(client, "acme", "succeeds")
        add_card(client, "acme", "declines")  # the default again
        method = {"payment_method_type": "provider", "payment_method_id": good["lago_id"]}
        subscribe(client, "upfront", payment_method=method)
        subscribe(client, "upfront", "sub_2", payment_method={"payment_method_type": "manual"})
        second, first = invoices(client)  # newest first
        by_sub = {"sub_1": first, "sub_2": second}
        [charged] = payments_of(client, by_sub["sub_1"]["lago_id"])
        manual = payments_of(client, by_sub["sub_2"]["lago_id"])
    assert by_sub["sub_1"]["payment_status"] == "succeeded"
    assert charged["payment_method_id"] == good["lago_id"]
    assert (by_sub["sub_2"]["payment_status"], manual) == ("pending", [])


def test_retry_payment_can_name_the_card_or_skip_the_charge(billed):
    with billed.client() as client:
        customer(client, card="declines")
        subscribe(client, "upfront")
        [invoice] = invoices(client)
        good = add_card(client, "acme", "succeeds")
        add_card(client, "acme", "declines")  # the default again
        path = f"/invoices/{invoice['lago_id']}/retry_payment"
        manual = client.post(path, json={"payment_method": {"payment_method_type": "manual"}})
        after_manual = len(payments_of(client, invoice["lago_id"]))
        chosen = {"payment_method_type": "provider", "payment_method_id": good["lago_id"]}
        ok(client.post(path, json={"payment_method": chosen}))
        paid = ok(client.get(f"/invoices/{invoice['lago_id']}"))["invoice"]
        [charged, _failed] = payments_of(client, invoice["lago_id"])
    assert manual.status_code == 200
    assert after_manual == 1
    assert paid["payment_status"] == "succeeded"
    assert charged["payment_method_id"] == good["lago_id"]


def test_retry_payment_resends_no_invoice_webhook(billed):
    billed.set_payments("acme", outcomes=["failed", "failed"])
    with billed.client() as client:
        customer(client)
        subscribe(client, "upfront")
        [invoice] = invoices(client)
        before = types(billed)
        reply = client.post(f"/invoices/{invoice['lago_id']}/retry_payment")
    assert (reply.status_code, reply.content) == (200, b"")
    assert types(billed)[len(before) :] == ["invoice.payment_failure"]


def test_retry_payment_without_a_payment_provider_reports_it(billed):
    with billed.client() as client:
        created = customer(client, stripe=False)
        subscribe(client, "upfront")
        [invoice] = invoices(client)
        reply = client.post(f"/invoices/{invoice['lago_id']}/retry_payment")
    assert (reply.status_code, reply.content) == (200, b"")
    [body] = payloads(billed, "invoice.payment_failure")
    assert body["payment_provider_invoice_payment_error"] == {
        "lago_invoice_id": invoice["lago_id"],
        "lago_customer_id": created["lago_id"],
        "external_customer_id": "acme",
        "provider_customer_id": None,
        "payment_provider": None,
        "payment_provider_code": None,
        "provider_error": None,
        "error_details": {"code": "customer_must_have_payment_provider"},
    }


def test_retry_payment_refuses_paid_and_voided_invoices(billed):
    billed.set_payments("acme", outcomes=["failed"])
    with billed.client() as client:
        customer(client)
        subscribe(client, "upfront")
        subscribe(client, "upfront", "sub_2")
        paid, unpaid = invoices(client)  # newest first
        ok(client.post(f"/invoices/{unpaid['lago_id']}/void"))
        answers = [client.post(f"/invoices/{i['lago_id']}/retry_payment") for i in (unpaid, paid)]
    assert paid["payment_status"] == "succeeded"
    assert [(a.status_code, a.json()["code"]) for a in answers] == [
        (405, "invalid_status"),
        (405, "invalid_status"),
    ]


def test_retry_payment_refuses_a_draft(billed):
    billed.standin.configure(premium=True)
    try:
        with billed.client() as client:
            body = {"external_id": "acme", "billing_configuration": {"invoice_grace_period": 3}}
            ok(client.post("/customers", json={"customer": body}))
            subscribe(client, "upfront")
            [draft] = invoices(client)
            reply = client.post(f"/invoices/{draft['lago_id']}/retry_payment")
    finally:
        billed.standin.configure(premium=False)
    assert draft["status"] == "draft"
    assert (reply.status_code, reply.json()["code"]) == (405, "invalid_status")


def test_payment_url_links_an_open_invoice_and_names_what_is_missing(billed):
    billed.set_payments("acme", outcomes=["failed"])
    billed.set_payments("beta", outcomes=["failed"])
    with billed.client() as client:
        created = customer(client)
        subscribe(client, "upfront")
        [invoice] = invoices(client, external_customer_id="acme")
        link = ok(client.post(f"/invoices/{invoice['lago_id']}/payment_url"))
        customer(client, "beta", stripe=False)
        subscribe(client, "upfront", "sub_b", "beta")
        [unlinked] = invoices(client, external_customer_id="beta")
        no_provider = client.post(f"/invoices/{unlinked['lago_id']}/payment_url")
        stripe_only = {
            "external_id": "beta",
            "billing_configuration": {"payment_provider": "stripe"},
        }
        ok(client.post("/customers", json={"customer": stripe_only}))
        no_provider_customer = client.post(f"/invoices/{unlinked['lago_id']}/payment_url")
        billed.set_payments("acme", outcomes=["succeeded"])
        ok(client.post(f"/invoices/{invoice['lago_id']}/retry_payment"))
        settled = client.post(f"/invoices/{invoice['lago_id']}/payment_url")
    assert link["invoice_payment_details"] == {
        "lago_customer_id": created["lago_id"],
        "lago_invoice_id": invoice["lago_id"],
        "external_customer_id": "acme",
        "payment_provider": "stripe",
        "payment_url": f"{billed.url}/_sandbox/checkout/{invoice['lago_id']}",
    }

    def code(reply):
        assert reply.status_code == 422
        return reply.json()["error_details"]["base"]

    assert code(no_provider) == ["no_linked_payment_provider"]
    assert code(no_provider_customer) == ["missing_payment_provider_customer"]
    assert code(settled) == ["invalid_invoice_status_or_payment_status"]
