"""The cards page: linking, listing, adding (with 3-D Secure), default, removal, and the rules."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import BillingAccount, Card
from tests.integration.billing.support import text_of
from tests.integration.cards.conftest import save_card
from tests.integration.handlers.support import lago_call


def _lago_default(lago) -> str | None:
    methods = lago_call(lago, "GET", "/customers/pier_acme/payment_methods")["payment_methods"]
    return next((m["provider_method_id"] for m in methods if m["is_default"]), None)


def test_the_sync_links_lago_to_one_stripe_customer(app, linked, connected, stripe_keys):
    with app.app_context():
        account = db.session.scalar(sa.select(BillingAccount).filter_by(tenant_id=linked.id))
        assert account.payment_provider == "stripe" and account.stripe_linked_at is not None
        stripe_id = account.provider_customer_id
    customer = lago_call(connected, "GET", "/customers/pier_acme")["customer"]
    billing = customer["billing_configuration"]
    assert (billing["payment_provider"], billing["provider_customer_id"]) == ("stripe", stripe_id)
    listed = stripe_keys.client().v1.customers.list()
    assert [c.id for c in listed.data] == [stripe_id]
    assert listed.data[0].metadata["customer_id"] == "pier_acme"


def test_adding_a_card_saves_it_as_the_default_in_stripe_and_lago(
    app, linked, client_as, stripe_keys, connected
):
    owner = client_as("owner")
    intent = save_card(stripe_keys, owner)
    page = owner.get(f"/cards/added?setup_intent={intent}")
    assert page.status_code == 200
    assert "Visa ending 4242 is saved" in text_of(page)
    stripe_keys.settle()
    listing = text_of(owner.get("/cards/"))
    assert "Your next invoice will be charged to Visa ending 4242" in listing
    with app.app_context():
        card = db.session.scalar(sa.select(Card))
        assert card.is_default and card.last4 == "4242"
        pm = card.stripe_id
    assert _lago_default(connected) == pm


def test_a_declined_card_is_told_in_our_words(app, linked, client_as, stripe_keys):
    owner = client_as("owner")
    intent = save_card(stripe_keys, owner, "pm_card_chargeDeclinedInsufficientFunds")
    page = owner.get(f"/cards/added?setup_intent={intent}")
    assert "declined for insufficient funds" in text_of(page)
    with app.app_context():
        assert db.session.scalar(sa.select(Card)) is None


def test_three_d_secure_waits_then_recovers_on_reload(app, linked, client_as, stripe_keys):
    owner = client_as("owner")
    intent = save_card(stripe_keys, owner, "pm_card_authenticationRequiredOnSetup")
    listing = owner.get("/cards/")
    assert "A new card is still being set up" in text_of(listing)
    assert "Continue authentication" in text_of(listing)
    stripe_keys.complete_authentication(intent)
    listing = text_of(owner.get("/cards/"))
    assert "still being set up" not in listing
    assert "Your next invoice will be charged to Visa ending 3155" in listing


def test_failed_authentication_is_said(app, linked, client_as, stripe_keys):
    owner = client_as("owner")
    intent = save_card(stripe_keys, owner, "pm_card_authenticationRequiredOnSetup")
    stripe_keys.fail_authentication(intent)
    page = owner.get(f"/cards/added?setup_intent={intent}")
    assert "authentication did not succeed" in text_of(page)


def _cards(app):
    with app.app_context():
        return {
            c.last4: (c.id, c.is_default)
            for c in db.session.scalars(sa.select(Card).where(Card.removed_at.is_(None)))
        }


def test_set_default_and_removal_rules(app, linked, client_as, stripe_keys, connected):
    owner = client_as("owner")
    first = save_card(stripe_keys, owner)
    owner.get(f"/cards/added?setup_intent={first}")
    second = save_card(stripe_keys, owner, "pm_card_mastercard")
    owner.get(f"/cards/added?setup_intent={second}")
    stripe_keys.settle()
    cards = _cards(app)
    assert cards["4444"][1] and not cards["4242"][1]
    # The default may not go while another card exists.
    refused = owner.get(f"/cards/{cards['4444'][0]}/remove")
    assert "Choose another card as the default first" in text_of(refused)
    answer = owner.submit(f"/cards/{cards['4444'][0]}/remove", {"key": "k" * 20})
    assert answer.status_code == 303
    assert _cards(app)["4444"]
    # Make Visa the default: Stripe and Lago follow.
    answer = owner.submit(f"/cards/{cards['4242'][0]}/default", {"key": "d" * 20})
    assert answer.status_code == 303
    stripe_keys.settle()
    assert _cards(app)["4242"][1]
    with app.app_context():
        visa = db.session.scalar(sa.select(Card).filter_by(last4="4242")).stripe_id
    assert _lago_default(connected) == visa
    # Now Mastercard may go.
    answer = owner.submit(f"/cards/{cards['4444'][0]}/remove", {"key": "r" * 20})
    assert answer.status_code == 303
    assert set(_cards(app)) == {"4242"}
    # The only card of a paid subscription stays.
    refused = owner.get(f"/cards/{cards['4242'][0]}/remove")
    assert "your only card and your subscription is paid" in text_of(refused)


def test_members_read_and_other_tenants_get_404(app, linked, client_as, stripe_keys, as_role):
    owner = client_as("owner")
    intent = save_card(stripe_keys, owner)
    owner.get(f"/cards/added?setup_intent={intent}")
    card_id = next(iter(_cards(app).values()))[0]
    member = client_as("member")
    listing = member.get("/cards/")
    assert "Visa ending 4242" in text_of(listing)
    assert "Make default" not in text_of(listing) and "Add a card" not in text_of(listing)
    assert member.get("/cards/add").status_code == 403
    assert member.submit(f"/cards/{card_id}/remove", {"key": "m" * 20}).status_code == 403
    stranger, _ = as_role("other_tenant")
    assert stranger.get(f"/cards/{card_id}/remove").status_code == 404
    assert stranger.submit(f"/cards/{card_id}/default", {"key": "s" * 20}).status_code == 404
    assert stranger.get(f"/cards/added?setup_intent={intent}").status_code == 404


def test_webhooks_make_pier_read_the_cards_from_stripe(app, linked, stripe_keys):
    """A card saved outside Pier (Lago's checkout, the Stripe dashboard) appears on any card
    event, whatever the event's own copy says; its removal too."""
    from tests.integration.handlers.support import deliver, payload

    with app.app_context():
        customer_id = db.session.scalar(sa.select(BillingAccount)).provider_customer_id
    client = stripe_keys.client()
    pm = client.v1.payment_methods.attach("pm_card_mastercard", params={"customer": customer_id}).id
    stale = {"id": pm, "customer": customer_id, "card": {"last4": "0000", "brand": "visa"}}
    deliver(app, {**payload("payment_method.attached", "stripe"), "data": {"object": stale}})
    assert {k: v[1] for k, v in _cards(app).items()} == {"4444": False}
    client.v1.customers.update(
        customer_id, params={"invoice_settings": {"default_payment_method": pm}}
    )
    deliver(app, {**payload("customer.updated", "stripe"), "data": {"object": {"id": customer_id}}})
    assert _cards(app)["4444"][1]
    client.v1.payment_methods.detach(pm)
    deliver(app, {**payload("payment_method.detached", "stripe"), "data": {"object": stale}})
    assert _cards(app) == {}


def test_the_admin_tenant_page_shows_the_stripe_link(app, linked, as_role):
    admin, _ = as_role("admin")
    page = admin.get("/admin/tenants")
    with app.app_context():
        stripe_id = db.session.scalar(sa.select(BillingAccount)).provider_customer_id
    assert 'data-stripe-link="linked"' in page.get_data(as_text=True)
    assert stripe_id in text_of(page)
