"""Customer webhooks: the payment-provider link, re-read from the live Lago stand-in."""

from __future__ import annotations

from portal.models import BillingAccount, Notice, Tenant
from tests.integration.handlers.support import (
    STRIPE_CUSTOMER,
    create_lago_customer,
    deliver,
    payload,
    rows,
)


def test_provider_link_comes_from_lago_not_from_the_webhook(app, acme, connected):
    created = create_lago_customer(connected)
    in_lago = created["billing_configuration"]["provider_customer_id"]
    assert in_lago and in_lago != STRIPE_CUSTOMER

    outcome = deliver(app, payload("customer.payment_provider_created"))

    assert outcome.outcome == "processed"
    assert outcome.note is None
    [account] = rows(app, BillingAccount)
    assert account.provider_customer_id == in_lago
    assert account.payment_provider == "stripe"
    [tenant] = rows(app, Tenant)
    assert tenant.lago_customer_id == created["lago_id"]


def test_the_stand_ins_own_webhooks_link_the_customer(app, acme, outbox):
    created = create_lago_customer(outbox.standin)
    handled = outbox.dispatch_new()
    assert [kind for kind, _ in handled] == [
        "customer.created",
        "customer.payment_provider_created",
        "customer.checkout_url_generated",
    ]
    assert all(d.outcome == "processed" and d.note is None for _, d in handled)
    [account] = rows(app, BillingAccount)
    assert account.provider_customer_id == created["billing_configuration"]["provider_customer_id"]
    [sent] = outbox.bodies("customer.checkout_url_generated")
    url = sent["payment_provider_customer_checkout_url"]["checkout_url"]
    assert account.card_setup_url == url


def test_a_checkout_url_that_is_not_a_web_address_is_not_kept(app, acme, lago_down):
    deliver(app, payload("customer.checkout_url_generated"))
    [account] = rows(app, BillingAccount)
    assert account.card_setup_url == "https://checkout.stripe.com/c/pay/cs_test_a1AcmeSetup01"
    body = payload("customer.checkout_url_generated", checkout_url="javascript:alert(1)")
    outcome = deliver(app, body)
    assert "not a web address" in outcome.note
    [account] = rows(app, BillingAccount)
    assert account.card_setup_url is None


def test_when_lago_is_down_the_webhooks_copy_is_used_and_noted(app, acme, lago_down):
    outcome = deliver(app, payload("customer.updated"))
    assert (
        outcome.note == "Used the webhook's copy of the customer (Lago is temporarily unavailable.)"
    )
    [account] = rows(app, BillingAccount)
    assert account.provider_customer_id == STRIPE_CUSTOMER


def test_without_a_connection_the_webhooks_copy_is_used(app, acme):
    outcome = deliver(app, payload("customer.created"))
    assert "Billing is not connected yet" in outcome.note
    [account] = rows(app, BillingAccount)
    assert account.provider_customer_id == STRIPE_CUSTOMER


def test_a_provider_error_is_told_to_the_platform_admins_and_cleared_by_success(app, acme):
    deliver(app, payload("customer.payment_provider_error"))
    [account] = rows(app, BillingAccount)
    assert account.payment_provider_error.startswith("Invalid API Key provided")
    [notice] = rows(app, Notice)
    assert notice.tenant_id is None
    assert notice.level == "error"
    assert "Acme Inc." in notice.title and "pier_acme" in notice.body
    assert notice.resolved_at is None

    deliver(app, payload("customer.payment_provider_created"))

    [account] = rows(app, BillingAccount)
    assert account.payment_provider_error is None
    [notice] = rows(app, Notice)
    assert notice.resolved_at is not None


def test_the_same_event_twice_keeps_one_account_and_one_notice(app, acme):
    deliver(app, payload("customer.payment_provider_error"))
    deliver(app, payload("customer.payment_provider_error"))
    assert len(rows(app, BillingAccount)) == 1
    assert len(rows(app, Notice)) == 1
