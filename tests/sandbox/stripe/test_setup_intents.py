"""SetupIntents: success, 3-D Secure completed or failed, declines, parameters by API version."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import stripe

CARDS_ONLY = {"allowed_payment_method_types": ["card"], "usage": "off_session"}


def new_intent(client, customer, **params):
    return client.v1.setup_intents.create(params={"customer": customer.id, **CARDS_ONLY, **params})


def event_types(stripe_standin):
    return [e["type"] for e in stripe_standin.events()]


def test_plain_card_succeeds_and_is_attached(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    intent = new_intent(client, customer)
    assert intent.status == "requires_payment_method"
    assert intent.usage == "off_session"
    assert intent.payment_method_types == ["card"]
    assert intent.automatic_payment_methods is None
    assert intent.client_secret.startswith(intent.id + "_secret_")

    done = client.v1.setup_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert done.status == "succeeded"
    assert done.next_action is None
    pm = client.v1.payment_methods.retrieve(done.payment_method)
    assert pm.customer == customer.id
    assert client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method is None
    assert event_types(stripe_standin)[-3:] == [
        "setup_intent.created",
        "payment_method.attached",
        "setup_intent.succeeded",
    ]


def test_create_and_confirm_in_one_call(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    intent = new_intent(client, customer, payment_method="pm_card_mastercard", confirm=True)
    assert intent.status == "succeeded"


def test_dynamic_payment_methods_need_a_return_url(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    intent = client.v1.setup_intents.create(params={"customer": customer.id})
    assert intent.automatic_payment_methods.to_dict() == {
        "allow_redirects": "always",
        "enabled": True,
    }
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.setup_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert caught.value.param == "return_url"
    done = client.v1.setup_intents.confirm(
        intent.id, params={"payment_method": "pm_card_visa", "return_url": "https://pier.test/r"}
    )
    assert done.status == "succeeded"
    no_redirects = client.v1.setup_intents.create(
        params={
            "customer": customer.id,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    assert no_redirects.status == "succeeded"


@pytest.mark.parametrize(
    "token",
    [
        "pm_card_threeDSecure2Required",
        "pm_card_authenticationRequired",
        "pm_card_authenticationRequiredOnSetup",
    ],
)
def test_three_d_secure_waits_then_completes(stripe_standin, token):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    intent = new_intent(client, customer)
    pending = client.v1.setup_intents.confirm(intent.id, params={"payment_method": token})
    assert pending.status == "requires_action"
    assert pending.next_action.type == "use_stripe_sdk"
    assert pending.next_action.use_stripe_sdk.stripe_js.startswith(stripe_standin.url)
    assert client.v1.payment_methods.retrieve(pending.payment_method).customer is None
    [waiting] = stripe_standin.pending_authentications()
    assert waiting["setup_intent"] == intent.id

    stripe_standin.complete_authentication(intent.id)
    done = client.v1.setup_intents.retrieve(intent.id)
    assert done.status == "succeeded"
    assert done.next_action is None
    assert client.v1.payment_methods.retrieve(done.payment_method).customer == customer.id
    assert event_types(stripe_standin)[-3:] == [
        "setup_intent.requires_action",
        "payment_method.attached",
        "setup_intent.succeeded",
    ]


def test_failed_three_d_secure_goes_back_to_requires_payment_method(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    intent = new_intent(client, customer)
    client.v1.setup_intents.confirm(
        intent.id, params={"payment_method": "pm_card_threeDSecure2Required"}
    )
    stripe_standin.fail_authentication(intent.id)
    failed = client.v1.setup_intents.retrieve(intent.id)
    assert failed.status == "requires_payment_method"
    assert failed.payment_method is None
    assert failed.last_setup_error.code == "setup_intent_authentication_failure"
    assert failed.last_setup_error.payment_method.card.last4 == "3220"
    assert event_types(stripe_standin)[-1] == "setup_intent.setup_failed"
    assert client.v1.customers.payment_methods.list(customer.id).data == []

    retried = client.v1.setup_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert retried.status == "succeeded"
    assert retried.last_setup_error is None


def test_hosted_challenge_page_redirects_to_the_return_url(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    intent = new_intent(client, customer)
    pending = client.v1.setup_intents.confirm(
        intent.id,
        params={
            "payment_method": "pm_card_threeDSecure2Required",
            "return_url": "https://pier.test/cards/return?x=1",
        },
    )
    action = pending.next_action
    assert action.type == "redirect_to_url"
    assert action.redirect_to_url.return_url == "https://pier.test/cards/return?x=1"
    with httpx.Client(trust_env=False) as browser:
        page = browser.get(action.redirect_to_url.url)
        assert page.status_code == 200
        assert "Complete authentication" in page.text
        secret = parse_qs(urlsplit(action.redirect_to_url.url).query)["client_secret"][0]
        answer = browser.post(
            action.redirect_to_url.url.split("?")[0],
            data={"client_secret": secret, "outcome": "complete"},
        )
    assert answer.status_code == 303
    target = urlsplit(answer.headers["Location"])
    query = parse_qs(target.query)
    assert target.netloc == "pier.test"
    assert query["setup_intent"] == [intent.id]
    assert query["setup_intent_client_secret"] == [intent.client_secret]
    assert query["redirect_status"] == ["succeeded"]
    assert query["x"] == ["1"]
    assert client.v1.setup_intents.retrieve(intent.id).status == "succeeded"


@pytest.mark.parametrize(
    ("token", "code", "decline_code"),
    [
        ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
    ],
)
def test_declined_setup_raises_card_error(stripe_standin, token, code, decline_code):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    intent = new_intent(client, customer)
    with pytest.raises(stripe.CardError) as caught:
        client.v1.setup_intents.confirm(intent.id, params={"payment_method": token})
    error = caught.value
    assert (error.http_status, error.code, error.error.decline_code) == (402, code, decline_code)
    assert error.error.type == "card_error"
    assert error.error.setup_intent.id == intent.id
    assert error.error.setup_intent.status == "requires_payment_method"
    failed = client.v1.setup_intents.retrieve(intent.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_setup_error.decline_code == decline_code
    assert event_types(stripe_standin)[-1] == "setup_intent.setup_failed"


def test_three_d_secure_then_declined(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    pm = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4000008400001629", "exp_month": 1, "exp_year": 2040},
        }
    )
    intent = new_intent(client, customer, payment_method=pm.id, confirm=True)
    assert intent.status == "requires_action"
    after = stripe_standin.complete_authentication(intent.id)
    assert after["status"] == "requires_payment_method"
    assert after["last_setup_error"]["code"] == "card_declined"


def test_request_three_d_secure_any_challenges_every_card(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    intent = new_intent(
        client,
        customer,
        payment_method_options={"card": {"request_three_d_secure": "any"}},
        payment_method="pm_card_visa",
        confirm=True,
    )
    assert intent.status == "requires_action"


def test_payment_method_types_depends_on_the_api_version(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.setup_intents.create(
            params={"customer": customer.id, "payment_method_types": ["card"]}
        )
    assert caught.value.code == "payment_method_types_no_longer_supported"
    older = stripe_standin.client(stripe_version="2026-06-24.dahlia")
    intent = older.v1.setup_intents.create(
        params={"customer": customer.id, "payment_method_types": ["card"]}
    )
    assert intent.payment_method_types == ["card"]
    assert intent.automatic_payment_methods is None
    with pytest.raises(stripe.InvalidRequestError) as caught:
        older.v1.setup_intents.create(params={"allowed_payment_method_types": ["card"]})
    assert caught.value.code == "parameter_unknown"
    before_dynamic = stripe_standin.client(stripe_version="2022-11-15")
    assert before_dynamic.v1.setup_intents.create().automatic_payment_methods is None


def test_allowed_types_exclude_automatic_payment_methods(stripe_standin):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_standin.client().v1.setup_intents.create(
            params={
                "allowed_payment_method_types": ["card"],
                "automatic_payment_methods": {"enabled": True},
            }
        )
    assert caught.value.code == "parameters_exclusive"


def test_succeeded_intents_cannot_be_confirmed_or_canceled(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    intent = new_intent(client, customer, payment_method="pm_card_visa", confirm=True)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.setup_intents.confirm(intent.id)
    assert caught.value.code == "setup_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.setup_intents.cancel(intent.id)
    open_one = new_intent(client, customer)
    canceled = client.v1.setup_intents.cancel(
        open_one.id, params={"cancellation_reason": "abandoned"}
    )
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    assert event_types(stripe_standin)[-1] == "setup_intent.canceled"


def test_browser_confirms_with_the_publishable_key_and_client_secret(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    intent = new_intent(client, customer)
    browser = stripe_standin.client(api_key=stripe_standin.publishable_key)
    with pytest.raises(stripe.InvalidRequestError):
        browser.v1.setup_intents.retrieve(intent.id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        browser.v1.setup_intents.confirm(
            intent.id, params={"client_secret": intent.id + "_secret_wrong"}
        )
    assert caught.value.param == "client_secret"
    done = browser.v1.setup_intents.confirm(
        intent.id,
        params={
            "client_secret": intent.client_secret,
            "payment_method_data": {"type": "card", "card": {"token": "tok_visa"}},
        },
    )
    assert done.status == "succeeded"
    seen = browser.v1.setup_intents.retrieve(
        intent.id, params={"client_secret": intent.client_secret}
    )
    assert seen.status == "succeeded"


def test_list_and_expand(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create(params={"email": "e@example.com"})
    new_intent(client, customer)
    done = new_intent(client, customer, payment_method="pm_card_visa", confirm=True)
    listed = client.v1.setup_intents.list(
        params={"customer": customer.id, "expand": ["data.payment_method", "data.customer"]}
    )
    assert [i.id for i in listed.data][0] == done.id
    assert listed.data[0].payment_method.card.last4 == "4242"
    assert listed.data[0].customer.email == "e@example.com"
    assert listed.data[1].payment_method is None
