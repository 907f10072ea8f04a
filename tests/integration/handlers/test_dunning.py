"""Dunning from Lago's own webhooks: failed payments, overdue, suspension, recovery, emails."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from jobs import dunning as dunning_jobs
from jobs import emails as email_jobs
from portal.billing import dunning
from portal.extensions import db
from portal.models import (
    BillingAccount,
    BillingConnection,
    DunningState,
    EmailLog,
    InvoiceMirror,
    Notice,
    PaymentIssue,
    Tenant,
)
from tests.integration.handlers.support import (
    control,
    create_lago_customer,
    deliver,
    deliver_at_once,
    lago_call,
    payload,
    rows,
    run_jobs,
)


def pay_like(standin, **behaviour) -> None:
    control(standin, "PUT", "/payments", json={"external_customer_id": "pier_acme", **behaviour})


def subscribe(standin) -> None:
    body = {
        "subscription": {
            "external_customer_id": "pier_acme",
            "plan_code": "pro",
            "external_id": "acme-main",
        }
    }
    lago_call(standin, "POST", "/subscriptions", json=body)


def account(app) -> BillingAccount:
    [found] = rows(app, BillingAccount)
    return found


def open_notices(app) -> dict[str, Notice]:
    return {n.kind: n for n in rows(app, Notice) if n.resolved_at is None}


def confirm_payment(outbox, payment: dict) -> None:
    """The customer confirms a payment waiting for 3-D Secure; Lago's webhooks dispatched."""
    control(
        outbox.standin,
        "POST",
        f"/payments/{payment['payment']['lago_id']}/complete",
        json={"outcome": "succeeded"},
    )
    outbox.dispatch_new()


def subjects(mailbox, address: str) -> list[str]:
    return [m["Subject"] for m in mailbox.to(address)]


def text(message) -> str:
    return message.get_body(("plain",)).get_content()


@pytest.fixture
def failing(app, acme, outbox):
    """Acme subscribed to Pro in Lago, and the first payment failed; webhooks dispatched."""
    create_lago_customer(outbox.standin)
    pay_like(outbox.standin, outcomes=["failed"])
    subscribe(outbox.standin)
    outbox.dispatch_new()
    return outbox


def test_a_failed_payment_opens_the_notice_and_sends_one_email_to_each_billing_person(
    app, acme, failing, mailbox
):
    assert account(app).dunning_state is DunningState.payment_failed
    [invoice] = rows(app, InvoiceMirror)
    notice = open_notices(app)["payment_failed"]
    assert notice.title == f"The payment of invoice {invoice.number} failed"
    assert "The payment provider said: “Your card was declined”." in notice.body
    # Without Stripe no card can be added in Pier: then, as a last resort, the billing contact.
    assert notice.body.endswith(
        "Cards cannot be added in the portal yet: write to billing@pier.localhost to settle it."
    )

    run_jobs(app)

    for address in acme.billing_recipients:
        [message] = mailbox.to(address)
        assert message["Subject"] == f"Payment failed for invoice {invoice.number}"
        assert "Your card was declined" in text(message)
        assert "$" in text(message) and invoice.number in text(message)
        assert "http://localhost/#billing" in text(message)
        assert message.get_body(("html",)) is not None
    assert mailbox.to(acme.member) == []
    logged = rows(app, EmailLog)
    assert {e.recipient for e in logged} == set(acme.billing_recipients)
    assert {e.status for e in logged} == {"sent"}
    assert all(
        e.dedupe_key.startswith(f"payment_failed:{invoice.lago_id}:payment-") for e in logged
    )


def test_the_same_events_delivered_again_send_nothing_more(app, acme, failing, mailbox):
    run_jobs(app)
    for body in failing.bodies():
        deliver(app, body)
    deliver(app, failing.bodies("invoice.payment_failure")[0])
    run_jobs(app)
    assert len(mailbox.to(acme.owner)) == 1
    assert len([n for n in rows(app, Notice) if n.kind == "payment_failed"]) == 1


def test_two_events_about_the_same_failure_at_once_send_one_email(app, acme, outbox, mailbox):
    create_lago_customer(outbox.standin)
    pay_like(outbox.standin, outcomes=["failed"])
    subscribe(outbox.standin)
    created = outbox.bodies("invoice.created")[0]
    failure = outbox.bodies("invoice.payment_failure")[0]
    results = deliver_at_once(app, [created, failure, created, failure])
    assert all(getattr(r, "outcome", r) == "processed" for r in results), results
    run_jobs(app)
    assert len(mailbox.to(acme.billing_email)) == 1
    assert account(app).dunning_state is DunningState.payment_failed


def test_a_second_failed_attempt_is_told_once_more(app, acme, failing, mailbox):
    run_jobs(app)
    [invoice] = rows(app, InvoiceMirror)
    pay_like(failing.standin, outcomes=["failed"])
    lago_call(failing.standin, "POST", f"/invoices/{invoice.lago_id}/retry_payment")
    failing.dispatch_new()
    run_jobs(app)
    messages = mailbox.to(acme.owner)
    assert len(messages) == 2
    assert "attempt 2" in text(messages[1])
    assert len({e.dedupe_key for e in rows(app, EmailLog)}) == 6


def test_payment_after_a_failure_means_all_set(app, acme, failing, mailbox):
    run_jobs(app)
    [invoice] = rows(app, InvoiceMirror)
    lago_call(failing.standin, "POST", f"/invoices/{invoice.lago_id}/retry_payment")
    handled = dict(failing.dispatch_new())
    assert handled["payment.succeeded"].note is None

    assert account(app).dunning_state is DunningState.ok
    assert open_notices(app) == {}
    run_jobs(app)
    assert subjects(mailbox, acme.owner) == [
        f"Payment failed for invoice {invoice.number}",
        "You're all set: your payments are up to date",
    ]
    for body in failing.bodies("payment.succeeded"):
        deliver(app, body)
    run_jobs(app)
    assert len(mailbox.to(acme.owner)) == 2


def test_a_failure_email_is_not_sent_once_the_invoice_is_paid(app, acme, failing, mailbox):
    [invoice] = rows(app, InvoiceMirror)
    lago_call(failing.standin, "POST", f"/invoices/{invoice.lago_id}/retry_payment")
    failing.dispatch_new()
    run_jobs(app)
    assert subjects(mailbox, acme.owner) == ["You're all set: your payments are up to date"]


def grace(app, days: int) -> None:
    with app.app_context():
        db.session.execute(sa.update(BillingConnection).values(suspension_grace_days=days))
        db.session.commit()


@pytest.fixture
def overdue(app, acme, outbox):
    """Acme's invoices never get paid, and Lago's clock passed the next invoice's due date."""
    create_lago_customer(outbox.standin)
    pay_like(outbox.standin, default="failed")
    subscribe(outbox.standin)
    outbox.dispatch_new()
    control(outbox.standin, "POST", "/clock", json={"advance_seconds": 40 * 86400})
    handled = dict(outbox.dispatch_new())
    assert handled["invoice.payment_overdue"].note is None
    return outbox


def test_an_overdue_invoice_is_told_once_and_suspends_after_the_grace_period(
    app, acme, overdue, mailbox
):
    assert account(app).dunning_state is DunningState.overdue
    notice = open_notices(app)["invoice_overdue"]
    assert "access to your account will be suspended" in notice.body
    run_jobs(app)
    overdue_invoices = [i.number for i in rows(app, InvoiceMirror) if i.payment_overdue]
    assert len(overdue_invoices) == 2  # the first invoice and the next month's
    told = sorted(s for s in subjects(mailbox, acme.owner) if "is overdue" in s)
    assert told == sorted(f"Invoice {number} is overdue" for number in overdue_invoices)

    assert dunning_jobs.suspend_overdue_accounts() == 0  # 14 days of grace have not passed
    grace(app, 0)
    assert dunning_jobs.suspend_overdue_accounts() == 1
    assert dunning_jobs.suspend_overdue_accounts() == 0
    assert account(app).dunning_state is DunningState.suspended
    with app.app_context():
        assert dunning.is_suspended(db.session.get(Tenant, acme.id))
    assert open_notices(app)["account_suspended"].title == "Your account is suspended"
    run_jobs(app, "emails")
    suspended = [s for s in subjects(mailbox, acme.owner) if "suspended" in s]
    assert suspended == ["Your Acme Inc. account is suspended"]

    for body in overdue.bodies():
        deliver(app, body)
    run_jobs(app)
    assert account(app).dunning_state is DunningState.suspended
    assert len([s for s in subjects(mailbox, acme.owner) if "suspended" in s]) == 1
    assert len([s for s in subjects(mailbox, acme.owner) if "is overdue" in s]) == 2


def test_paying_everything_lifts_the_suspension(app, acme, overdue, mailbox):
    grace(app, 0)
    dunning_jobs.suspend_overdue_accounts()
    pay_like(overdue.standin, default="succeeded")
    for invoice in rows(app, InvoiceMirror):
        if invoice.payment_status != "succeeded":
            lago_call(overdue.standin, "POST", f"/invoices/{invoice.lago_id}/retry_payment")
    overdue.dispatch_new()

    state = account(app)
    assert state.dunning_state is DunningState.ok
    assert (state.suspended_at, state.overdue_at, state.dunning_since) == (None, None, None)
    with app.app_context():
        assert not dunning.is_suspended(db.session.get(Tenant, acme.id))
    assert open_notices(app) == {}
    run_jobs(app)
    assert subjects(mailbox, acme.owner)[-1] == "You're all set: your payments are up to date"


def test_a_payment_waiting_for_the_bank_shows_its_link_until_it_is_paid(app, acme, outbox):
    create_lago_customer(outbox.standin, card="requires_authentication")
    subscribe(outbox.standin)
    handled = outbox.dispatch_new()
    # Lago's off-session charge fails with authentication_required and says nothing.
    assert not [kind for kind, _ in handled if kind.startswith(("payment.", "invoice.payment"))]
    [invoice] = rows(app, InvoiceMirror)
    assert (invoice.payment_status, invoice.payment_issue) == ("failed", None)
    assert account(app).dunning_state is DunningState.payment_failed

    lago_call(outbox.standin, "POST", f"/invoices/{invoice.lago_id}/retry_payment")
    handled = dict(outbox.dispatch_new())
    assert handled["payment.requires_action"].note is None
    [payment] = outbox.bodies("payment.requires_action")
    url = payment["payment"]["next_action"]["redirect_to_url"]["url"]
    notice = open_notices(app)["payment_action"]
    assert notice.title == "Your bank asks you to confirm a payment"
    # Pier's page for the invoice, which opens the bank's page (it outlives a stale link).
    assert f"http://localhost/cards/fix/pay/{invoice.lago_id}" in notice.body
    [invoice] = rows(app, InvoiceMirror)
    assert invoice.payment_status == "pending"
    assert (invoice.payment_issue, invoice.payment_action_url) == (
        PaymentIssue.authentication_required,
        url,
    )
    waiting = account(app)
    assert waiting.payment_issue is PaymentIssue.authentication_required
    assert waiting.dunning_state is DunningState.payment_failed  # not "all set" meanwhile
    assert "payment_failed" not in open_notices(app)

    confirm_payment(outbox, payment)
    assert "payment_action" not in open_notices(app)
    settled = account(app)
    assert (settled.dunning_state, settled.payment_issue) == (DunningState.ok, None)
    [invoice] = rows(app, InvoiceMirror)
    assert (invoice.payment_issue, invoice.payment_action_url) == (None, None)


def test_a_declined_card_is_recorded_with_the_providers_words(app, acme, outbox, mailbox):
    create_lago_customer(outbox.standin, card="insufficient_funds")
    subscribe(outbox.standin)
    outbox.dispatch_new()
    [invoice] = rows(app, InvoiceMirror)
    assert invoice.payment_issue is PaymentIssue.declined
    assert invoice.payment_issue_detail == "Your card has insufficient funds."
    state = account(app)
    assert (state.dunning_state, state.payment_issue) == (
        DunningState.payment_failed,
        PaymentIssue.declined,
    )
    notice = open_notices(app)["payment_failed"]
    assert "“Your card has insufficient funds”" in notice.body


def test_no_card_in_lago_means_nothing_is_charged_until_a_retry_says_so(app, acme, outbox):
    create_lago_customer(outbox.standin, card=None)
    subscribe(outbox.standin)
    handled = outbox.dispatch_new()
    assert "invoice.payment_failure" not in [kind for kind, _ in handled]
    [invoice] = rows(app, InvoiceMirror)
    assert (invoice.payment_status, invoice.payment_issue) == ("pending", None)
    assert account(app).dunning_state is DunningState.ok


def test_a_retry_without_a_payment_provider_records_no_card(app, acme, outbox):
    create_lago_customer(outbox.standin, sync_with_provider=False, payment_provider=None)
    subscribe(outbox.standin)
    outbox.dispatch_new()
    [invoice] = rows(app, InvoiceMirror)
    lago_call(outbox.standin, "POST", f"/invoices/{invoice.lago_id}/retry_payment")
    handled = dict(outbox.dispatch_new())
    assert handled["invoice.payment_failure"].note is None
    [invoice] = rows(app, InvoiceMirror)
    assert (invoice.payment_status, invoice.payment_issue) == (
        "pending",
        PaymentIssue.no_payment_method,
    )
    state = account(app)
    assert (state.dunning_state, state.payment_issue) == (
        DunningState.payment_failed,
        PaymentIssue.no_payment_method,
    )
    notice = open_notices(app)["payment_failed"]
    assert notice.title.endswith("there is no card on file")


def test_the_no_card_copy_does_not_mark_the_invoice_failed(app, acme, lago_down):
    deliver(app, payload("invoice.created"))
    outcome = deliver(app, payload("invoice.payment_failure.no_payment_provider"))
    assert outcome.note is None or "Marked" not in outcome.note
    [invoice] = rows(app, InvoiceMirror)
    assert invoice.payment_status != "failed"
    assert invoice.payment_issue is PaymentIssue.no_payment_method
    assert account(app).payment_issue is PaymentIssue.no_payment_method


def test_the_requires_action_copy_keeps_the_link(app, acme, lago_down):
    deliver(app, payload("invoice.created"))
    deliver(app, payload("payment.requires_action"))
    [invoice] = rows(app, InvoiceMirror)
    sent = payload("payment.requires_action")["payment"]["next_action"]["redirect_to_url"]["url"]
    assert invoice.payment_action_url == sent
    assert account(app).payment_issue is PaymentIssue.authentication_required


# -- When Lago cannot answer -------------------------------------------------------------------


def test_a_failure_for_an_invoice_pier_never_saw_waits_for_lago(app, acme, lago_down):
    from portal.webhooks.handlers.invoices import InvoiceUnknown

    with pytest.raises(InvoiceUnknown):
        deliver(app, payload("invoice.payment_failure"))
    assert rows(app, InvoiceMirror) == []


def test_a_failure_from_the_copy_marks_the_known_invoice(app, acme, lago_down, mailbox):
    deliver(app, payload("invoice.created"))
    outcome = deliver(app, payload("invoice.payment_failure"))
    assert "Marked the invoice's payment as failed" in outcome.note
    assert rows(app, InvoiceMirror)[0].payment_status == "failed"
    assert account(app).dunning_state is DunningState.payment_failed

    assert email_jobs.send("payment_failed", acme.id, rows(app, InvoiceMirror)[0].lago_id)
    [message] = mailbox.to(acme.owner)
    assert "insufficient funds" in text(message)
    [key] = {e.dedupe_key.split("|")[0] for e in rows(app, EmailLog)}
    assert key.startswith("payment_failed:") and ":since-" in key
