"""Billing webhooks from real objects through the trigger endpoint, and the delivery tools the
portal's tests use to prove dedupe and ordering: duplicates, stale snapshots, concurrency."""

from __future__ import annotations

import base64
import json
import threading
import time

import jwt
import pytest

from sandbox.lago.webhook_types import WEBHOOK_TYPES
from sandbox.serving import serve_in_thread

from .billing_helpers import START, add_endpoint, customer, invoices, ok, subscribe

BILLING_TYPES = (
    "subscription.started",
    "subscription.updated",
    "subscription.terminated",
    "subscription.canceled",
    "subscription.trial_ended",
    "subscription.termination_alert",
    "subscription.usage_threshold_reached",
    "subscription.incomplete",
    "invoice.created",
    "invoice.generated",
    "invoice.drafted",
    "invoice.voided",
    "invoice.one_off_created",
    "invoice.paid_credit_added",
    "invoice.payment_status_updated",
    "invoice.payment_overdue",
    "invoice.payment_failure",
    "payment.requires_action",
    "payment.succeeded",
    "credit_note.created",
    "wallet.depleted_ongoing_balance",
    "wallet_transaction.created",
    "wallet_transaction.updated",
    "customer.payment_provider_created",
    "customer.payment_provider_error",
    "customer.updated",
    "events.errors",
)


@pytest.fixture
def world(lago_standin):
    """A customer with an upgraded subscription (credit note), a wallet and an event."""
    lago_standin.seed()
    lago_standin.travel_to(START)
    with lago_standin.client() as client:
        customer(client)
        subscribe(client, "pro")
        subscribe(client, "business")
        wallet = ok(
            client.post(
                "/wallets",
                json={
                    "wallet": {
                        "external_customer_id": "acme",
                        "rate_amount": "1",
                        "currency": "USD",
                        "granted_credits": "5",
                    }
                },
            )
        )["wallet"]
        ok(
            client.post(
                "/events",
                json={
                    "event": {
                        "transaction_id": "evt-1",
                        "external_subscription_id": "sub_1",
                        "code": "api_calls",
                    }
                },
            )
        )
        invoice = invoices(client)[0]
        note = ok(client.get("/credit_notes"))["credit_notes"][0]
        transaction = ok(client.get(f"/wallets/{wallet['lago_id']}/wallet_transactions"))[
            "wallet_transactions"
        ][0]
    return {
        "subscription": "sub_1",
        "invoice": invoice["lago_id"],
        "payment": invoice["lago_id"],
        "payment_provider_invoice_payment_error": invoice["lago_id"],
        "credit_note": note["lago_id"],
        "wallet": wallet["lago_id"],
        "wallet_transaction": transaction["lago_id"],
        "customer": "acme",
        "payment_provider_customer_error": "acme",
        "events_errors": "evt-1",
    }


def public_key(lago_standin) -> bytes:
    with lago_standin.client() as client:
        encoded = client.get("/webhooks/json_public_key").json()["webhook"]["public_key"]
    return base64.b64decode(encoded)


def test_every_billing_type_from_real_objects_is_signed_and_spec_valid(
    lago_standin, world, receiver
):
    inbox = receiver()
    with lago_standin.client() as client:
        add_endpoint(client, inbox.url)
    for webhook_type in BILLING_TYPES:
        object_type = WEBHOOK_TYPES[webhook_type]
        [record] = lago_standin.trigger(webhook_type, world[object_type])
        assert record["webhook_type"] == webhook_type
    requests = inbox.wait_for(len(BILLING_TYPES))
    key = public_key(lago_standin)
    seen = {}
    for request in requests:
        body = request.body.decode()
        claims = jwt.decode(
            request.headers["X-Lago-Signature"], key, algorithms=["RS256"], issuer=lago_standin.url
        )
        assert claims["data"] == body
        payload = json.loads(body)
        assert payload["organization_id"] == lago_standin.organization_id
        assert payload[payload["object_type"]], payload["webhook_type"]
        seen[payload["webhook_type"]] = payload
    assert set(seen) == set(BILLING_TYPES)
    threshold = seen["subscription.usage_threshold_reached"]["subscription"]
    assert threshold["usage_threshold"]["amount_cents"] > 0
    assert seen["payment.succeeded"]["payment"]["lago_payable_id"] == world["invoice"]
    # The fixture's teardown fails the test if any of these bodies broke the spec.


def test_trigger_for_an_unknown_object_is_404(lago_standin):
    with lago_standin.control() as control:
        reply = control.post(
            "/webhooks/trigger",
            json={"webhook_type": "invoice.payment_failure", "object_id": "nope"},
        )
    assert reply.status_code == 404


def test_copies_deliver_one_webhook_twice_with_the_same_unique_key(lago_standin, world, receiver):
    inbox = receiver()
    with lago_standin.client() as client:
        add_endpoint(client, inbox.url)
    [record] = lago_standin.trigger("invoice.payment_overdue", world["invoice"], copies=2)
    first, second = inbox.wait_for(2)
    assert lago_standin.settle()
    assert first.headers["X-Lago-Unique-Key"] == second.headers["X-Lago-Unique-Key"] == record["id"]
    assert first.body == second.body
    [stored] = lago_standin.webhooks(id=record["id"])
    assert len(stored["attempts"]) == 2


def test_concurrent_copies_arrive_at_the_same_time(lago_standin, world):
    """The receiver lets a request through only when three are in flight at once."""
    barrier = threading.Barrier(3, timeout=3)
    arrived = []

    def app(environ, start_response):
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        arrived.append(environ["HTTP_X_LAGO_UNIQUE_KEY"])
        try:
            barrier.wait()
            status = "200 OK"
        except threading.BrokenBarrierError:
            status = "500 Not Concurrent"
        start_response(status, [("Content-Type", "text/plain")])
        return [b"ok"]

    server = serve_in_thread(app)
    try:
        with lago_standin.client() as client:
            add_endpoint(client, server.url)
        [record] = lago_standin.trigger(
            "invoice.payment_status_updated", world["invoice"], copies=3, concurrent=True
        )
        assert lago_standin.settle()
    finally:
        server.stop()
    [stored] = lago_standin.webhooks(id=record["id"])
    assert [a["http_status"] for a in stored["attempts"]] == [200, 200, 200]
    assert arrived == [record["id"]] * 3


def test_an_older_snapshot_can_arrive_after_a_newer_one(lago_standin, world, receiver):
    inbox = receiver()
    with lago_standin.client() as client:
        add_endpoint(client, inbox.url)
        lago_standin.hold_webhooks()
        path = f"/invoices/{world['invoice']}"
        ok(client.put(path, json={"invoice": {"payment_status": "failed"}}))
        lago_standin.advance(seconds=30)
        ok(client.put(path, json={"invoice": {"payment_status": "succeeded"}}))
    held = lago_standin.webhooks(webhook_type="invoice.payment_status_updated")
    assert [json.loads(h["payload"])["invoice"]["payment_status"] for h in held] == [
        "failed",
        "succeeded",
    ]
    assert inbox.requests == []
    released = lago_standin.release_webhooks(order="lifo")
    assert released == [h["id"] for h in reversed(held)]
    newer, older = (json.loads(r.body)["invoice"] for r in inbox.wait_for(2))
    assert (newer["payment_status"], older["payment_status"]) == ("succeeded", "failed")
    assert older["updated_at"] < newer["updated_at"]
    lago_standin.settle()

    # Replaying stored webhooks in a chosen order, as redeliveries or as new webhooks.
    lago_standin.deliver_webhooks([held[1]["id"], held[0]["id"]])
    inbox.wait_for(4)  # each call sends from its own thread: the next must not overtake these
    lago_standin.deliver_webhooks([held[0]["id"]], new_unique_key=True)
    requests = inbox.wait_for(5)
    keys = [r.headers["X-Lago-Unique-Key"] for r in requests[2:]]
    assert keys[:2] == [held[1]["id"], held[0]["id"]]
    assert keys[2] not in {h["id"] for h in held}
    assert requests[4].body == requests[3].body
    copy = lago_standin.webhooks(id=keys[2])[0]
    assert copy["copy_of"] == held[0]["id"]


def test_hold_then_unhold_sends_in_order_and_replay(lago_standin, world, receiver):
    inbox = receiver()
    with lago_standin.client() as client:
        add_endpoint(client, inbox.url)
    held = lago_standin.trigger("subscription.updated", "sub_1", hold=True)
    lago_standin.trigger("subscription.trial_ended", "sub_1", hold=True)
    time.sleep(0.05)
    assert inbox.requests == []
    released = lago_standin.hold_webhooks(False)
    assert len(released) == 2
    bodies = [json.loads(r.body)["webhook_type"] for r in inbox.wait_for(2)]
    assert bodies == ["subscription.updated", "subscription.trial_ended"]
    replayed = lago_standin.replay_webhook(held[0]["id"], copies=2)
    assert [r["id"] for r in replayed] == [held[0]["id"]]
    assert len(inbox.wait_for(4)) == 4


def test_control_errors_for_webhook_tools(lago_standin):
    with lago_standin.control() as control:
        bad_ids = control.post("/webhooks/deliver", json={"ids": []})
        unknown = control.post("/webhooks/deliver", json={"ids": ["nope"]})
        bad_order = control.post("/webhooks/release", json={"order": "random"})
        bad_copies = control.post(
            "/webhooks/trigger",
            json={"webhook_type": "customer.updated", "object": {}, "copies": 0},
        )
    assert bad_ids.status_code == 400
    assert unknown.status_code == 404
    assert bad_order.status_code == 400
    assert bad_copies.status_code == 400


def test_payment_knob_control_api(lago_standin):
    with lago_standin.control() as control:
        set_global = control.put("/payments", json={"default": "failed"}).json()
        set_one = control.put(
            "/payments", json={"external_customer_id": "acme", "outcomes": ["requires_action"]}
        ).json()
        bad = control.put("/payments", json={"default": "maybe"})
        unknown = control.put("/payments", json={"colour": "red"})
        cleared = control.delete("/payments").json()
    assert set_global["global"]["default"] == "failed"
    assert set_one["customers"]["acme"]["outcomes"] == ["requires_action"]
    assert set_one["customers"]["acme"]["default"] == "failed"
    assert bad.status_code == 400
    assert unknown.status_code == 400
    assert cleared == {
        "global": {
            "outcomes": [],
            "default": None,
            "error_code": "card_declined",
            "error_message": "Your card was declined.",
            "retry_after_seconds": None,
            "max_retries": 0,
            "provider_customer_error": None,
        },
        "customers": {},
    }
