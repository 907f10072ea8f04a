"""Cards in the browser: the Payment Element (Stripe.js double), 3-D Secure, default, removal."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accounts_journey import log_in
from tests.conftest import PASSWORD
from tests.integration.cards.conftest import (  # noqa: F401
    acme,
    connected,
    job_runtime,
    linked,
    no_proxy,
    stripe_keys,
)
from tests.integration.subscription.conftest import subscribed  # noqa: F401


@pytest.fixture
def owner_page(page: Page, linked, live_server):  # noqa: F811
    log_in(page, linked.owner, PASSWORD)
    return page


def add_card(page: Page, number: str, expiry: str = "12 / 34", cvc: str = "123") -> None:
    page.goto("/cards/add")
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM / YY)").fill(expiry)
    page.get_by_label("Security code").fill(cvc)
    page.get_by_role("button", name="Save card").click()


def test_add_a_card_without_3ds(owner_page: Page):
    add_card(owner_page, "4242 4242 4242 4242")
    expect(owner_page.locator("#setup-outcome")).to_have_attribute("data-outcome", "saved")
    owner_page.goto("/cards/")
    expect(owner_page.locator("#next-invoice-card")).to_contain_text("Visa ending 4242")


def test_add_a_card_with_3ds_passed(owner_page: Page):
    add_card(owner_page, "4000 0025 0000 3155")
    owner_page.get_by_role("button", name="Complete authentication").click()
    expect(owner_page.locator("#setup-outcome")).to_have_attribute("data-outcome", "saved")


def test_add_a_card_with_3ds_failed(owner_page: Page):
    add_card(owner_page, "4000 0025 0000 3155")
    owner_page.get_by_role("button", name="Fail authentication").click()
    outcome = owner_page.locator("#setup-outcome")
    expect(outcome).to_have_attribute("data-outcome", "authentication_failed")
    expect(outcome).to_contain_text("authentication did not succeed")


def test_a_declined_card_is_said_in_our_words(owner_page: Page):
    add_card(owner_page, "4000 0000 0000 9995")
    expect(owner_page.locator("#setup-outcome")).to_contain_text("insufficient funds")


def test_3ds_abandoned_then_reloaded_recovers(owner_page: Page):
    add_card(owner_page, "4000 0025 0000 3155")
    expect(owner_page.get_by_role("button", name="Complete authentication")).to_be_visible()
    owner_page.goto("/cards/")  # the customer walked away from the bank's page
    expect(owner_page.locator(".card-setup")).to_contain_text("still being set up")
    owner_page.get_by_role("button", name="Continue authentication").click()
    owner_page.get_by_role("button", name="Complete authentication").click()
    expect(owner_page.locator("#setup-outcome")).to_have_attribute("data-outcome", "saved")
    owner_page.goto("/cards/")
    expect(owner_page.locator(".card-setup")).to_have_count(0)


def test_set_default_and_remove_refused_then_allowed(owner_page: Page):
    add_card(owner_page, "4242 4242 4242 4242")
    expect(owner_page.locator("#setup-outcome")).to_have_attribute("data-outcome", "saved")
    add_card(owner_page, "5555 5555 5555 4444")
    expect(owner_page.locator("#setup-outcome")).to_have_attribute("data-outcome", "saved")
    owner_page.goto("/cards/")
    expect(owner_page.locator("#next-invoice-card")).to_contain_text("ending 4444")
    owner_page.locator('li[data-last4="4242"]').get_by_role("button", name="Make default").click()
    expect(owner_page.locator("#next-invoice-card")).to_contain_text("Visa ending 4242")
    owner_page.locator('li[data-last4="4242"]').get_by_role("link", name="Remove").click()
    expect(owner_page.locator("#removal-refused")).to_contain_text("Choose another card")
    owner_page.goto("/cards/")
    owner_page.locator('li[data-last4="4444"]').get_by_role("link", name="Remove").click()
    owner_page.get_by_role("button", name="Remove the card").click()
    expect(owner_page.locator('li[data-last4="4444"]')).to_have_count(0)
