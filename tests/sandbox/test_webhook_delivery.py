"""Webhook delivery: body, signatures (JWT and HMAC), retries, redirects, filters, triggers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import uuid

import jwt
import pytest


def add_endpoint(lago_standin, url, **fields):
    with lago_standin.client() as client:
        reply = client.post(
            "/webhook_endpoints", json={"webhook_endpoint": {"webhook_url": url} | fields}
        )
    assert reply.status_code == 200, reply.text
    return reply.json()["webhook_endpoint"]


def public_key_pem(lago_standin) -> bytes:
    with lago_standin.client() as client:
        encoded = client.get("/webhooks/json_public_key").json()["webhook"]["public_key"]
    return base64.b64decode(encoded)


def test_customer_created_is_signed_with_rs256_jwt(lago_standin, receiver):
    inbox = receiver()
    add_endpoint(lago_standin, inbox.url + "/lago")
    with lago_standin.client() as client:
        client.post("/customers", json={"customer": {"external_id": "c1", "name": "A & <B>"}})
    [request] = inbox.wait_for(1)
    assert request.path == "/lago"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Lago-Signature-Algorithm"] == "jwt"
    uuid.UUID(request.headers["X-Lago-Unique-Key"])
    body = request.body.decode()
    # Compact JSON with Rails' HTML-safe escapes, so only the raw bytes verify.
    assert '"name":"A \\u0026 \\u003cB\\u003e"' in body
    claims = jwt.decode(
        request.headers["X-Lago-Signature"],
        public_key_pem(lago_standin),
        algorithms=["RS256"],
        issuer=lago_standin.url,
    )
    assert claims == {"data": body, "iss": lago_standin.url}
    payload = json.loads(body)
    assert list(payload) == ["webhook_type", "object_type", "organization_id", "customer"]
    assert payload["webhook_type"] == "customer.created"
    assert payload["object_type"] == "customer"
    assert payload["organization_id"] == lago_standin.organization_id
    assert payload["customer"]["external_id"] == "c1"


def test_hmac_signature_uses_the_org_hmac_key(lago_standin, receiver):
    inbox = receiver()
    add_endpoint(lago_standin, inbox.url, signature_algo="hmac")
    with lago_standin.client() as client:
        client.post("/customers", json={"customer": {"external_id": "c1"}})
        client.post("/customers", json={"customer": {"external_id": "c1", "name": "Renamed"}})
    first, second = inbox.wait_for(2)
    for request in (first, second):
        expected = base64.b64encode(
            hmac.new(lago_standin.hmac_key.encode(), request.body, hashlib.sha256).digest()
        ).decode()
        assert request.headers["X-Lago-Signature-Algorithm"] == "hmac"
        assert hmac.compare_digest(request.headers["X-Lago-Signature"], expected)
    assert [json.loads(r.body)["webhook_type"] for r in (first, second)] == [
        "customer.created",
        "customer.updated",
    ]


def test_plan_webhooks(lago_standin, receiver):
    inbox = receiver()
    add_endpoint(lago_standin, inbox.url)
    plan = {
        "name": "P",
        "code": "p",
        "interval": "monthly",
        "amount_cents": 100,
        "amount_currency": "USD",
        "pay_in_advance": False,
    }
    with lago_standin.client() as client:
        client.post("/plans", json={"plan": plan})
        client.put("/plans/p", json={"plan": {"name": "P2"}})
        client.delete("/plans/p")
    bodies = [json.loads(r.body) for r in inbox.wait_for(3)]
    assert [b["webhook_type"] for b in bodies] == ["plan.created", "plan.updated", "plan.deleted"]
    assert {b["object_type"] for b in bodies} == {"plan"}
    assert bodies[2]["plan"]["pending_deletion"] is True


def test_failures_are_retried_three_times_with_the_same_unique_key(lago_standin, receiver):
    inbox = receiver(statuses=[500, 203, 500])
    add_endpoint(lago_standin, inbox.url)
    with lago_standin.client() as client:
        client.post("/customers", json={"customer": {"external_id": "c1"}})
    attempts = inbox.wait_for(3)
    assert lago_standin.settle()
    assert len({r.headers["X-Lago-Unique-Key"] for r in attempts}) == 1
    assert len({r.body for r in attempts}) == 1
    [record] = lago_standin.webhooks()
    assert record["status"] == "failed"
    assert [a["http_status"] for a in record["attempts"]] == [500, 203, 500]
    first_wait, second_wait = (a["retry_in_s"] for a in record["attempts"][:2])
    assert 3.0 <= first_wait <= 3.15
    assert 18.0 <= second_wait <= 20.4
    assert record["attempts"][2]["retry_in_s"] is None


def test_success_after_a_failure(lago_standin, receiver):
    inbox = receiver(statuses=[502, 204])
    add_endpoint(lago_standin, inbox.url)
    with lago_standin.client() as client:
        client.post("/customers", json={"customer": {"external_id": "c1"}})
    inbox.wait_for(2)
    assert lago_standin.settle()
    [record] = lago_standin.webhooks()
    assert record["status"] == "succeeded"
    assert record["retries"] == 1


def test_redirects_are_failures_and_not_followed(lago_standin, receiver):
    inbox = receiver(statuses=[301])
    add_endpoint(lago_standin, inbox.url + "/hook")
    with lago_standin.client() as client:
        client.post("/customers", json={"customer": {"external_id": "c1"}})
    assert lago_standin.settle()
    assert [r.path for r in inbox.requests] == ["/hook"] * 3
    assert lago_standin.webhooks()[0]["status"] == "failed"


def test_unreachable_endpoint_fails_after_three_attempts(lago_standin):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    add_endpoint(lago_standin, f"http://127.0.0.1:{port}/gone")
    with lago_standin.client() as client:
        client.post("/customers", json={"customer": {"external_id": "c1"}})
    assert lago_standin.settle()
    [record] = lago_standin.webhooks()
    assert record["status"] == "failed"
    assert [a["http_status"] for a in record["attempts"]] == [None, None, None]
    assert all(a["error"].startswith("ConnectError") for a in record["attempts"])


def test_event_types_filter_deliveries(lago_standin, receiver):
    plans_only = receiver()
    everything = receiver()
    add_endpoint(lago_standin, plans_only.url, event_types=["plan.created"])
    add_endpoint(lago_standin, everything.url)
    with lago_standin.client() as client:
        client.post("/customers", json={"customer": {"external_id": "c1"}})
        client.post(
            "/plans",
            json={
                "plan": {
                    "name": "P",
                    "code": "p",
                    "interval": "monthly",
                    "amount_cents": 0,
                    "amount_currency": "USD",
                    "pay_in_advance": False,
                }
            },
        )
    assert lago_standin.settle()
    assert [json.loads(r.body)["webhook_type"] for r in plans_only.requests] == ["plan.created"]
    assert len(everything.requests) == 2


def test_trigger_any_type_through_the_control_api(lago_standin, receiver):
    inbox = receiver()
    add_endpoint(lago_standin, inbox.url)
    with lago_standin.client() as client:
        client.post("/customers", json={"customer": {"external_id": "c1"}})
    inbox.wait_for(1)
    with lago_standin.control() as control:
        by_id = control.post(
            "/webhooks/trigger", json={"webhook_type": "customer.vies_check", "object_id": "c1"}
        )
        raw = control.post(
            "/webhooks/trigger",
            json={"webhook_type": "invoice.generated", "object": {"lago_id": "x"}},
        )
        unknown = control.post("/webhooks/trigger", json={"webhook_type": "nope.nope"})
        missing = control.post(
            "/webhooks/trigger", json={"webhook_type": "customer.updated", "object_id": "nobody"}
        )
    assert by_id.status_code == 200
    assert by_id.json()["webhooks"][0]["webhook_type"] == "customer.vies_check"
    assert raw.status_code == 200
    assert unknown.status_code == 400
    assert missing.status_code == 404
    # Each webhook is delivered on its own, so they may arrive in any order.
    bodies = {b["webhook_type"]: b for b in (json.loads(r.body) for r in inbox.wait_for(3))}
    assert bodies["customer.vies_check"]["customer"]["external_id"] == "c1"
    assert bodies["invoice.generated"] == {
        "webhook_type": "invoice.generated",
        "object_type": "invoice",
        "organization_id": lago_standin.organization_id,
        "invoice": {"lago_id": "x"},
    }
    # The made-up invoice does not match the spec's InvoiceObject: that is recorded.
    violations = lago_standin.pop_violations()
    assert [v.kind for v in violations] == ["webhook"]
    assert "invoice" in " ".join(violations[0].errors)


@pytest.mark.parametrize("algo", ["jwt", "hmac"])
def test_manual_retry_keeps_the_unique_key(lago_standin, receiver, algo):
    inbox = receiver(statuses=[500, 500, 500, 200])
    add_endpoint(lago_standin, inbox.url, signature_algo=algo)
    with lago_standin.client() as client:
        client.post("/customers", json={"customer": {"external_id": "c1"}})
    inbox.wait_for(3)
    assert lago_standin.settle()
    [record] = lago_standin.webhooks()
    with lago_standin.control() as control:
        assert control.post(f"/webhooks/{record['id']}/retry").status_code == 200
    requests = inbox.wait_for(4)
    assert lago_standin.settle()
    assert {r.headers["X-Lago-Unique-Key"] for r in requests} == {record["id"]}
    assert lago_standin.webhooks()[0]["status"] == "succeeded"
