"""The billing home in a real browser against the Lago stand-in, its webhooks delivered to Pier.

Pier and the stand-in run in this process; time-machine pins the process's clock and each step
moves the stand-in first (running Lago's clock jobs and sending their webhooks), then Pier to
the same instant, then puts the stand-in's offset back, so both read the same "now".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import Page, expect

from portal import crypto
from portal.billing import catalogue
from portal.billing.connection import lago_client
from portal.extensions import db
from portal.models import WebhookAlgorithm
from tests.conftest import PASSWORD
from tests.integration.handlers.conftest import acme, connect_to, no_proxy  # noqa: F401
from tests.integration.handlers.support import create_lago_customer, lago_call, run_jobs
from tests.integration.subscription.conftest import SUBSCRIPTION, pull, subscribe

START = datetime(2030, 1, 10, 9, 0, tzinfo=UTC)
INLINE = """() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
  .filter(a => a.name.startsWith('on') || a.name === 'style').map(a => e.tagName + ' ' + a.name))
  .concat([...document.querySelectorAll('script:not([src])')].map(() => 'inline script'))"""


class Billing:
    """Acme connected to the stand-in; webhooks go to the live Pier and a worker runs them."""

    def __init__(self, app, standin, traveller) -> None:
        self.app = app
        self.standin = standin
        self.traveller = traveller

    def deliver(self) -> None:
        """Wait for the stand-in's webhooks to reach Pier, process them, and bring Pier's clock
        to the stand-in's (which runs on while Pier's stands still)."""
        assert self.standin.settle(10)
        run_jobs(self.app, "webhooks")
        self.traveller.move_to(self.standin.now())

    def advance(self, **duration: float) -> list[dict]:
        """Move Lago's clock (its jobs run, webhooks go out), then Pier's to the same instant."""
        ran = self.standin.advance(**duration)
        now = self.standin.now()
        self.traveller.move_to(now)
        self.standin.travel_to(now)  # time-machine moved the stand-in's base as well
        self.deliver()
        return ran


def connect(app, lago_standin, live_server) -> None:
    """Pier connected to the stand-in (its plans imported), whose webhooks go to the live Pier."""
    lago_standin.travel_to(START)
    lago_standin.seed()
    with app.app_context():
        connect_to(
            app,
            lago_standin,
            webhook_algorithm=WebhookAlgorithm.hmac,
            hmac_key_encrypted=crypto.encrypt(lago_standin.hmac_key),
        )
        catalogue.sync_catalogue(lago_client(), import_new=True)
        db.session.commit()
    endpoint = {"webhook_url": live_server.url + "/webhooks/lago", "signature_algo": "hmac"}
    lago_call(lago_standin, "POST", "/webhook_endpoints", json={"webhook_endpoint": endpoint})


@pytest.fixture
def billing(app, acme, lago_standin, live_server):  # noqa: F811
    yield from connect_billing(app, lago_standin, live_server, create_lago_customer)


def connect_billing(app, lago_standin, live_server, make_customer):
    """Pier connected to the stand-in at START, webhooks to the live Pier, the Lago customer
    made by `make_customer(standin)`; yields the `Billing` handle."""
    app.config["LAGO_MAX_RETRIES"] = 0
    with time_machine.travel(START, tick=False) as traveller:
        connect(app, lago_standin, live_server)
        make_customer(lago_standin)
        handle = Billing(app, lago_standin, traveller)
        handle.deliver()
        yield handle


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your subscription")).to_be_visible()


def assert_no_inline_code(page: Page) -> None:
    """Nothing on the page needs 'unsafe-inline' (no inline scripts, handlers or styles)."""
    assert page.evaluate(INLINE) == []


def status(page: Page):
    return page.locator("#billing-summary .status")


def test_a_trial_banner_counts_down_as_the_clock_moves_and_comes_back_after_dismissal(
    page: Page,
    billing,
    acme,  # noqa: F811
):
    subscribe(billing.standin, "starter")
    billing.deliver()
    log_in(page, acme.owner)
    banner = page.locator('[data-banner="trial"]')
    expect(banner).to_contain_text("Free trial of Starter: 14 days left.")
    expect(banner).to_contain_text("Your trial ends on January 24, 2030.")
    expect(banner).to_contain_text("From then on it costs $9.00 per month.")
    assert_no_inline_code(page)

    billing.advance(days=3)
    page.get_by_role("link", name="Team").click()
    compact = page.locator('[data-banner="trial"]')
    expect(compact).to_contain_text("Free trial of Starter: 11 days left.")
    compact.get_by_role("button", name="Dismiss this banner for now").click()
    expect(page.get_by_role("heading", name="Team")).to_be_visible()
    expect(page.locator("[data-banner]")).to_have_count(0)
    page.reload()
    expect(page.locator("[data-banner]")).to_have_count(0)

    billing.advance(days=1)
    page.reload()
    expect(compact).to_contain_text("Free trial of Starter: 10 days left.")

    ran = billing.advance(days=10, hours=1)
    assert "bill_ended_trial_subscriptions" in [r["job"] for r in ran]
    page.get_by_role("link", name="Overview").click()
    expect(status(page)).to_have_text("Active")
    expect(page.locator("[data-banner]")).to_have_count(0)


def test_a_declined_payment_shows_the_dunning_banner_on_every_page(
    page: Page,
    billing,
    acme,  # noqa: F811
):
    billing.standin.set_payments("pier_acme", outcomes=["failed"], error_code="card_declined")
    subscribe(billing.standin, "starter")
    billing.deliver()
    billing.advance(days=14, hours=2)  # the trial ends, its invoice fails, then goes overdue

    log_in(page, acme.owner)
    banner = page.locator('[data-banner="dunning"]')
    expect(banner).to_have_count(1)
    expect(banner).to_contain_text(re.compile(r"Invoice \S+ \(\$\d+\.\d\d\) is overdue\."))
    expect(banner).to_contain_text("The bank declined the card on file.")
    expect(banner).to_contain_text("Check with your bank that the card can be charged")
    expect(banner).not_to_contain_text("Write to")
    expect(page.locator('[data-notice="payment_failed"]')).to_have_count(0)
    expect(status(page)).to_have_text("Payment overdue")
    assert_no_inline_code(page)

    member = page.context.browser.new_context(base_url=page.url.rsplit("/", 1)[0]).new_page()
    log_in(member, acme.member)
    member.get_by_role("link", name="Team").click()
    compact = member.locator('[data-banner="dunning"]')
    expect(compact).to_contain_text(
        "Owner (owner) or Billing admin (billing admin) can sort out the card."
    )
    member.context.close()


def test_downgrade_scheduled_on_the_timeline_then_undone(page: Page, billing, acme):  # noqa: F811
    subscribe(billing.standin, "pro")
    billing.deliver()
    subscribe(billing.standin, "starter")  # a downgrade: Lago schedules it for the period end
    billing.deliver()
    log_in(page, acme.owner)
    expect(status(page)).to_have_text("Switches to Starter on February 1, 2030")
    timeline = page.locator("#billing-timeline")
    expect(timeline.locator('[data-kind="downgrade"]')).to_contain_text("Switches to Starter")
    assert_no_inline_code(page)

    page.get_by_role("button", name="Keep my plan").click()
    expect(page.locator("#operation-status")).to_have_attribute("data-state", "confirmed")
    expect(status(page)).to_have_text("Active")
    expect(timeline.locator('[data-kind="downgrade"]')).to_have_count(0)
    with billing.standin.client() as lago:
        pending = lago.get("/subscriptions", params={"status[]": "pending"}).json()
    assert pending["subscriptions"] == []


def test_cancel_at_period_end_then_reactivate(page: Page, billing, acme):  # noqa: F811
    subscribe(billing.standin, "pro")
    billing.deliver()
    log_in(page, acme.billing_admin)
    page.get_by_role("link", name="Cancel subscription").click()
    expect(page.get_by_role("heading", name="Cancel Pro")).to_be_visible()
    assert_no_inline_code(page)
    page.get_by_label("At the end of the current period").check()
    page.get_by_role("button", name="Cancel subscription").click()
    expect(page.locator("#operation-status")).to_have_attribute("data-state", "confirmed")
    expect(status(page)).to_have_text(re.compile(r"Cancels on January 31, 2030"))
    cancellation = page.locator('#billing-timeline [data-kind="cancellation"]')
    expect(cancellation).to_contain_text("Subscription ends")

    page.get_by_role("button", name="Reactivate").click()
    expect(page.locator("#operation-status")).to_have_attribute("data-state", "confirmed")
    expect(status(page)).to_have_text("Active")
    expect(cancellation).to_have_count(0)
    with billing.standin.client() as lago:
        live = lago.get(f"/subscriptions/{SUBSCRIPTION}").json()["subscription"]
    assert live["ending_at"] is None


def test_cancel_now_ends_the_subscription(page: Page, billing, acme):  # noqa: F811
    subscribe(billing.standin, "pro")
    billing.deliver()
    log_in(page, acme.owner)
    page.get_by_role("link", name="Cancel subscription").click()
    now = page.get_by_role("radio", name=re.compile("^Now"))
    page.locator("label").filter(has=now).click()  # its note covers the radio; the label works
    expect(now).to_be_checked()
    page.get_by_role("button", name="Cancel subscription").click()
    expect(page.locator("#operation-status")).to_have_attribute("data-state", "confirmed")
    expect(status(page)).to_have_text("Ended")
    expect(
        page.get_by_text("Your subscription has ended. Your invoices stay available.")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Cancel subscription")).to_have_count(0)
    billing.deliver()
    pull(billing.app, acme.id)
    page.reload()
    expect(status(page)).to_have_text("Ended")
