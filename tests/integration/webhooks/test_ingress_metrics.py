"""Webhook ingress: each delivery counted by outcome and logged under the webhook's own id."""

from __future__ import annotations

import logging

from prometheus_client import REGISTRY

from portal.models import WebhookEvent
from portal.observability import correlation
from tests.integration.webhooks.test_stripe_signatures import URL, rows, signed, stripe_body


def _received(outcome: str) -> float:
    labels = {"source": "stripe", "outcome": outcome}
    return REGISTRY.get_sample_value("pier_webhooks_received_total", labels) or 0.0


def test_deliveries_are_counted_by_outcome_and_logged_under_the_webhook_id(
    webhook_app, client, caplog
):
    before = {k: _received(k) for k in ("stored", "duplicate", "bad_signature")}
    body = stripe_body("evt_counted")
    with caplog.at_level(logging.INFO, "portal.webhooks.routes"):
        assert client.post(URL, data=body, headers=signed(body)).status_code == 200
        assert client.post(URL, data=body, headers=signed(body)).status_code == 200
        assert client.post(URL, data=body, headers=signed(body, "whsec_x")).status_code == 401
    assert {k: _received(k) - v for k, v in before.items()} == {
        "stored": 1,
        "duplicate": 1,
        "bad_signature": 1,
    }
    [event] = rows(webhook_app, WebhookEvent)
    lines = [(r.outcome, r.request_id) for r in caplog.records if hasattr(r, "outcome")]
    webhook_id = correlation.webhook_id("stripe", event.id)
    assert lines[:2] == [("stored", webhook_id), ("duplicate", webhook_id)]
    assert lines[2][0] == "bad_signature"
    assert lines[2][1].startswith("wh-")
    assert "whsec_" not in caplog.text
