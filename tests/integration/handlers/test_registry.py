"""The registry: the handled types, unknown types ignored, payload files shaped like Lago's."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import BillingAccount, InvoiceMirror, Notice, SubscriptionMirror, WebhookEvent
from portal.webhooks import registry
from tests.integration.handlers.support import PAYLOADS, deliver, payload

LAGO_TYPES = {
    "customer.created",
    "customer.updated",
    "customer.payment_provider_created",
    "customer.payment_provider_error",
    "customer.checkout_url_generated",
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
    "credit_note.generated",
    "wallet.depleted_ongoing_balance",
    "wallet.updated",
    "wallet_transaction.created",
    "wallet_transaction.updated",
    "events.errors",
    "alert.triggered",
}
STRIPE_TYPES = {
    "setup_intent.succeeded",
    "setup_intent.setup_failed",
    "payment_method.attached",
    "payment_method.detached",
    "payment_method.updated",
    "payment_method.automatically_updated",
    "customer.updated",
}
LAGO_FILES = sorted(p.stem for p in (PAYLOADS / "lago").glob("*.json"))
STRIPE_FILES = sorted(p.stem for p in (PAYLOADS / "stripe").glob("*.json"))
SIGNATURE_HEADERS = {
    "X-Lago-Signature": "signature",
    "X-Lago-Signature-Algorithm": "jwt",
    "X-Lago-Unique-Key": "00000000-0000-4000-8000-000000000000",
}


def test_every_type_of_the_brief_is_handled():
    assert registry.handled_types("lago") == LAGO_TYPES
    assert registry.handled_types("stripe") == STRIPE_TYPES


def test_there_is_a_payload_file_for_every_handled_type():
    assert set(LAGO_FILES) >= LAGO_TYPES
    assert set(STRIPE_FILES) >= STRIPE_TYPES


@pytest.mark.parametrize("name", LAGO_FILES)
def test_lago_payload_files_match_lagos_spec(lago_standin_server, name):
    body = (PAYLOADS / "lago" / f"{name}.json").read_bytes()
    guard = lago_standin_server.standin.spec_guard
    assert guard.check_webhook(json.loads(body)["webhook_type"], SIGNATURE_HEADERS, body) == []


@pytest.mark.parametrize("name", STRIPE_FILES)
def test_stripe_payload_files_are_events(name):
    body = payload(name, "stripe")
    assert body["object"] == "event"
    assert body["type"] == name
    assert body["id"].startswith("evt_")
    assert isinstance(body["data"]["object"], dict)


def test_an_unknown_type_is_ignored_and_changes_nothing(app, acme):
    outcome = deliver(app, payload("plan.created"))
    assert outcome.outcome == "ignored"
    with app.app_context():
        for model in (SubscriptionMirror, InvoiceMirror, BillingAccount, Notice):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_an_unknown_stripe_type_is_ignored(app, acme):
    body = payload("customer.updated", "stripe")
    body["type"] = "charge.refunded"
    assert deliver(app, body).outcome == "ignored"


def test_a_body_that_is_not_json_raises_so_the_job_retries(app):
    with app.app_context():
        event = WebhookEvent(
            source="lago", unique_key="broken", event_type="invoice.created", body="{", headers={}
        )
        db.session.add(event)
        db.session.flush()
        with pytest.raises(registry.UnreadablePayload):
            registry.dispatch(event)
        db.session.rollback()


def test_an_event_about_a_customer_pier_does_not_know_is_noted(app, lago_down):
    outcome = deliver(app, payload("invoice.created"))
    assert outcome.outcome == "processed"
    assert "No tenant is the Lago customer 'pier_acme'" in outcome.note
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InvoiceMirror)) == 0


def test_a_second_handler_for_the_same_type_is_refused():
    with pytest.raises(ValueError, match="already has a handler"):
        registry.handles("lago", "invoice.created")(lambda event, body: None)
