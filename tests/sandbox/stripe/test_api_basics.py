"""The wire format: keys, error bodies, unknown parameters and routes, lists, idempotency."""

from __future__ import annotations

import httpx
import pytest
import stripe


def raw(stripe_standin, key=None):
    headers = {"Authorization": f"Bearer {key or stripe_standin.api_key}"}
    return httpx.Client(base_url=stripe_standin.url, headers=headers, trust_env=False)


def test_missing_and_wrong_keys_are_authentication_errors(stripe_standin):
    with pytest.raises(stripe.AuthenticationError) as caught:
        stripe_standin.client(api_key="sk_test_not_the_right_key_1234").v1.customers.list()
    assert caught.value.http_status == 401
    assert "sk_test_" in str(caught.value) and "1234" in str(caught.value)
    assert "not_the_right" not in str(caught.value)
    with httpx.Client(trust_env=False) as plain:
        reply = plain.get(stripe_standin.url + "/v1/customers")
    assert reply.status_code == 401
    assert reply.json()["error"]["type"] == "invalid_request_error"
    assert "did not provide an API key" in reply.json()["error"]["message"]


def test_basic_auth_with_the_key_as_user_name(stripe_standin):
    with httpx.Client(trust_env=False, auth=(stripe_standin.api_key, "")) as curl_like:
        reply = curl_like.get(stripe_standin.url + "/v1/customers")
    assert reply.status_code == 200
    assert reply.json() == {"object": "list", "data": [], "has_more": False, "url": "/v1/customers"}


def test_error_body_shape_and_headers(stripe_standin):
    with raw(stripe_standin) as client:
        reply = client.get("/v1/customers/cus_missing")
    assert reply.status_code == 404
    assert reply.json() == {
        "error": {
            "code": "resource_missing",
            "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
            "message": "No such customer: 'cus_missing'",
            "param": "id",
            "type": "invalid_request_error",
        }
    }
    assert reply.headers["Request-Id"].startswith("req_")
    assert reply.headers["Stripe-Version"] == stripe.api_version


def test_form_body_with_brackets_is_understood(stripe_standin):
    with raw(stripe_standin) as client:
        reply = client.post(
            "/v1/customers",
            content="name=A&metadata[k]=v&preferred_locales[]=de&preferred_locales[]=en",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    body = reply.json()
    assert (body["name"], body["metadata"], body["preferred_locales"]) == (
        "A",
        {"k": "v"},
        ["de", "en"],
    )
    assert list(body)[:2] == ["id", "object"]


def test_unknown_and_unsupported_parameters(stripe_standin):
    client = stripe_standin.client()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"nickname": "x"})
    assert (caught.value.code, caught.value.param) == ("parameter_unknown", "nickname")
    assert str(caught.value).endswith("Received unknown parameter: nickname")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"invoice_settings": {"colour": "red"}})
    assert caught.value.param == "invoice_settings[colour]"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"tax_id_data": [{"type": "eu_vat", "value": "x"}]})
    assert caught.value.code == "not_implemented_in_sandbox"


def test_unknown_routes(stripe_standin):
    with raw(stripe_standin) as client:
        unknown = client.get("/v1/nothing_here")
        later = client.post("/v1/payment_intents", data={"amount": "100"})
        search = client.get("/v1/customers/search", params={"query": "email:'a@b.c'"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"].startswith(
        "Unrecognized request URL (GET: /v1/nothing_here)"
    )
    assert later.status_code == 501
    assert later.json()["error"]["code"] == "not_implemented_in_sandbox"
    assert search.status_code == 501


def test_cors_preflight_for_browser_callers(stripe_standin):
    with httpx.Client(trust_env=False) as browser:
        reply = browser.options(stripe_standin.url + "/v1/setup_intents/seti_x/confirm")
    assert reply.status_code == 200
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in reply.headers["Access-Control-Allow-Headers"]


def test_pagination_with_starting_after_and_ending_before(stripe_standin):
    client = stripe_standin.client()
    ids = [client.v1.customers.create(params={"name": f"c{i}"}).id for i in range(25)]
    newest_first = ids[::-1]
    first = client.v1.customers.list(params={"limit": 10})
    assert [c.id for c in first.data] == newest_first[:10]
    assert first.has_more is True
    second = client.v1.customers.list(params={"limit": 10, "starting_after": first.data[-1].id})
    assert [c.id for c in second.data] == newest_first[10:20]
    back = client.v1.customers.list(params={"limit": 3, "ending_before": second.data[0].id})
    assert [c.id for c in back.data] == newest_first[7:10]
    assert back.has_more is True
    everything = client.v1.customers.list(params={"limit": 7}).auto_paging_iter()
    assert [c.id for c in everything] == newest_first
    default = client.v1.customers.list()
    assert len(default.data) == 10
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.list(params={"limit": 101})
    assert caught.value.param == "limit"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.list(params={"starting_after": "cus_gone"})
    assert caught.value.param == "starting_after"


def test_created_filter(stripe_standin):
    client = stripe_standin.client()
    early = client.v1.customers.create()
    stripe_standin.advance_clock(3600)
    late = client.v1.customers.create()
    assert late.created - early.created >= 3600
    found = client.v1.customers.list(params={"created": {"gt": early.created}})
    assert [c.id for c in found.data] == [late.id]


def test_idempotency_key_replays_the_first_reply(stripe_standin):
    client = stripe_standin.client()
    options = {"idempotency_key": "create-ada-1"}
    first = client.v1.customers.create(params={"name": "Ada"}, options=options)
    again = client.v1.customers.create(params={"name": "Ada"}, options=options)
    assert again.id == first.id
    assert len(client.v1.customers.list().data) == 1
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert again.last_response.request_id == first.last_response.request_id
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(params={"name": "Bob"}, options=options)
    with pytest.raises(stripe.IdempotencyError):
        client.v1.setup_intents.create(options=options)


def test_card_errors_are_replayed_too(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    intent = client.v1.setup_intents.create(
        params={"customer": customer.id, "allowed_payment_method_types": ["card"]}
    )
    options = {"idempotency_key": "confirm-1"}
    params = {"payment_method": "pm_card_chargeDeclined"}
    for _ in range(2):
        with pytest.raises(stripe.CardError):
            client.v1.setup_intents.confirm(intent.id, params=params, options=options)
    assert len(stripe_standin.events("setup_intent.setup_failed")) == 1


def test_library_retries_are_safe_thanks_to_idempotency_keys(stripe_standin, monkeypatch):
    monkeypatch.setattr(stripe.RequestsClient, "_sleep_time_seconds", lambda _self, _n: 0.0)
    stripe_standin.set_faults(error_rate=1.0, error_status=500, times=1)
    client = stripe_standin.client(max_network_retries=1)
    customer = client.v1.customers.create(params={"name": "retried"})
    assert [c.id for c in client.v1.customers.list().data] == [customer.id]


def test_invalid_api_version_header(stripe_standin):
    with raw(stripe_standin) as client:
        reply = client.get("/v1/customers", headers={"Stripe-Version": "yesterday"})
    assert reply.status_code == 400
    assert "Invalid Stripe API version" in reply.json()["error"]["message"]


def test_expand_errors(stripe_standin):
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        client.v1.customers.retrieve(customer.id, params={"expand": ["email"]})
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    expanded = client.v1.payment_methods.retrieve(pm.id, params={"expand": ["customer"]})
    assert isinstance(expanded.customer, stripe.Customer)
