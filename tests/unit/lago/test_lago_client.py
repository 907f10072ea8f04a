"""LagoClient requests: headers, URLs, bodies, pagination and typed results."""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal

import httpx
import pytest

from portal.lago import (
    Customer,
    LagoClient,
    LagoInvalidURL,
    LagoUnexpectedResponse,
    Plan,
    WebhookEndpoint,
)
from sandbox.lago.signing import encode64
from tests.unit.lago.fakes import API_KEY, body_of, lago_json, rsa_public_pem


def page_of(key, items, page, total_pages, per_page):
    next_page = page + 1 if page < total_pages else None
    meta = {
        "current_page": page,
        "next_page": next_page,
        "prev_page": page - 1 or None,
        "total_pages": total_pages,
        "total_count": per_page * (total_pages - 1) + len(items),
    }
    return {key: items, "meta": meta}


def test_sends_bearer_key_json_and_user_agent(make_client, recorder, organization_json):
    client = make_client(lambda r: lago_json(200, {"organization": organization_json}))

    client.get_organization()

    request = recorder.requests[0]
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"] == "Pier"
    assert str(request.url) == "http://lago.test:3000/api/v1/organizations"


def test_key_is_trimmed_and_not_in_repr(make_client, recorder, organization_json):
    client = make_client(
        lambda r: lago_json(200, {"organization": organization_json}), api_key=f"  {API_KEY}\n"
    )
    client.get_organization()
    assert recorder.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    assert API_KEY not in repr(client)


def test_no_authorization_header_without_key(make_client, recorder):
    client = make_client(lambda r: lago_json(200, {"version": "v1.51.0"}), api_key="")
    client.health()
    assert "authorization" not in recorder.requests[0].headers


@pytest.mark.parametrize(
    "typed",
    [
        "http://lago.test:3000",
        "http://lago.test:3000/",
        "http://lago.test:3000/api/v1",
        "http://lago.test:3000/api/v1/",
        "  HTTP://Lago.Test:3000/API/V1  ",
    ],
)
def test_api_url_is_normalised(make_client, recorder, typed, plan_json):
    client = make_client(lambda r: lago_json(200, {"plan": plan_json}), api_url=typed)
    assert client.api_url == "http://lago.test:3000"
    assert client.api_v1_url == "http://lago.test:3000/api/v1"
    client.get_plan("startup")
    assert str(recorder.requests[0].url) == "http://lago.test:3000/api/v1/plans/startup"


def test_health_is_at_the_root_not_under_api_v1(make_client, recorder):
    body = {
        "version": "v1.51.0",
        "github_url": "https://github.com/getlago/lago-api",
        "message": "Success",
    }
    client = make_client(lambda r: lago_json(200, body), api_url="https://lago.test/billing/api/v1")

    health = client.health()

    assert str(recorder.requests[0].url) == "https://lago.test/billing/health"
    assert health.ok
    assert health.version == "v1.51.0"


def test_health_rejects_json_that_is_not_a_health_check(make_client):
    client = make_client(lambda r: lago_json(200, {"status": "ok"}))
    with pytest.raises(LagoUnexpectedResponse):
        client.health()


def test_invalid_url_is_refused_at_construction():
    with pytest.raises(LagoInvalidURL):
        LagoClient("lago.test:3000", API_KEY)


def test_identifiers_are_escaped_as_one_path_segment(make_client, recorder, customer_json):
    client = make_client(lambda r: lago_json(200, {"customer": customer_json}))

    client.get_customer("acme/42 b.c?d")

    assert recorder.paths == ["/api/v1/customers/acme%2F42%20b%2Ec%3Fd"]


def test_empty_identifier_is_refused_before_any_request(make_client, recorder):
    client = make_client(lambda r: lago_json(200, {}))
    with pytest.raises(ValueError, match="non-empty"):
        client.delete_customer("  ")
    assert recorder.requests == []


def test_pagination_follows_next_page_with_explicit_per_page(make_client, recorder, plan_json):
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        per_page = int(request.url.params["per_page"])
        count = 2 if page < 3 else 1
        items = [
            {**plan_json, "lago_id": f"p{page}-{i}", "code": f"c{page}{i}"} for i in range(count)
        ]
        return lago_json(200, page_of("plans", items, page, 3, per_page))

    client = make_client(handler)

    plans = client.list_plans(per_page=2)

    assert [p.lago_id for p in plans] == ["p1-0", "p1-1", "p2-0", "p2-1", "p3-0"]
    assert all(isinstance(p, Plan) for p in plans)
    params = [dict(r.url.params) for r in recorder.requests]
    assert params == [{"page": str(n), "per_page": "2"} for n in (1, 2, 3)]


def test_pagination_default_per_page_is_sent(make_client, recorder):
    client = make_client(lambda r: lago_json(200, page_of("billable_metrics", [], 1, 1, 100)))
    assert client.list_billable_metrics() == []
    assert recorder.requests[0].url.params["per_page"] == "100"


def test_pagination_keeps_filters_on_every_page(make_client, recorder, customer_json):
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return lago_json(200, page_of("customers", [customer_json], page, 2, 1))

    client = make_client(handler)
    client.list_customers(per_page=1, params={"search_term": "acme"})
    assert [r.url.params["search_term"] for r in recorder.requests] == ["acme", "acme"]


def test_pagination_stops_when_pages_do_not_advance(make_client):
    body = {"plans": [], "meta": {"current_page": 1, "next_page": 1, "total_pages": 2}}
    client = make_client(lambda r: lago_json(200, body))
    with pytest.raises(LagoUnexpectedResponse):
        client.list_plans()


def test_fetch_page_returns_items_and_meta(make_client, webhook_endpoint_json):
    body = page_of("webhook_endpoints", [webhook_endpoint_json], 1, 1, 20)
    client = make_client(lambda r: lago_json(200, body))

    page = client.fetch_page("/webhook_endpoints", "webhook_endpoints", WebhookEndpoint.from_api)

    assert page.meta.total_count == 1
    assert page.meta.next_page is None
    assert page.items[0].webhook_url == "https://pier.example.com/webhooks/lago"


def test_create_plan_wraps_payload_once(make_client, recorder, plan_json):
    client = make_client(lambda r: lago_json(200, {"plan": plan_json}))
    payload = {"name": "Startup", "code": "startup", "interval": "monthly", "amount_cents": 4900}

    plan = client.create_plan(payload)
    client.create_plan({"plan": payload})

    assert [body_of(r) for r in recorder.requests] == [{"plan": payload}, {"plan": payload}]
    assert recorder.requests[0].method == "POST"
    assert plan.amount_cents == 4900


def test_update_and_delete_plan_use_the_code(make_client, recorder, plan_json):
    client = make_client(lambda r: lago_json(200, {"plan": plan_json}))
    client.update_plan("startup", {"amount_cents": 5900})
    client.delete_plan("startup")
    assert [(r.method, r.url.path) for r in recorder.requests] == [
        ("PUT", "/api/v1/plans/startup"),
        ("DELETE", "/api/v1/plans/startup"),
    ]
    assert body_of(recorder.requests[0]) == {"plan": {"amount_cents": 5900}}


def test_upsert_customer_posts_customer_and_encodes_dates(make_client, recorder, customer_json):
    client = make_client(lambda r: lago_json(200, {"customer": customer_json}))

    customer = client.upsert_customer(
        {
            "external_id": "acme-42",
            "name": "Acme",
            "metadata": [{"key": "since", "value": date(2025, 1, 2)}],
            "credit": Decimal("1.50"),
        }
    )

    sent = body_of(recorder.requests[0])
    assert sent["customer"]["metadata"][0]["value"] == "2025-01-02"
    assert sent["customer"]["credit"] == "1.50"
    assert isinstance(customer, Customer)


def test_upsert_customer_needs_external_id(make_client):
    client = make_client(lambda r: lago_json(200, {}))
    with pytest.raises(ValueError, match="external_id"):
        client.upsert_customer({"name": "No id"})


def test_webhook_endpoint_create_and_delete(make_client, recorder, webhook_endpoint_json):
    client = make_client(lambda r: lago_json(200, {"webhook_endpoint": webhook_endpoint_json}))

    created = client.create_webhook_endpoint("https://pier.example.com/webhooks/lago")
    client.delete_webhook_endpoint(created.lago_id)

    assert body_of(recorder.requests[0]) == {
        "webhook_endpoint": {
            "webhook_url": "https://pier.example.com/webhooks/lago",
            "signature_algo": "jwt",
        }
    }
    assert recorder.requests[1].method == "DELETE"
    assert recorder.requests[1].url.path == f"/api/v1/webhook_endpoints/{created.lago_id}"
    assert created.event_types is None


def test_webhook_endpoint_rejects_unknown_algorithm(make_client):
    client = make_client(lambda r: lago_json(200, {}))
    with pytest.raises(ValueError, match="signature_algo"):
        client.create_webhook_endpoint("https://x.test/hook", signature_algo="md5")


def test_webhook_public_key_served_as_lago_does_is_decoded_to_pem(make_client, recorder):
    pem = rsa_public_pem()
    encoded = encode64(pem.encode())  # Ruby's Base64.encode64: a newline every 60 characters
    client = make_client(lambda r: lago_json(200, {"webhook": {"public_key": encoded}}))

    assert client.get_webhook_public_key() == pem
    assert recorder.paths == ["/api/v1/webhooks/json_public_key"]


@pytest.mark.parametrize("public_key", ["not base64!", base64.b64encode(b"hello").decode(), None])
def test_webhook_public_key_garbage_is_unexpected(make_client, public_key):
    client = make_client(lambda r: lago_json(200, {"webhook": {"public_key": public_key}}))
    with pytest.raises(LagoUnexpectedResponse) as raised:
        client.get_webhook_public_key()
    assert raised.value.message.startswith("Lago sent a webhook public key Pier cannot read.")


def test_read_methods_for_later_features(
    make_client,
    recorder,
    subscription_json,
    invoice_json,
    usage_json,
    wallet_json,
    payment_method_json,
):
    routes = {
        "/api/v1/subscriptions/acme-42-main": {"subscription": subscription_json},
        "/api/v1/subscriptions": page_of("subscriptions", [subscription_json], 1, 1, 100),
        "/api/v1/invoices/inv-1": {"invoice": invoice_json},
        "/api/v1/invoices": page_of("invoices", [invoice_json], 1, 1, 100),
        "/api/v1/customers/acme-42/current_usage": {"customer_usage": usage_json},
        "/api/v1/wallets": page_of("wallets", [wallet_json], 1, 1, 100),
        "/api/v1/wallets/w-1": {"wallet": wallet_json},
        "/api/v1/customers/acme-42/payment_methods": page_of(
            "payment_methods", [payment_method_json], 1, 1, 100
        ),
    }
    client = make_client(lambda r: lago_json(200, routes[r.url.path]))

    assert client.get_subscription("acme-42-main", status="pending").next_plan_code == "hobby"
    assert client.list_subscriptions(external_customer_id="acme-42", statuses=["active", "pending"])
    assert client.get_invoice("inv-1").total_amount_cents == 5759
    assert client.list_invoices(external_customer_id="acme-42")[0].number == "ACME-202503-003"
    assert client.get_current_usage("acme-42", "acme-42-main").total_amount_cents == 479
    assert client.list_wallets("acme-42")[0].balance_cents == 2550
    assert client.get_wallet("w-1").code == "prepaid"
    assert client.list_payment_methods("acme-42")[0].is_default

    queries = [str(r.url.query, "ascii") for r in recorder.requests]
    assert queries[0] == "status=pending"
    assert "status%5B%5D=active&status%5B%5D=pending" in queries[1]
    assert "external_subscription_id=acme-42-main" in queries[4]
    assert "external_customer_id=acme-42" in queries[5]


def test_missing_root_key_is_unexpected(make_client):
    client = make_client(lambda r: lago_json(200, {"plans": []}))
    with pytest.raises(LagoUnexpectedResponse) as caught:
        client.get_plan("startup")
    assert caught.value.details == {"missing": "plan"}
    assert caught.value.request == "GET /plans/startup"


def test_object_without_identity_is_unexpected(make_client, plan_json):
    del plan_json["lago_id"]
    client = make_client(lambda r: lago_json(200, {"plan": plan_json}))
    with pytest.raises(LagoUnexpectedResponse):
        client.get_plan("startup")


def test_context_manager_closes_the_pool(make_client):
    client = make_client(lambda r: lago_json(200, {}))
    with client as same:
        assert same is client
    assert client._http.is_closed
