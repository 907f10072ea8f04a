"""A declined renewal fixed end to end in the browser: Lago and Stripe stand-ins, Lago's webhooks
delivered to the live Pier, the clock moved to the renewal, the all-set email on the SMTP server.
"""

from __future__ import annotations

import pytest
import time_machine
from playwright.sync_api import Page, expect

from portal.billing import customers
from portal.extensions import db
from portal.models import Tenant
from tests.browser.test_billing_journey import START, Billing, connect, log_in
from tests.integration.cards.conftest import save_card, stripe_keys  # noqa: F401
from tests.integration.cards.test_fix import _owner
from tests.integration.handlers.conftest import acme, no_proxy  # noqa: F401
from tests.integration.handlers.support import run_jobs
from tests.integration.subscription.conftest import subscribe


@pytest.fixture
def renewal_declined(app, acme, lago_standin, stripe_keys, stripe_for_lago, live_server):  # noqa: F811
    """Acme on Pro, linked to Stripe with Visa ending 4242 (the first month paid with it); a
    month on, the bank declines the renewal. Pier's clock follows the stand-in's."""
    with time_machine.travel(START, tick=False) as traveller:
        connect(app, lago_standin, live_server)
        with app.app_context():
            tenant = db.session.get(Tenant, acme.id)
            tenant.currency = "USD"  # the plans' currency
            assert customers.sync_tenant(tenant)  # the Lago customer, linked to Stripe
            db.session.commit()
        owner = _owner(app, acme)
        intent = save_card(stripe_keys, owner, "pm_card_visa")
        assert owner.get(f"/cards/added?setup_intent={intent}").status_code == 200
        stripe_keys.settle()
        billing = Billing(app, lago_standin, traveller)
        subscribe(lago_standin, "pro")  # paid in advance: the first month is charged now
        billing.deliver()
        lago_standin.set_payments("pier_acme", outcomes=["failed"], error_code="card_declined")
        billing.advance(days=31, hours=1)  # the renewal invoice, declined
        yield billing


def test_a_declined_renewal_is_fixed_with_a_new_card_and_a_retry(
    page: Page,
    renewal_declined: Billing,
    acme,  # noqa: F811
    stripe_keys,  # noqa: F811
    mailbox,
    live_server,
):
    log_in(page, acme.owner)
    banner = page.locator('[data-banner="dunning"]')
    expect(banner).to_have_count(1)
    expect(banner).to_contain_text("The bank declined the card on file.")
    banner.get_by_role("link", name="Fix the payment").click()

    expect(page.get_by_role("heading", name="Get your invoices paid")).to_be_visible()
    expect(page.locator("#fix-default-card")).to_have_text("Visa ending 4242")
    expect(page.locator('#fix-invoices tr[data-state="declined"]')).to_have_count(1)
    page.locator("#fix-add-card").click()
    page.get_by_label("Card number").fill("5555 5555 5555 4444")
    page.get_by_label("Expiry (MM / YY)").fill("12 / 34")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Save card").click()

    expect(page.get_by_role("heading", name="Get your invoices paid")).to_be_visible()
    expect(page.locator("#fix-default-card")).to_have_text("Mastercard ending 4444")
    stripe_keys.settle()  # Lago hears from Stripe that the new card is the default
    page.get_by_role("button", name="Retry the payment of every unpaid invoice").click()
    renewal_declined.deliver()  # payment.succeeded and the invoice's status reach Pier
    paid = page.locator('#fix-invoices tr[data-state="paid"]')
    expect(paid).to_have_count(1)  # the fragment polls until the payment is confirmed
    expect(paid).to_contain_text("Paid.")

    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="Your subscription")).to_be_visible()
    expect(page.locator("[data-banner]")).to_have_count(0)

    run_jobs(renewal_declined.app)  # the emails queue
    [message] = [
        m for m in mailbox.wait_for(acme.owner) if m["Subject"].startswith("You're all set")
    ]
    text = message.get_body(("plain",)).get_content()
    assert f"Where your payments stand: {live_server.url}/cards/fix" in text
