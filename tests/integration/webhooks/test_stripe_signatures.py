"""Stripe deliveries: `Stripe-Signature` with either of two secrets, within five minutes."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa
import stripe

from portal.extensions import db
from portal.models import EventSource, EventStatus, SignatureFailure, WebhookEvent
from tests.integration.webhooks.conftest import STRIPE_OLD_SECRET, STRIPE_SECRET

URL = "/webhooks/stripe"


def stripe_body(event_id: str = "evt_1", kind: str = "payment_method.attached") -> bytes:
    payload = {
        "id": event_id,
        "object": "event",
        "type": kind,
        "data": {"object": {"id": "pm_123", "object": "payment_method", "customer": "cus_9"}},
    }
    return json.dumps(payload).encode()


def signed(body: bytes, secret: str = STRIPE_SECRET, timestamp: int | None = None) -> dict:
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp)
    return {"Content-Type": "application/json", "Stripe-Signature": header}


def rows(app, model):
    with app.app_context():
        return list(db.session.scalars(sa.select(model)))


@pytest.mark.parametrize("secret", [STRIPE_SECRET, STRIPE_OLD_SECRET])
def test_either_secret_is_accepted_during_rotation(
    webhook_app, client, webhook_queue, event_job_id, dispatch, secret
):
    body = stripe_body()
    response = client.post(URL, data=body, headers=signed(body, secret))
    assert response.status_code == 200
    [event] = rows(webhook_app, WebhookEvent)
    assert (event.source, event.unique_key, event.event_type) == (
        EventSource.stripe,
        "evt_1",
        "payment_method.attached",
    )
    assert (event.object_type, event.object_key) == ("payment_method", "pm_123")
    assert event.headers["Stripe-Signature"] == "[removed]"
    assert event.status is EventStatus.received
    assert dispatch() == 1
    assert webhook_queue.job_ids == [event_job_id(event.id)]


def refused(app, response) -> str:
    assert response.status_code == 401
    assert rows(app, WebhookEvent) == []
    [failure] = rows(app, SignatureFailure)
    assert failure.source is EventSource.stripe
    return failure.reason


def test_an_unknown_secret_is_refused(webhook_app, client):
    body = stripe_body()
    reason = refused(webhook_app, client.post(URL, data=body, headers=signed(body, "whsec_x")))
    assert "No signatures found matching" in reason


def test_an_expired_timestamp_is_refused(webhook_app, client):
    body = stripe_body()
    old = int(time.time()) - 301
    reason = refused(webhook_app, client.post(URL, data=body, headers=signed(body, timestamp=old)))
    assert "tolerance" in reason


def test_a_recent_timestamp_is_accepted(webhook_app, client):
    body = stripe_body()
    recent = int(time.time()) - 290
    assert client.post(URL, data=body, headers=signed(body, timestamp=recent)).status_code == 200


def test_a_tampered_body_is_refused(webhook_app, client):
    body = stripe_body()
    headers = signed(body)
    reason = refused(
        webhook_app, client.post(URL, data=body.replace(b"pm_123", b"pm_124"), headers=headers)
    )
    assert "No signatures found matching" in reason


def test_a_missing_header_is_refused(webhook_app, client):
    reason = refused(webhook_app, client.post(URL, data=stripe_body()))
    assert reason == "missing Stripe-Signature header"


def test_a_malformed_header_is_refused(webhook_app, client):
    body = stripe_body()
    headers = {"Stripe-Signature": "garbage"}
    assert "Unable to extract" in refused(webhook_app, client.post(URL, data=body, headers=headers))


def test_the_same_event_id_is_stored_once(webhook_app, client, webhook_queue, dispatch):
    body = stripe_body("evt_dup")
    for _ in range(3):
        assert client.post(URL, data=body, headers=signed(body)).status_code == 200
    [event] = rows(webhook_app, WebhookEvent)
    assert event.duplicates == 2
    assert dispatch() == 1
    assert webhook_queue.count == 1


def test_without_secrets_stripe_is_told_to_retry(webhook_app, client):
    webhook_app.config["STRIPE_WEBHOOK_SECRETS"] = []
    body = stripe_body()
    response = client.post(URL, data=body, headers=signed(body))
    assert response.status_code == 503
    assert "STRIPE_WEBHOOK_SECRETS" in response.get_json()["error"]
    assert rows(webhook_app, WebhookEvent) == []


def test_a_body_over_the_limit_is_413(webhook_app, client):
    webhook_app.config["WEBHOOK_MAX_BYTES"] = 512
    body = json.dumps({"id": "evt_big", "type": "x", "pad": "p" * 1000}).encode()
    assert client.post(URL, data=body, headers=signed(body)).status_code == 413
    assert rows(webhook_app, WebhookEvent) == []
