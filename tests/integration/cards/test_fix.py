"""Getting a failed payment paid: the next step, a new card, every open invoice retried."""

from __future__ import annotations

import pytest

from portal.billing import customers
from portal.cards import fix
from portal.extensions import db
from portal.models import DunningState, Tenant
from tests.conftest import log_in
from tests.integration.billing.support import text_of
from tests.integration.cards.conftest import save_card
from tests.integration.handlers.support import lago_call, run_jobs
from tests.integration.handlers.test_dunning import account, subscribe


@pytest.fixture
def declined(app, acme, outbox, stripe_keys, stripe_for_lago):
    """Acme linked to Stripe with a card every charge of which is declined, and Pro's first
    invoice declined."""
    with app.app_context():
        tenant = db.session.get(Tenant, acme.id)
        tenant.currency = "USD"  # the plans' currency
        assert customers.sync_tenant(tenant)
        db.session.commit()
    owner = _owner(app, acme)
    intent = save_card(stripe_keys, owner, "pm_card_chargeCustomerFail")
    assert "is saved" in text_of(owner.get(f"/cards/added?setup_intent={intent}"))
    stripe_keys.settle()
    subscribe(outbox.standin)
    outbox.dispatch_new()
    return owner


def _owner(app, acme):
    from types import SimpleNamespace

    from portal.models import User

    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email=acme.owner))
        return log_in(app.test_client(), SimpleNamespace(id=user.id))


def _step(app, acme):
    with app.test_request_context(), app.app_context():
        step = fix.next_step(db.session.get(Tenant, acme.id))
        return step.kind if step else None


def test_a_declined_renewal_is_fixed_with_a_new_card_and_a_retry(
    app,
    acme,
    declined,
    outbox,
    stripe_keys,
    mailbox,
):
    assert account(app).dunning_state is DunningState.payment_failed
    assert _step(app, acme) == "declined"
    page = text_of(declined.get("/cards/fix"))
    assert "Your card was declined" in page and "Not paid yet." in page

    intent = save_card(stripe_keys, declined, "pm_card_visa")
    answer = declined.get(f"/cards/added?setup_intent={intent}&next=fix")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/cards/fix")
    stripe_keys.settle()
    methods = lago_call(outbox.standin, "GET", "/customers/pier_acme/payment_methods")
    assert [m["is_default"] for m in methods["payment_methods"]].count(True) == 1

    retried = declined.submit("/cards/fix/retry", {"key": "retry-key-0000000001"})
    assert retried.status_code == 303
    operation_url = retried.headers["Location"]
    assert "Sent for payment" in text_of(declined.get(operation_url))

    outbox.dispatch_new()  # payment.succeeded, invoice.payment_status_updated
    page = text_of(declined.get(operation_url))
    assert "Paid." in page
    assert account(app).dunning_state is DunningState.ok
    assert _step(app, acme) is None
    run_jobs(app)
    subjects = [m["Subject"] for m in mailbox.to(acme.billing_email)]
    assert any("all set" in s.lower() for s in subjects), subjects


def test_an_invoice_lago_is_still_handling_shows_as_in_progress(
    app,
    acme,
    declined,
    outbox,
    stripe_keys,
):
    """3-D Secure on the retry: Lago answers 405 while the payment waits; not an error."""
    with outbox.standin.control() as http:
        body = {"external_customer_id": "pier_acme", "outcomes": ["requires_action"] * 2}
        assert http.put("/payments", json=body).status_code == 200
    first = declined.submit("/cards/fix/retry", {"key": "retry-key-0000000002"})
    assert first.status_code == 303
    # Off session the bank refuses (authentication_required); the next attempt waits for it.
    declined.submit("/cards/fix/retry", {"key": "retry-key-0000000003"})
    third = declined.submit("/cards/fix/retry", {"key": "retry-key-0000000004"})
    page = text_of(declined.get(third.headers["Location"]))
    assert "In progress at your bank." in page
