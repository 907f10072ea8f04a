"""Account journeys in a real browser: sign up, log in and out, profile, invitations."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

NEW_PASSWORD = "a long enough passphrase"


def mark_page(page: Page) -> None:
    """Leave a marker in the page's JS state; a full page load would wipe it."""
    page.evaluate("window.pierMarker = 'still here'")


def assert_not_reloaded(page: Page, path: str) -> None:
    assert page.evaluate("window.pierMarker") == "still here", "the page was reloaded"
    assert page.url.endswith(path)


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_text("You have been logged out.")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)


def test_sign_up_log_in_and_edit_profile(page: Page, live_server):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_role("link", name="Create an organisation").click()
    expect(page.get_by_role("heading", name="Create your organisation")).to_be_visible()

    page.get_by_label("Organisation name").fill("Harbour Lights Ltd")
    page.get_by_label("Your name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Repeat password").fill("short")
    page.get_by_label("Time zone").select_option("Europe/Lisbon")
    mark_page(page)
    page.get_by_role("button", name="Create organisation").click()

    password = page.get_by_label("Password", exact=True)
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description("Use at least 10 characters.")
    expect(page.get_by_text("Use at least 10 characters.")).to_be_visible()
    assert_not_reloaded(page, "/signup")
    expect(page.get_by_label("Organisation name")).to_have_value("Harbour Lights Ltd")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Lisbon")

    password.fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create organisation").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour Lights Ltd")
    expect(page.get_by_text("Welcome to Pier. Your organisation is ready.")).to_be_visible()
    expect(page.get_by_text("You are owner of this organisation.")).to_be_visible()
    expect(page.get_by_text("Europe/Lisbon")).to_be_visible()

    log_out(page)
    log_in(page, "ada@example.com", PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour Lights Ltd")

    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    profile = page.locator("#profile-form")
    expect(profile.get_by_label("Name")).to_have_value("Ada Lovelace")
    expect(profile.get_by_label("Time zone")).to_have_value("Europe/Lisbon")
    mark_page(page)

    email = profile.get_by_label("Email")
    email.fill("ada@@example")
    profile.get_by_role("button", name="Save profile").click()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile(r"\S"))
    assert_not_reloaded(page, "/account/")

    email.fill("ada@example.com")
    profile.get_by_label("Name").fill("Ada King")
    profile.get_by_label("Time zone").select_option("Asia/Tokyo")
    profile.get_by_role("button", name="Save profile").click()
    expect(profile.get_by_role("status")).to_have_text("Your profile is saved.")
    expect(email).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("link", name="Ada King")).to_be_visible()
    assert_not_reloaded(page, "/account/")

    page.reload()
    expect(profile.get_by_label("Name")).to_have_value("Ada King")
    expect(profile.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
    log_out(page)


def test_owner_invites_a_billing_admin_who_joins(
    page: Page, new_page, live_server, make_person, mailbox
):
    owner = make_person("owner", tenant_name="Harbour Lights Ltd")
    log_in(page, owner.email, owner.password)
    page.get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", name="Team of Harbour Lights Ltd")).to_be_visible()

    panel = page.locator("#invite-panel")
    panel.get_by_label("Email").fill("grace@example.com")
    panel.get_by_label("Role").select_option(label="Billing admin")
    mark_page(page)
    panel.get_by_role("button", name="Send invitation").click()

    shown = page.get_by_role("textbox", name="Invitation link")
    expect(shown).to_have_value(re.compile("^" + re.escape(live_server.url) + r"/invitations/\S+$"))
    expect(page.get_by_text("We emailed it")).to_be_visible()
    expect(panel.get_by_role("listitem").filter(has_text="grace@example.com")).to_contain_text(
        "Billing admin"
    )
    assert_not_reloaded(page, "/team/")
    link = shown.input_value()

    (message,) = mailbox.wait_for("grace@example.com")
    assert message["Subject"] == "You are invited to Harbour Lights Ltd on Pier"
    assert link in message.get_body(("plain",)).get_content()
    assert f'href="{link}"' in message.get_body(("html",)).get_content()

    invitee = new_page()
    invitee.goto(link)
    expect(invitee.get_by_role("heading", name="Join Harbour Lights Ltd")).to_be_visible()
    expect(invitee.get_by_text("You were invited as Billing admin")).to_be_visible()
    invitee.get_by_label("Your name").fill("Grace Hopper")
    invitee.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    invitee.get_by_label("Repeat password").fill(NEW_PASSWORD)
    invitee.get_by_label("Time zone").select_option("America/New_York")
    invitee.get_by_role("button", name="Accept and join").click()

    expect(invitee).to_have_url(f"{live_server.url}/")
    expect(invitee.get_by_text("Welcome to Harbour Lights Ltd.")).to_be_visible()
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Harbour Lights Ltd")
    expect(invitee.get_by_text("You are billing admin of this organisation.")).to_be_visible()
    expect(invitee.get_by_role("link", name="Grace Hopper")).to_be_visible()

    page.reload()
    row = page.get_by_role("row").filter(has_text="grace@example.com")
    expect(row).to_contain_text("Grace Hopper")
    expect(row).to_contain_text("Billing admin")
    expect(page.get_by_role("listitem").filter(has_text="grace@example.com")).to_have_count(0)

    invitee.goto(link)
    expect(invitee.get_by_role("heading", name="This invitation is not valid")).to_be_visible()
