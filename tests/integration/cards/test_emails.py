"""The billing emails that send people to the fix-it flow, the "confirm the payment" email and
the "card expiring next month" email, received on the test SMTP server."""

from __future__ import annotations

import sqlalchemy as sa

from jobs import dunning as dunning_jobs
from jobs import emails as email_jobs
from portal.cards import services
from portal.extensions import db
from portal.models import Card, DunningState, EmailLog, InvoiceMirror, Tenant
from tests.integration.billing.support import text_of
from tests.integration.cards.conftest import save_card
from tests.integration.cards.test_fix import _owner, declined  # noqa: F401
from tests.integration.handlers.support import (
    create_lago_customer,
    deliver,
    lago_call,
    rows,
    run_jobs,
)
from tests.integration.handlers.test_dunning import (  # noqa: F401
    account,
    confirm_payment,
    grace,
    overdue,
    subscribe,
)

FIX = "http://localhost/cards/fix"


def _text(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def _html(message) -> str:
    return message.get_body(("html",)).get_content()


def _one(mailbox, address: str, words: str):
    found = [m for m in mailbox.to(address) if words in m["Subject"]]
    assert len(found) == 1, [m["Subject"] for m in mailbox.to(address)]
    return found[0]


# -- failure, overdue and all set: the fix-it flow, not "write to billing@" ---------------------


def test_the_failure_and_all_set_emails_link_to_the_fix_it_flow(
    app,
    acme,
    declined,  # noqa: F811
    outbox,
    stripe_keys,
    mailbox,
):
    run_jobs(app)
    for address in acme.billing_recipients:
        message = _one(mailbox, address, "Payment failed for invoice")
        assert f"then retry the payment: {FIX}" in _text(message)
        assert f'href="{FIX}"' in _html(message)
        assert "Fix the payment" in _html(message)
        assert "write to" not in _text(message).lower()

    intent = save_card(stripe_keys, declined, "pm_card_visa")
    declined.get(f"/cards/added?setup_intent={intent}&next=fix")
    stripe_keys.settle()
    declined.submit("/cards/fix/retry", {"key": "retry-key-0000000011"})
    outbox.dispatch_new()
    assert account(app).dunning_state is DunningState.ok
    run_jobs(app)
    message = _one(mailbox, acme.owner, "all set")
    assert f"Where your payments stand: {FIX}" in _text(message)
    assert f'href="{FIX}"' in _html(message)


def test_the_overdue_email_links_to_the_fix_it_flow(
    app,
    acme,
    stripe_keys,
    overdue,  # noqa: F811
    mailbox,
):
    run_jobs(app)
    message = mailbox.to(acme.owner)[-1]
    assert message["Subject"].endswith("is overdue")
    assert f"your data is kept. Pay it now: {FIX}" in _text(message)
    assert f'href="{FIX}"' in _html(message) and "Pay the invoice" in _html(message)
    assert "write to" not in _text(message).lower()

    grace(app, 0)
    assert dunning_jobs.suspend_overdue_accounts() == 1
    run_jobs(app)
    message = mailbox.to(acme.owner)[-1]
    assert message["Subject"] == "Your Acme Inc. account is suspended"
    assert f"the payment goes through. Fix the payment: {FIX}" in _text(message)
    assert f'href="{FIX}"' in _html(message)


def test_without_stripe_the_fix_it_page_names_the_billing_contact(app, acme, declined):  # noqa: F811
    app.config.update(STRIPE_SECRET_KEY="", STRIPE_PUBLISHABLE_KEY="")
    with app.app_context():
        db.session.execute(sa.delete(Card))
        db.session.commit()
    page = text_of(declined.get("/cards/fix"))
    assert "Cards cannot be added here yet. Write to billing@pier.localhost" in page


# -- a payment waiting for the customer's bank -------------------------------------------------


def _requires_action(outbox) -> tuple[str, str]:
    """Pro's first invoice, whose retried payment waits for 3-D Secure; (invoice id, bank URL)."""
    create_lago_customer(outbox.standin, card="requires_authentication")
    subscribe(outbox.standin)
    outbox.dispatch_new()
    [invoice] = rows(outbox.app, InvoiceMirror)
    lago_call(outbox.standin, "POST", f"/invoices/{invoice.lago_id}/retry_payment")
    outbox.dispatch_new()
    [payment] = outbox.bodies("payment.requires_action")
    return invoice.lago_id, payment["payment"]["next_action"]["redirect_to_url"]["url"]


def test_a_payment_needing_authentication_is_emailed_once_with_the_link(app, acme, outbox, mailbox):
    invoice_id, bank_url = _requires_action(outbox)
    run_jobs(app)
    link = f"http://localhost/cards/fix/pay/{invoice_id}"
    for address in acme.billing_recipients:
        message = _one(mailbox, address, "Your bank asks you to confirm the payment of invoice")
        assert f"Confirm the payment:\n{link}" in _text(message)
        assert f'href="{link}"' in _html(message)
    assert mailbox.to(acme.member) == []

    # The link opens the bank's page for a billing person.
    owner = _owner(app, acme)
    opened = owner.get(f"/cards/fix/pay/{invoice_id}")
    assert (opened.status_code, opened.headers["Location"]) == (303, bank_url)

    # The same webhook again: still one email for this invoice.
    for body in outbox.bodies("payment.requires_action"):
        deliver(app, body)
    run_jobs(app)
    asked = [m for m in mailbox.to(acme.owner) if "confirm" in m["Subject"]]
    assert len(asked) == 1
    keys = {
        e.dedupe_key.split("|")[0] for e in rows(app, EmailLog) if e.template == "payment_action"
    }
    assert keys == {f"payment_action:{invoice_id}"}


def test_the_authentication_email_is_not_sent_once_the_payment_went_through(
    app, acme, outbox, mailbox
):
    _requires_action(outbox)
    [payment] = outbox.bodies("payment.requires_action")
    confirm_payment(outbox, payment)
    run_jobs(app)  # the queued email finds the invoice paid
    subjects = [m["Subject"] for m in mailbox.to(acme.owner)]
    assert not [s for s in subjects if "confirm" in s], subjects


# -- a card expiring next month ----------------------------------------------------------------


def _expiring_card(app, stripe_keys, owner, card: str = "pm_card_visa") -> str:
    """A card saved, then (in Stripe) made to expire at the end of May 2026, the month after the
    tests' April; the mirror refreshed. Returns its Stripe id."""
    intent = save_card(stripe_keys, owner, card)
    owner.get(f"/cards/added?setup_intent={intent}")
    stripe_keys.settle()
    with app.app_context():
        pm = db.session.scalar(sa.select(Card.stripe_id).where(Card.is_default.is_(True)))
    _set_expiry(stripe_keys, pm, 5, 2026)
    _refresh(app)
    return pm


def _set_expiry(stripe_keys, pm: str, month: int, year: int) -> None:
    stripe_keys.client().v1.payment_methods.update(
        pm, params={"card": {"exp_month": month, "exp_year": year}}
    )


def _refresh(app) -> None:
    with app.app_context():
        tenant = db.session.scalar(sa.select(Tenant))
        services.refresh(tenant)
        db.session.commit()


def test_a_card_expiring_next_month_is_told_once(app, linked, client_as, stripe_keys, mailbox):
    _expiring_card(app, stripe_keys, client_as("owner"))
    assert email_jobs.send_card_expiry_reminders() == 1
    run_jobs(app)
    for address in linked.billing_recipients:
        message = _one(mailbox, address, "expires at the end of May 2026")
        assert message["Subject"] == "Your Visa ending 4242 expires at the end of May 2026"
        assert "Update your card:\nhttp://localhost/cards/" in _text(message)
        assert 'href="http://localhost/cards/"' in _html(message)
    assert mailbox.to(linked.member) == []

    # The hourly cron again: nothing more is queued or sent for this card and month.
    assert email_jobs.send_card_expiry_reminders() == 0
    run_jobs(app)
    assert len(mailbox.to(linked.owner)) == 1


def test_a_card_not_expiring_next_month_is_not_told(app, linked, client_as, stripe_keys, mailbox):
    pm = _expiring_card(app, stripe_keys, client_as("owner"))
    _set_expiry(stripe_keys, pm, 6, 2026)
    _refresh(app)
    assert email_jobs.send_card_expiry_reminders() == 0
    _set_expiry(stripe_keys, pm, 4, 2026)  # this month: next month's email was due in March
    _refresh(app)
    assert email_jobs.send_card_expiry_reminders() == 0


def test_a_card_updated_by_the_bank_before_the_email_goes_is_not_told(
    app, linked, client_as, stripe_keys, mailbox
):
    pm = _expiring_card(app, stripe_keys, client_as("owner"))
    assert email_jobs.send_card_expiry_reminders() == 1
    _set_expiry(stripe_keys, pm, 5, 2030)  # Stripe's card updater; Pier not told yet
    run_jobs(app)
    assert mailbox.to(linked.owner) == []
    with app.app_context():
        assert db.session.scalar(sa.select(Card.exp_year).where(Card.stripe_id == pm)) == 2030


def test_a_card_replaced_or_removed_before_the_email_goes_is_not_told(
    app, linked, client_as, stripe_keys, mailbox
):
    owner = client_as("owner")
    old = _expiring_card(app, stripe_keys, owner)
    assert email_jobs.send_card_expiry_reminders() == 1
    # A new card made the default at Stripe; Pier not told yet.
    intent = save_card(stripe_keys, owner, "pm_card_mastercard")
    stripe = stripe_keys.client()
    new = stripe.v1.setup_intents.retrieve(intent)
    stripe.v1.customers.update(
        new.customer, params={"invoice_settings": {"default_payment_method": new.payment_method}}
    )
    stripe_keys.settle()
    run_jobs(app)
    assert mailbox.to(linked.owner) == []

    # Made the default again, queued again, then removed at Stripe before the email goes.
    with app.app_context():
        tenant = db.session.scalar(sa.select(Tenant))
        services.make_default(tenant, old)
        db.session.commit()
    assert email_jobs.send_card_expiry_reminders() == 1
    stripe_keys.client().v1.payment_methods.detach(old)
    run_jobs(app)
    assert mailbox.to(linked.owner) == []
    with app.app_context():
        card = db.session.scalar(sa.select(Card).where(Card.stripe_id == old))
        assert card.removed_at is not None
