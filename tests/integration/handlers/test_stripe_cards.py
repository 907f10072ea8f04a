"""Stripe card webhooks: card setup failures shown to the tenant, the Stripe customer link."""

from __future__ import annotations

from portal.models import BillingAccount, Notice
from tests.integration.handlers.support import STRIPE_CUSTOMER, deliver, payload, rows


def linked(app, acme) -> None:
    """Acme's billing account knows its Stripe customer (as Lago's customer webhook says)."""
    deliver(app, payload("customer.payment_provider_created"))


def card_notices(app) -> list[Notice]:
    return [n for n in rows(app, Notice) if n.kind == "card_setup_failed"]


def test_a_failed_card_setup_is_shown_until_a_card_is_saved(app, acme):
    linked(app, acme)
    outcome = deliver(app, payload("setup_intent.setup_failed", "stripe"))
    assert outcome.outcome == "processed"
    [notice] = card_notices(app)
    assert notice.tenant_id == acme.id
    assert notice.title == "Your card could not be saved"
    assert notice.body.startswith("Your card has insufficient funds. Try another card")

    deliver(app, payload("setup_intent.succeeded", "stripe"))
    [notice] = card_notices(app)
    assert notice.resolved_at is not None


def test_an_attached_card_also_closes_the_failure_and_is_noted(app, acme):
    linked(app, acme)
    deliver(app, payload("setup_intent.setup_failed", "stripe"))
    outcome = deliver(app, payload("payment_method.attached", "stripe"))
    assert outcome.note.splitlines() == [
        "Used the webhook's copy of the card (Cards cannot be managed yet: the platform has not "
        "connected Stripe.)",
        "Acme Inc.: Visa ending 4242 is saved.",
    ]
    assert card_notices(app)[0].resolved_at is not None


def test_a_detached_card_is_found_through_previous_attributes(app, acme):
    linked(app, acme)
    outcome = deliver(app, payload("payment_method.detached", "stripe"))
    assert outcome.note.endswith("A card ending 4242 was removed from Acme Inc.'s Stripe customer.")


def test_the_stripe_customer_links_an_account_through_lagos_metadata(app, acme):
    outcome = deliver(app, payload("customer.updated", "stripe"))
    assert outcome.note.startswith(f"Linked Acme Inc. to the Stripe customer {STRIPE_CUSTOMER}.")
    [account] = rows(app, BillingAccount)
    assert (account.provider_customer_id, account.payment_provider) == (STRIPE_CUSTOMER, "stripe")
    assert "Linked" not in deliver(app, payload("customer.updated", "stripe")).note


def test_events_about_an_unknown_stripe_customer_are_noted(app, acme):
    outcome = deliver(app, payload("setup_intent.setup_failed", "stripe"))
    assert outcome.note == f"No tenant is linked to the Stripe customer {STRIPE_CUSTOMER!r}."
    assert card_notices(app) == []


def _card(app):
    from portal.models import Card

    found = rows(app, Card)
    return found[0] if found else None


def _at(body: dict, created: int, event_id: str | None = None) -> dict:
    body["created"] = created
    if event_id:
        body["id"] = event_id
    return body


def test_without_stripe_the_events_copy_keeps_the_card_list_and_older_news_loses(app, acme):
    linked(app, acme)
    deliver(app, payload("payment_method.attached", "stripe"))
    card = _card(app)
    assert (card.brand, card.last4, card.exp_month, card.exp_year, card.is_default) == (
        "visa",
        "4242",
        12,
        2030,
        False,
    )
    assert (card.funding, card.country) == ("credit", "PT")
    deliver(app, _at(payload("customer.updated", "stripe"), 1747990050))
    assert _card(app).is_default
    deliver(app, payload("payment_method.updated", "stripe"))
    assert _card(app).exp_year == 2032
    deliver(app, payload("payment_method.automatically_updated", "stripe"))
    assert (_card(app).exp_month, _card(app).exp_year) == (3, 2033)
    # The attach event again (older than what the mirror holds) changes nothing.
    deliver(app, _at(payload("payment_method.attached", "stripe"), 1747990000, "evt_2"))
    assert (_card(app).exp_month, _card(app).exp_year) == (3, 2033)
    deliver(app, _at(payload("payment_method.detached", "stripe"), 1747990300))
    card = _card(app)
    assert card.removed_at is not None and not card.is_default
