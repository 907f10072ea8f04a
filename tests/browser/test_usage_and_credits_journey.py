"""Usage alerts and prepaid credits in a real browser against the Lago stand-in, its webhooks
delivered to the live Pier: an alert Lago evaluates fires as usage moves past it (the notice in
Pier, the email on the SMTP server), and a top-up waits for its credit invoice, then counts."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_billing_journey import (  # noqa: F401
    assert_no_inline_code,
    billing,
    connect_billing,
    log_in,
)
from tests.integration.handlers.conftest import acme, no_proxy  # noqa: F401
from tests.integration.handlers.support import EXTERNAL_ID, lago_call, run_jobs
from tests.integration.subscription.conftest import subscribe
from tests.integration.usage.conftest import send_calls


@pytest.fixture
def premium_lago(billing):  # noqa: F811
    """A licensed Lago: it evaluates subscription alerts."""
    billing.standin.standin.configure(premium=True)
    yield billing
    billing.standin.standin.configure(premium=False)


def test_an_alert_fires_as_usage_moves_past_it(
    page: Page,
    premium_lago,
    acme,  # noqa: F811
    mailbox,
):
    journey = premium_lago
    subscribe(journey.standin, "pro")
    journey.deliver()
    log_in(page, acme.owner)
    page.goto("/usage/")
    page.get_by_label("Watch").select_option(label="Seats")
    page.get_by_label("Reaches").fill("2")
    page.get_by_role("button", name="Add alert").click()
    alert = page.locator(".usage-alert-list li[data-alert]")
    expect(alert).to_contain_text("When Seats reaches 2")
    expect(alert).to_have_attribute("data-checked-by", "lago")
    assert_no_inline_code(page)

    send_calls(journey.standin, "seat", 2, code="seats")  # Lago sends alert.triggered
    journey.deliver()
    run_jobs(journey.app, "emails")
    page.goto("/")
    notices = page.get_by_text("100 % of your alert: Seats reaches 2")
    expect(notices).to_be_visible()
    expect(page.get_by_text("50 % of your alert: Seats reaches 2")).to_be_visible()
    received = mailbox.wait_for("accounts@acme.test", count=3)
    assert sorted(m["Subject"] for m in received) == [
        "Usage alert: 100 % of your alert: Seats reaches 2",
        "Usage alert: 50 % of your alert: Seats reaches 2",
        "Usage alert: 80 % of your alert: Seats reaches 2",
    ]

    page.goto("/usage/")
    page.locator(".usage-alert-list li[data-alert]").get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Alert removed.")).to_be_visible()
    with journey.standin.client() as lago:
        assert lago.get("/subscriptions/acme-main/alerts").json()["alerts"] == []


@pytest.fixture
def invoiced_billing(app, acme, lago_standin, live_server):  # noqa: F811
    """Acme billed without a payment provider: Lago's invoices wait until marked paid."""

    def customer(standin):
        body = {"external_id": EXTERNAL_ID, "name": "Acme Inc.", "currency": "USD"}
        lago_call(standin, "POST", "/customers", json={"customer": body})

    yield from connect_billing(app, lago_standin, live_server, customer)


def test_a_top_up_waits_for_its_credit_invoice_then_counts(
    page: Page,
    invoiced_billing,
    acme,  # noqa: F811
):
    journey = invoiced_billing
    subscribe(journey.standin, "pro")
    journey.deliver()
    log_in(page, acme.billing_admin)
    page.goto("/wallet/")
    page.get_by_role("spinbutton", name="Credits", exact=True).fill("25")
    page.get_by_role("button", name="Buy credits").click()
    expect(page.locator("#operation-status")).to_have_attribute("data-state", "confirmed")
    row = page.locator("#wallet-details tr[data-transaction]")
    expect(row).to_have_attribute("data-status", "pending")
    expect(row).to_contain_text("Waiting for payment")
    expect(row.get_by_role("button", name="Pay now")).to_be_visible()
    assert_no_inline_code(page)

    [invoice] = lago_call(journey.standin, "GET", "/invoices", params={"invoice_type": "credit"})[
        "invoices"
    ]
    # The customer pays by bank transfer; the invoice is marked paid in Lago.
    lago_call(
        journey.standin,
        "PUT",
        f"/invoices/{invoice['lago_id']}",
        json={"invoice": {"payment_status": "succeeded"}},
    )
    journey.deliver()
    page.goto("/wallet/")
    expect(row).to_have_attribute("data-status", "settled")
    expect(row).to_contain_text("Done")
    expect(page.locator("#wallet-balance")).to_have_text("$25.00")
    expect(page.locator("#wallet-ongoing")).to_have_text("$25.00")  # Pier's mirror, by webhook


def test_credits_running_low_are_told_as_usage_eats_them(
    page: Page,
    premium_lago,
    acme,  # noqa: F811
    mailbox,
):
    journey = premium_lago
    subscribe(journey.standin, "pro")
    wallet = {
        "external_customer_id": EXTERNAL_ID,
        "rate_amount": "1",
        "currency": "USD",
        "name": "Prepaid credits",
        "granted_credits": "100",
    }
    lago_call(journey.standin, "POST", "/wallets", json={"wallet": wallet})
    journey.deliver()
    log_in(page, acme.owner)
    page.goto("/wallet/")
    expect(page.locator("#low-credits-state")).to_contain_text("Off: no warning")
    page.get_by_label("Tell me when my credits fall below").fill("20")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved: you will hear when your credits fall below")).to_be_visible()
    expect(page.locator("#low-credits-state")).to_contain_text("Lago watches your balance")
    assert_no_inline_code(page)

    send_calls(journey.standin, "seat", 17, code="seats")  # $85 of usage: 15 credits left
    journey.deliver()
    run_jobs(journey.app, "emails")
    page.goto("/")
    expect(page.get_by_text("Your credits are running low")).to_be_visible()
    [email] = mailbox.wait_for("accounts@acme.test", count=1)
    assert email["Subject"] == "Your prepaid credits are running low"
    page.goto("/wallet/")
    expect(page.locator("#low-credits-state")).to_contain_text("below this level now")
