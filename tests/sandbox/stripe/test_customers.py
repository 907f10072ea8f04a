"""Customers through the real stripe library: create, retrieve, update, list, delete."""

from __future__ import annotations

import pytest
import stripe


def test_create_retrieve_and_update(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create(
        params={"email": "ada@example.com", "name": "Ada", "metadata": {"tenant": "t1"}}
    )
    assert customer.id.startswith("cus_")
    assert customer.object == "customer"
    assert customer.livemode is False
    assert customer.invoice_settings.default_payment_method is None
    assert customer.metadata.to_dict() == {"tenant": "t1"}

    updated = client.v1.customers.update(
        customer.id,
        params={"name": "Ada L.", "metadata": {"tenant": "", "plan": "pro"}, "phone": ""},
    )
    assert updated.name == "Ada L."
    assert updated.metadata.to_dict() == {"plan": "pro"}
    fetched = client.v1.customers.retrieve(customer.id)
    assert fetched.name == "Ada L."
    assert fetched.email == "ada@example.com"


def test_invalid_email_is_a_400_with_param(stripe_standin):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_standin.client().v1.customers.create(params={"email": "not-an-email"})
    assert caught.value.http_status == 400
    assert caught.value.code == "email_invalid"
    assert caught.value.param == "email"


def test_default_payment_method_must_be_attached(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    other = client.v1.customers.create()
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": other.id})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.update(
            customer.id, params={"invoice_settings": {"default_payment_method": pm.id}}
        )
    assert caught.value.param == "invoice_settings[default_payment_method]"

    mine = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    updated = client.v1.customers.update(
        customer.id,
        params={
            "invoice_settings": {"default_payment_method": mine.id},
            "expand": ["invoice_settings.default_payment_method"],
        },
    )
    default = updated.invoice_settings.default_payment_method
    assert isinstance(default, stripe.PaymentMethod)
    assert default.id == mine.id
    assert default.card.last4 == "4242"
    cleared = client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": ""}}
    )
    assert cleared.invoice_settings.default_payment_method is None


def test_list_filters_by_email(stripe_standin):
    client = stripe_standin.client()
    client.v1.customers.create(params={"email": "a@example.com"})
    wanted = client.v1.customers.create(params={"email": "b@example.com"})
    found = client.v1.customers.list(params={"email": "b@example.com"})
    assert [c.id for c in found.data] == [wanted.id]
    assert found.url == "/v1/customers"


def test_delete_leaves_a_deleted_stub(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    deleted = client.v1.customers.delete(customer.id)
    assert deleted.deleted is True
    assert client.v1.customers.retrieve(customer.id).deleted is True
    assert client.v1.payment_methods.retrieve(pm.id).customer is None
    assert client.v1.customers.list().data == []
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.update(customer.id, params={"name": "x"})
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"


def test_global_module_style_works_too(stripe_standin):
    with stripe_standin.global_stripe():
        customer = stripe.Customer.create(email="g@example.com")
        stripe.PaymentMethod.attach("pm_card_mastercard", customer=customer.id)
        cards = stripe.Customer.list_payment_methods(customer.id, type="card")
        assert [pm.card.brand for pm in cards.data] == ["mastercard"]
        modified = stripe.Customer.modify(customer.id, description="from the module")
        assert modified.description == "from the module"
