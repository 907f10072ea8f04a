"""Payment methods: test tokens and numbers, attach, detach, list, publishable-key creation."""

from __future__ import annotations

import pytest
import stripe


@pytest.mark.parametrize(
    ("token", "brand", "last4"),
    [
        ("pm_card_visa", "visa", "4242"),
        ("pm_card_mastercard", "mastercard", "4444"),
        ("pm_card_amex", "amex", "0005"),
        ("pm_card_threeDSecure2Required", "visa", "3220"),
    ],
)
def test_tokens_make_new_card_payment_methods(stripe_standin, token, brand, last4):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    pm = client.v1.payment_methods.attach(token, params={"customer": customer.id})
    assert pm.id.startswith("pm_") and pm.id != token
    assert pm.type == "card"
    assert (pm.card.brand, pm.card.last4) == (brand, last4)
    assert 1 <= pm.card.exp_month <= 12 and pm.card.exp_year > 2000
    assert pm.customer == customer.id


def test_create_from_a_card_number_with_the_publishable_key(stripe_standin):
    browser = stripe_standin.client(api_key=stripe_standin.publishable_key)
    pm = browser.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4000002500003155", "exp_month": 4, "exp_year": 2099, "cvc": "123"},
            "billing_details": {"name": "Ada", "address": {"postal_code": "10115"}},
        }
    )
    assert (pm.card.last4, pm.card.exp_month, pm.card.exp_year) == ("3155", 4, 2099)
    assert pm.card.checks.cvc_check == "pass"
    assert pm.billing_details.address.postal_code == "10115"
    with pytest.raises(stripe.AuthenticationError):
        browser.v1.customers.list()


def test_a_wrong_card_number_is_a_card_error(stripe_standin):
    with pytest.raises(stripe.CardError) as caught:
        stripe_standin.client().v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": "4242424242424241", "exp_month": 1, "exp_year": 2099},
            }
        )
    assert caught.value.http_status == 402
    assert caught.value.code == "incorrect_number"


def test_attaching_a_declining_card_fails(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_methods.attach("pm_card_chargeDeclined", params={"customer": customer.id})
    assert caught.value.code == "card_declined"
    assert caught.value.error.decline_code == "generic_decline"
    assert client.v1.customers.payment_methods.list(customer.id).data == []


def test_list_by_customer_both_ways(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    first = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    second = client.v1.payment_methods.attach("pm_card_amex", params={"customer": customer.id})
    client.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_visa"}})
    listed = client.v1.customers.payment_methods.list(customer.id, params={"type": "card"})
    assert [pm.id for pm in listed.data] == [second.id, first.id]
    assert listed.url == f"/v1/customers/{customer.id}/payment_methods"
    flat = client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"})
    assert [pm.id for pm in flat.data] == [second.id, first.id]
    one = client.v1.customers.payment_methods.retrieve(customer.id, first.id)
    assert one.id == first.id


def test_detach_is_permanent_and_clears_the_default(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": pm.id}}
    )
    detached = client.v1.payment_methods.detach(pm.id)
    assert detached.customer is None
    refreshed = client.v1.customers.retrieve(customer.id)
    assert refreshed.invoice_settings.default_payment_method is None
    with pytest.raises(stripe.InvalidRequestError, match="may not be used again"):
        client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})
    with pytest.raises(stripe.InvalidRequestError, match="not attached"):
        client.v1.payment_methods.detach(pm.id)
    types = [e["type"] for e in stripe_standin.events()]
    assert types[-2:] == ["payment_method.detached", "customer.updated"]
    [update] = stripe_standin.events("customer.updated")[-1:]
    assert update["data"]["previous_attributes"] == {
        "invoice_settings": {"default_payment_method": pm.id}
    }


def test_attached_to_someone_else_cannot_be_attached_again(stripe_standin):
    client = stripe_standin.client()
    first, second = client.v1.customers.create(), client.v1.customers.create()
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": first.id})
    with pytest.raises(stripe.InvalidRequestError, match="already been attached"):
        client.v1.payment_methods.attach(pm.id, params={"customer": second.id})


def test_update_needs_an_attached_payment_method(stripe_standin):
    client = stripe_standin.client()
    loose = client.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_visa"}})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.update(loose.id, params={"metadata": {"a": "b"}})
    customer = client.v1.customers.create()
    pm = client.v1.payment_methods.attach(loose.id, params={"customer": customer.id})
    updated = client.v1.payment_methods.update(
        pm.id, params={"card": {"exp_month": 7, "exp_year": 2040}, "billing_details": {"name": "B"}}
    )
    assert (updated.card.exp_month, updated.card.exp_year) == (7, 2040)
    assert updated.billing_details.name == "B"
    assert stripe_standin.events("payment_method.updated")
