"""Webhooks: Stripe-shaped events, signatures the library verifies, retries, rotation, resends."""

from __future__ import annotations

import json

import pytest
import stripe

from tests.fixtures.stripe_standin import WEBHOOK_SECRET


def verify(request, secret=WEBHOOK_SECRET, **kwargs):
    return stripe.Webhook.construct_event(
        request.body, request.headers["Stripe-Signature"], secret, **kwargs
    )


def test_endpoint_from_the_api_gets_signed_events(stripe_standin, receiver):
    inbox = receiver()
    client = stripe_standin.client()
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": inbox.url + "/stripe/webhook", "enabled_events": ["customer.created"]}
    )
    assert endpoint.secret == WEBHOOK_SECRET
    assert "secret" not in client.v1.webhook_endpoints.retrieve(endpoint.id)
    customer = client.v1.customers.create(
        params={"email": "w@example.com"}, options={"idempotency_key": "ik-1"}
    )
    [request] = inbox.wait_for(1)
    assert request.path == "/stripe/webhook"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers["User-Agent"].startswith("Stripe/1.0")
    event = verify(request)
    assert isinstance(event, stripe.Event)
    assert event.id.startswith("evt_")
    assert event.type == "customer.created"
    assert event.data.object.id == customer.id
    assert isinstance(event.data.object, stripe.Customer)
    body = json.loads(request.body)
    assert list(body)[:2] == ["id", "object"]
    assert body["object"] == "event"
    assert body["api_version"] == stripe.api_version
    assert body["livemode"] is False
    assert body["pending_webhooks"] == 1
    assert body["request"] == {
        "id": customer.last_response.request_id,
        "idempotency_key": "ik-1",
    }
    assert abs(body["created"] - customer.created) <= 1
    assert client.v1.events.retrieve(event.id).type == "customer.created"


def test_tampered_or_stale_payloads_are_rejected(stripe_standin, receiver):
    inbox = receiver()
    stripe_standin.add_webhook_endpoint(inbox.url)
    client = stripe_standin.client()
    client.v1.customers.create(params={"name": "fresh"})
    [fresh] = inbox.wait_for(1)
    verify(fresh)
    with pytest.raises(stripe.SignatureVerificationError):
        verify(fresh, secret="whsec_someone_else")
    forged = type(fresh)(
        fresh.method, fresh.path, fresh.headers, fresh.body.replace(b"fresh", b"forge")
    )
    with pytest.raises(stripe.SignatureVerificationError):
        verify(forged)

    stripe_standin.advance_clock(-600)
    client.v1.customers.create(params={"name": "stale"})
    stale = inbox.wait_for(2)[1]
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        verify(stale)
    assert verify(stale, tolerance=900).type == "customer.created"


def test_setup_flow_events_reach_a_filtered_endpoint(stripe_standin, receiver):
    inbox = receiver()
    stripe_standin.add_webhook_endpoint(
        inbox.url, enabled_events=["setup_intent.*", "payment_method.attached"]
    )
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    intent = client.v1.setup_intents.create(
        params={"customer": customer.id, "allowed_payment_method_types": ["card"]}
    )
    client.v1.setup_intents.confirm(
        intent.id, params={"payment_method": "pm_card_threeDSecure2Required"}
    )
    stripe_standin.complete_authentication(intent.id)
    assert stripe_standin.settle()
    received = sorted((verify(r) for r in inbox.requests), key=lambda e: e.created)
    types = {e.type for e in received}
    assert types == {
        "setup_intent.created",
        "setup_intent.requires_action",
        "payment_method.attached",
        "setup_intent.succeeded",
    }
    completed = next(e for e in received if e.type == "setup_intent.succeeded")
    assert completed.request.id is None
    assert completed.data.object.status == "succeeded"


def test_failed_deliveries_are_retried_with_backoff(stripe_standin, receiver):
    inbox = receiver(statuses=[500, 503, 200])
    endpoint = stripe_standin.add_webhook_endpoint(inbox.url)
    customer = stripe_standin.client().v1.customers.create()
    [delivery] = stripe_standin.wait_for_deliveries(
        until=lambda d: d["status"] == "succeeded", webhook_endpoint=endpoint["id"]
    )
    assert [a["http_status"] for a in delivery["attempts"]] == [500, 503, 200]
    assert [a["retry_in_s"] for a in delivery["attempts"]] == pytest.approx([0.003, 0.012, None])
    assert len(inbox.requests) == 3
    [event] = stripe_standin.events("customer.created")
    assert event["data"]["object"]["id"] == customer.id
    assert stripe_standin.client().v1.events.retrieve(event["id"]).pending_webhooks == 0


def test_deliveries_give_up_after_the_last_attempt(stripe_standin, receiver):
    inbox = receiver(statuses=[500])
    stripe_standin.add_webhook_endpoint(inbox.url)
    client = stripe_standin.client()
    client.v1.customers.create()
    [delivery] = stripe_standin.wait_for_deliveries(until=lambda d: d["status"] == "failed")
    assert len(delivery["attempts"]) == 4
    failing = client.v1.events.list(params={"delivery_success": False})
    assert [e.id for e in failing.data] == [delivery["event"]]
    assert client.v1.events.list(params={"delivery_success": True}).data == []

    inbox.statuses[:] = [200]
    again = stripe_standin.retry_delivery(delivery["id"])
    assert again["status"] == "retrying"
    stripe_standin.wait_for_deliveries(until=lambda d: d["status"] == "succeeded")
    assert client.v1.events.list(params={"delivery_success": True}).data[0].id == delivery["event"]


def test_two_secrets_during_rotation(stripe_standin, receiver):
    inbox = receiver()
    endpoint = stripe_standin.add_webhook_endpoint(inbox.url, secret="whsec_old")
    stripe_standin.set_webhook_secrets(endpoint["id"], ["whsec_new", "whsec_old"])
    stripe_standin.client().v1.customers.create()
    [request] = inbox.wait_for(1)
    assert request.headers["Stripe-Signature"].count("v1=") == 2
    assert verify(request, secret="whsec_new").type == "customer.created"
    assert verify(request, secret="whsec_old").type == "customer.created"
    stripe_standin.set_webhook_secrets(endpoint["id"], ["whsec_new"])
    stripe_standin.client().v1.customers.create()
    second = inbox.wait_for(2)[1]
    verify(second, secret="whsec_new")
    with pytest.raises(stripe.SignatureVerificationError):
        verify(second, secret="whsec_old")


def test_resend_and_trigger(stripe_standin, receiver):
    inbox = receiver()
    endpoint = stripe_standin.add_webhook_endpoint(inbox.url, enabled_events=["customer.updated"])
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    [created] = stripe_standin.events("customer.created")
    [resent] = stripe_standin.resend(created["id"], webhook_endpoint=endpoint["id"])
    assert resent["event"] == created["id"]
    triggered = stripe_standin.trigger("customer.updated", object_id=customer.id)
    assert triggered["data"]["object"]["id"] == customer.id
    stripe_standin.settle()
    assert sorted(verify(r).id for r in inbox.requests) == sorted([created["id"], triggered["id"]])


def test_customer_updated_carries_previous_attributes(stripe_standin, receiver):
    inbox = receiver()
    stripe_standin.add_webhook_endpoint(inbox.url, enabled_events=["customer.updated"])
    client = stripe_standin.client()
    customer = client.v1.customers.create()
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": pm.id}}
    )
    [request] = inbox.wait_for(1)
    event = verify(request)
    assert event.data.object.invoice_settings.default_payment_method == pm.id
    assert event.data.previous_attributes.to_dict() == {
        "invoice_settings": {"default_payment_method": None}
    }


def test_disabled_endpoints_and_endpoint_api_versions(stripe_standin, receiver):
    quiet, pinned = receiver(), receiver()
    client = stripe_standin.client()
    off = client.v1.webhook_endpoints.create(params={"url": quiet.url, "enabled_events": ["*"]})
    client.v1.webhook_endpoints.update(off.id, params={"disabled": True})
    client.v1.webhook_endpoints.create(
        params={"url": pinned.url, "enabled_events": ["*"], "api_version": "2026-06-24.dahlia"}
    )
    client.v1.customers.create()
    [request] = pinned.wait_for(1)
    assert json.loads(request.body)["api_version"] == "2026-06-24.dahlia"
    stripe_standin.settle()
    assert quiet.requests == []
    listed = client.v1.webhook_endpoints.list()
    assert {e.status for e in listed.data} == {"disabled", "enabled"}
    assert client.v1.webhook_endpoints.delete(off.id).deleted is True
