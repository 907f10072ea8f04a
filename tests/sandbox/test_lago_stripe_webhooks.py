"""Lago's own Stripe webhooks in the stand-ins: a card saved at Stripe is the card Lago charges."""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx

from tests.fixtures.stripe_standin import LAGO_STRIPE_SECRET
from tests.integration.handlers.support import lago_call


def _link(lago, stripe_client, external_id: str = "acme") -> str:
    customer = stripe_client.v1.customers.create(params={"name": "Acme"})
    lago_call(
        lago,
        "POST",
        "/customers",
        json={
            "customer": {
                "external_id": external_id,
                "name": "Acme",
                "currency": "USD",
                "billing_configuration": {
                    "payment_provider": "stripe",
                    "payment_provider_code": "stripe",
                    "provider_customer_id": customer.id,
                },
            }
        },
    )
    return customer.id


def _lago_methods(lago, external_id: str = "acme") -> list[dict]:
    return lago_call(lago, "GET", f"/customers/{external_id}/payment_methods")["payment_methods"]


def _save_card(stripe_client, customer_id: str, card: str = "pm_card_visa"):
    return stripe_client.v1.setup_intents.create(
        params={
            "customer": customer_id,
            "payment_method": card,
            "confirm": True,
            "usage": "off_session",
            "allowed_payment_method_types": ["card"],
        }
    )


def test_a_linked_stripe_customer_without_cards_gives_lago_none(lago_standin, stripe_for_lago):
    _link(lago_standin, stripe_for_lago.client())
    assert _lago_methods(lago_standin) == []


def test_a_saved_card_becomes_the_default_in_stripe_and_in_lago(lago_standin, stripe_for_lago):
    client = stripe_for_lago.client()
    customer_id = _link(lago_standin, client)
    intent = _save_card(client, customer_id)
    assert intent.status == "succeeded"
    stripe_for_lago.settle()
    methods = _lago_methods(lago_standin)
    assert [(m["provider_method_id"], m["is_default"]) for m in methods] == [
        (intent.payment_method, True)
    ]
    stripe_customer = client.v1.customers.retrieve(customer_id)
    assert stripe_customer.invoice_settings.default_payment_method == intent.payment_method


def test_a_new_stripe_default_becomes_lagos_default(lago_standin, stripe_for_lago):
    client = stripe_for_lago.client()
    customer_id = _link(lago_standin, client)
    first = _save_card(client, customer_id).payment_method
    second = _save_card(client, customer_id, "pm_card_mastercard").payment_method
    stripe_for_lago.settle()
    stripe_for_lago.settle()
    client.v1.customers.update(
        customer_id, params={"invoice_settings": {"default_payment_method": first}}
    )
    stripe_for_lago.settle()
    defaults = {m["provider_method_id"]: m["is_default"] for m in _lago_methods(lago_standin)}
    assert defaults == {first: True, second: False}


def test_a_detached_card_leaves_lago(lago_standin, stripe_for_lago):
    client = stripe_for_lago.client()
    customer_id = _link(lago_standin, client)
    pm = _save_card(client, customer_id).payment_method
    stripe_for_lago.settle()
    client.v1.payment_methods.detach(pm)
    stripe_for_lago.settle()
    assert _lago_methods(lago_standin) == []


def test_an_unsigned_or_foreign_delivery_is_refused(lago_standin, stripe_for_lago):
    body = b'{"type": "customer.updated", "data": {"object": {"id": "cus_x"}}}'
    url = f"{lago_standin.url}/webhooks/stripe/{lago_standin.organization_id}"
    t = str(int(time.time()))
    good = hmac.new(LAGO_STRIPE_SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256)
    with httpx.Client(trust_env=False) as http:
        forged = {"Stripe-Signature": f"t={t},v1=00"}
        assert http.post(url, content=body, headers=forged).status_code == 400
        signed = {"Stripe-Signature": f"t={t},v1={good.hexdigest()}"}
        assert http.post(url, content=body, headers=signed).status_code == 200
        other = f"{lago_standin.url}/webhooks/stripe/not-this-org"
        assert http.post(other, content=body, headers=signed).status_code == 400


def test_charges_follow_the_stripe_test_card(lago_standin, stripe_for_lago):
    """chargeCustomerFail (…0341) attaches, then Lago's charge on it is declined."""
    lago_standin.seed()
    client = stripe_for_lago.client()
    customer_id = _link(lago_standin, client)
    _save_card(client, customer_id, "pm_card_chargeCustomerFail")
    stripe_for_lago.settle()
    method = lago_standin.standin.store.all("payment_method")[0]
    assert method["card"] == "declines"
