"""Plan changes in a real browser, against the Lago stand-in: preview, confirm, see it land."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.integration.handlers.conftest import acme, connected, no_proxy  # noqa: F401
from tests.integration.plans.conftest import switchable  # noqa: F401
from tests.integration.subscription.conftest import subscribed  # noqa: F401


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_upgrade_with_its_preview(page: Page, live_server, switchable):  # noqa: F811
    log_in(page, switchable.owner)
    page.goto("/plans/")
    expect(page.get_by_role("heading", name="Change your plan")).to_be_visible()
    expect(page.get_by_text("You are on Pro")).to_be_visible()
    page.evaluate("window.pierMarker = 'still here'")

    page.get_by_role("button", name="Switch to Business").click()
    preview = page.locator("#plan-preview")
    expect(preview.locator(".rule")).to_contain_text(
        "This is an upgrade because the yearly price rises from $348.00 to $1,188.00, "
        "so it starts now."
    )
    expect(preview).to_contain_text("Estimate")
    expect(preview.locator("#due-now")).to_contain_text("$")
    expect(preview).to_contain_text("Unused time on Pro")
    assert page.evaluate("window.pierMarker") == "still here", "the preview reloaded the page"

    preview.get_by_role("button", name="Switch now").click()
    expect(page).to_have_url(re.compile(r"/\?operation=\d+$"))
    status = page.locator("#operation-status")
    expect(status).to_have_attribute("data-state", "confirmed")
    summary = page.locator("#billing-summary")
    expect(summary).to_contain_text("Business")
    expect(summary).not_to_contain_text("Pro")


def test_start_a_subscription_from_none(page: Page, live_server, switchable):  # noqa: F811
    log_in(page, switchable.owner)
    page.get_by_role("link", name="Cancel subscription").click()
    page.locator("label", has=page.locator("input[value=now]")).click()
    expect(page.get_by_role("radio", name=re.compile(r"^Now"))).to_be_checked()
    page.get_by_role("button", name="Cancel subscription").click()
    expect(page.locator("#operation-status")).to_have_attribute("data-state", "confirmed")

    page.goto("/plans/")
    expect(page.get_by_role("heading", name="Choose a plan")).to_be_visible()
    expect(page.get_by_text("You do not have a subscription.")).to_be_visible()
    page.get_by_role("button", name="Start with Starter").click()
    preview = page.locator("#plan-preview")
    expect(preview.get_by_role("heading", name="Start Starter")).to_be_visible()
    expect(preview.locator(".rule")).to_contain_text("free trial runs until")
    preview.get_by_role("button", name="Start Starter").click()

    expect(page.locator("#operation-status")).to_have_attribute("data-state", "confirmed")
    expect(page.locator("#billing-summary")).to_contain_text("Starter")


def test_plans_show_what_lago_grants_and_a_downgrade_what_is_lost(
    page: Page,
    live_server,
    switchable,  # noqa: F811
):
    log_in(page, switchable.owner)
    page.goto("/plans/")
    business = page.locator('[data-plan="business"] .entitlements')
    expect(business).to_contain_text("Single sign-on: Provider: okta")
    expect(business).to_contain_text("Team seats: Maximum 100, Admins 20")
    expect(page.locator('[data-plan="starter"] .entitlements')).not_to_contain_text("Audit log")

    preview = page.locator("#plan-preview")
    for choice in ("Switch to Starter", "Switch to Business", "Switch to Starter"):
        page.get_by_role("button", name=choice).click()
        expect(preview.get_by_role("heading", name=choice)).to_be_visible()
    lost = preview.locator(".lost-features")
    expect(lost).to_contain_text("you no longer have:")
    expect(lost.locator("li")).to_have_text(
        [
            "Team seats: Maximum from 20 to 3, Admins from 5 to 1",
            "Audit log: Retention in days 30, Export: no",
        ]
    )
    expect(preview.get_by_role("button", name="Schedule the switch")).to_be_visible()
