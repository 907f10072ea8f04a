"""Trial, dunning and suspension banners: what they say, where, and dismissal per state."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from portal.billing import dunning
from portal.extensions import db
from portal.models import (
    BillingAccount,
    DunningState,
    InvoiceMirror,
    PaymentIssue,
    Plan,
    SubscriptionMirror,
    User,
)
from portal.notify import notices
from tests.conftest import log_in
from tests.integration.handlers.conftest import acme, connected, lago_down, no_proxy  # noqa: F401
from tests.integration.handlers.support import deliver, payload

NOW = datetime(2027, 3, 14, 15, 30, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("pinned")


@pytest.fixture
def pinned():
    with time_machine.travel(NOW, tick=False):
        yield


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def banners(response) -> list[str]:
    return re.findall(r'data-banner="(\w+)"', response.get_data(as_text=True))


def trial(tenant_id: int, ends_at: datetime) -> None:
    db.session.add(
        Plan(
            code="pro",
            name="Pro",
            interval="monthly",
            amount_cents=2900,
            currency="EUR",
            pay_in_advance=True,
            charges=[],
        )
    )
    db.session.add(
        SubscriptionMirror(
            tenant_id=tenant_id,
            external_id="sub-1",
            lago_id="lago-sub-1",
            plan_code="pro",
            status="active",
            started_at=NOW - timedelta(days=2),
            current_period_started_at=NOW - timedelta(days=2),
            current_period_ending_at=NOW + timedelta(days=28),
            trial_ends_at=ends_at,
            source_at=NOW,
        )
    )


def failing(
    tenant_id: int, state=DunningState.payment_failed, issue=PaymentIssue.declined, **account
):
    """A failed invoice and the billing account's dunning state, as the handlers leave them."""
    db.session.add(
        InvoiceMirror(
            tenant_id=tenant_id,
            lago_id="inv-1",
            number="ACME-001",
            status="finalized",
            payment_status="failed",
            payment_overdue=state is not DunningState.payment_failed,
            currency="EUR",
            total_amount_cents=2900,
            issuing_date=NOW - timedelta(days=3),
            payment_due_date=NOW - timedelta(days=1),
            source_at=NOW,
        )
    )
    values = {
        "payment_provider": "stripe",
        "provider_customer_id": "cus_1",
        "dunning_state": state,
        "dunning_invoice_lago_id": "inv-1",
        "payment_failed_at": NOW - timedelta(hours=2),
        "payment_issue": issue,
        "overdue_at": NOW - timedelta(days=1) if state is not DunningState.payment_failed else None,
    } | account
    db.session.add(BillingAccount(tenant_id=tenant_id, **values))


def test_the_trial_banner_counts_days_and_shows_on_every_customer_page(app, as_role):
    client, person = as_role("owner")
    with app.app_context():
        trial(person.tenant_id, NOW + timedelta(days=4, hours=3))
        db.session.commit()
    home = client.get("/")
    assert banners(home) == ["trial"]
    assert "Free trial of Pro: 5 days left." in text(home)
    assert "Your trial ends on March 18, 2027. From then on it costs €29.00 per month." in text(
        home
    )
    assert "Dismiss" not in text(home), "the billing home shows the banner in full, kept"
    team = client.get("/team/")
    assert banners(team) == ["trial"]
    assert "Free trial of Pro: 5 days left." in text(team)
    with time_machine.travel(NOW + timedelta(days=4), tick=False):
        assert "Free trial of Pro: 1 day left." in text(client.get("/team/"))
    with time_machine.travel(NOW + timedelta(days=5), tick=False):
        assert banners(client.get("/team/")) == []


def test_a_dismissed_banner_stays_away_while_its_state_lasts(app, as_role):
    client, person = as_role("owner")
    with app.app_context():
        trial(person.tenant_id, NOW + timedelta(days=4, hours=3))
        db.session.commit()
    page = client.get("/team/").get_data(as_text=True)
    state = re.search(r'name="state" value="([^"]+)"', page).group(1)
    answer = client.submit(
        "/banners/dismiss", {"kind": "trial", "state": state, "next": "/team/?x=1"}
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/team/?x=1"
    assert banners(client.get("/team/")) == []
    assert banners(client.get("/")) == ["trial"], "the billing home keeps it"
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        assert banners(client.get("/team/")) == ["trial"], "another day of trial shows it again"


def test_dismissing_needs_csrf_a_known_kind_and_goes_back_on_this_site_only(app, as_role):
    client, _ = as_role("member")
    assert client.post("/banners/dismiss", data={"kind": "trial", "state": "x"}).status_code == 400
    assert client.submit("/banners/dismiss", {"kind": "nope", "state": "x"}).status_code == 400
    away = client.submit(
        "/banners/dismiss", {"kind": "trial", "state": "x", "next": "//evil.example/"}
    )
    assert away.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("issue", "account", "title", "step"),
    [
        (
            PaymentIssue.declined,
            {},
            "The payment of invoice ACME-001 (€29.00) was declined.",
            "Check with your bank that the card can be charged",
        ),
        (
            PaymentIssue.no_payment_method,
            {},
            "No card on file to pay invoice ACME-001 (€29.00).",
            "Add a card to your billing account to pay it.",
        ),
        (
            None,
            {"provider_customer_id": None},
            "No card on file to pay invoice ACME-001 (€29.00).",
            "Add a card to your billing account to pay it.",
        ),
        (
            PaymentIssue.authentication_required,
            {},
            "Your bank asks you to confirm the payment of invoice ACME-001 (€29.00).",
            "approve it there",
        ),
    ],
)
def test_the_dunning_banner_tells_what_failed_and_the_next_step(
    app, as_role, issue, account, title, step
):
    client, person = as_role("billing_admin")
    with app.app_context():
        failing(person.tenant_id, issue=issue, **account)
        notices.raise_notice(
            dunning.failure_key("inv-1"),
            tenant_id=person.tenant_id,
            kind=dunning.FAILED,
            title="The payment of invoice ACME-001 failed",
            body="told by the banner",
            level="error",
        )
        notices.raise_notice(
            "wallet_depleted:1",
            tenant_id=person.tenant_id,
            kind="wallet_depleted",
            title="Your prepaid credits ran out",
            body="not a banner",
        )
        db.session.commit()
    home = text(client.get("/"))
    assert title in home
    assert step in home
    assert "write to" not in home.lower()
    assert "told by the banner" not in home, "the banner and the notice never say it twice"
    assert "Your prepaid credits ran out" in home, "other notices stay"
    assert title in text(client.get("/account/profile"))


def test_a_payment_waiting_for_the_bank_links_to_the_confirmation(app, as_role):
    client, person = as_role("owner")
    with app.app_context():
        failing(person.tenant_id)
        account = db.session.scalar(db.select(BillingAccount))
        account.dunning_state = DunningState.ok
        invoice = db.session.scalar(db.select(InvoiceMirror))
        invoice.payment_action_url = "https://bank.example/3ds/abc"
        notices.raise_notice(
            dunning.action_key("inv-1"),
            tenant_id=person.tenant_id,
            kind=dunning.ACTION,
            title="Your bank asks you to confirm a payment",
            body="…",
            level="warning",
        )
        db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert 'href="https://bank.example/3ds/abc"' in page
    assert "Confirm the payment" in page


def test_members_are_told_who_can_act_and_get_no_links(app, as_role, make_person):
    client, person = as_role("member")
    owner = make_person("owner", tenant_id=person.tenant_id)
    with app.app_context():
        failing(person.tenant_id, state=DunningState.overdue)
        db.session.commit()
        owner_name = db.session.get(User, owner.id).name
    home = text(client.get("/"))
    assert "Invoice ACME-001 (€29.00) is overdue." in home
    assert "If it is still unpaid on March 27, 2027, access is suspended" in home
    assert f"{owner_name} (owner) can sort out the card." in home


def test_a_new_failure_brings_a_dismissed_dunning_banner_back(app, as_role):
    client, person = as_role("owner")
    with app.app_context():
        failing(person.tenant_id)
        db.session.commit()
    page = client.get("/team/").get_data(as_text=True)
    state = re.search(r'name="state" value="([^"]+)"', page).group(1)
    client.submit("/banners/dismiss", {"kind": "dunning", "state": state})
    assert banners(client.get("/team/")) == []
    with app.app_context():
        account = db.session.scalar(db.select(BillingAccount))
        account.payment_failed_at = NOW  # another attempt failed
        db.session.commit()
    assert banners(client.get("/team/")) == ["dunning"]


def test_suspension_says_what_is_kept_and_admin_pages_show_no_banner(app, as_role, make_person):
    client, person = as_role("owner")
    with app.app_context():
        failing(person.tenant_id, state=DunningState.suspended, suspended_at=NOW)
        db.session.commit()
    home = text(client.get("/"))
    assert banners(client.get("/")) == ["suspended"]
    assert "Your account is suspended for an unpaid invoice." in home
    assert "Your data, invoices, team and settings are kept" in home
    admin = make_person("owner", tenant_id=person.tenant_id, admin=True)
    console = log_in(app.test_client(), admin).get("/admin/")
    assert console.status_code == 200
    assert banners(console) == []


def test_a_failed_payment_webhook_keeps_why_it_failed(app, acme, as_role, lago_down):  # noqa: F811
    deliver(app, payload("invoice.created"))
    failure = payload("invoice.payment_failure")
    error = failure["payment_provider_invoice_payment_error"]
    error.pop("provider_error")
    error["error_details"] = {"code": "customer_must_have_payment_provider"}
    deliver(app, failure)
    with app.app_context():
        account = db.session.scalar(db.select(BillingAccount))
        assert account.payment_issue is PaymentIssue.no_payment_method
    owner, _ = as_role("owner", tenant_id=acme.id)
    assert "No card on file to pay invoice ACM-C6D5-001-007" in text(owner.get("/team/"))

    deliver(app, payload("invoice.payment_failure"))
    with app.app_context():
        assert db.session.scalar(db.select(BillingAccount)).payment_issue is PaymentIssue.declined
