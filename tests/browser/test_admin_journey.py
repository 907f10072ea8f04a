"""A platform admin connects Lago in a real browser, against the live Lago stand-in."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

WRONG_KEY = "Lago rejected the API key. Copy the key again from Lago › Developers › API keys."


def test_admin_connects_lago_registers_the_webhook_and_imports_plans(
    page: Page, live_server, lago_standin, make_person
):
    lago_standin.seed()
    admin = make_person(None, admin=True, email="root@pier.example")

    page.goto("/login")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    banner = page.locator(".setup-banner")
    expect(banner).to_contain_text("Setup required: billing is not connected.")
    expect(page.locator("#mrr-card")).to_contain_text("Connect Lago to see MRR.")

    banner.get_by_role("link", name="connect Lago in Settings › Billing").click()
    expect(page.get_by_role("heading", name="Settings › Billing")).to_be_visible()
    page.get_by_label("API URL").fill(lago_standin.url)
    page.get_by_label("API key", exact=True).fill("not-the-key")
    page.evaluate("window.pierMarker = 'still here'")
    page.get_by_role("button", name="Test connection").click()

    result = page.locator("#test-result")
    expect(result).to_contain_text(f"The connection does not work: {WRONG_KEY}")
    expect(result.locator(".step-ok")).to_contain_text("Reach the server")
    expect(result.locator(".step-failed")).to_contain_text("Check the API key")
    assert page.evaluate("window.pierMarker") == "still here", "the page was reloaded"

    page.get_by_label("API key", exact=True).fill(lago_standin.api_key)
    page.get_by_role("button", name="Test connection").click()
    expect(result).to_contain_text("Connection works.")
    expect(result).to_contain_text("Organisation Pier Sandbox")
    expect(result).to_contain_text(lago_standin.organization_id)
    expect(result).to_contain_text("Plans in Lago: business, pro, starter.")
    assert page.evaluate("window.pierMarker") == "still here", "the page was reloaded"

    page.get_by_role("button", name="Save connection").click()
    expect(
        page.get_by_text("Connected to Pier Sandbox. Next: register the webhook and import plans.")
    ).to_be_visible()
    expect(page.get_by_text("Setup required")).to_have_count(0)
    expect(page.locator("#api-key-status")).to_contain_text(
        "Saved API key: ••••••••" + lago_standin.api_key[-4:]
    )
    webhook_url = live_server.url + "/webhooks/lago"
    expect(page.get_by_label("Pier's webhook URL")).to_have_value(webhook_url)

    page.get_by_role("button", name="Register in Lago").click()
    expect(page.get_by_text("Webhook registered in Lago.")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"Registered in Lago \(.+\), signed with JWT\."))
    ).to_be_visible()
    with lago_standin.client() as lago:
        [endpoint] = lago.get("/webhook_endpoints").json()["webhook_endpoints"]
    assert (endpoint["webhook_url"], endpoint["signature_algo"]) == (webhook_url, "jwt")

    page.get_by_role("link", name="import your plans").click()
    expect(page.get_by_role("heading", name="Plans", exact=True)).to_be_visible()
    expect(page.get_by_text("New in Lago")).to_have_count(3)
    page.get_by_role("button", name="Import all").click()
    expect(page.get_by_text("Plans synced: 3 imported, 0 updated, 0 removed.")).to_be_visible()
    expect(page.get_by_text("Up to date")).to_have_count(3)
    catalogue = page.locator("article", has=page.get_by_role("heading", name="Pier's catalogue"))
    for title, price in (("Starter", "$9.00"), ("Pro", "$29.00"), ("Business", "$99.00")):
        row = catalogue.get_by_role("row").filter(has_text=title)
        expect(row).to_contain_text(f"{price}/monthly")
        expect(row).to_contain_text("Yes")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_text("Setup required")).to_have_count(0)
    expect(page.locator("#mrr-card")).to_contain_text(
        "Not available: Lago's revenue analytics are a premium feature of this Lago."
    )
