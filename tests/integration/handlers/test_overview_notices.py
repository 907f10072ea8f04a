"""The customer overview shows the tenant's open billing notices: what, what to do, a link."""

from __future__ import annotations

from portal.extensions import db
from portal.models import Notice, utcnow
from portal.notify import notices
from tests.integration.handlers.support import deliver, payload


def test_payment_notices_are_told_once_by_the_banner_with_what_to_do(app, acme, as_role, lago_down):
    deliver(app, payload("invoice.created"))
    deliver(app, payload("invoice.payment_failure"))
    deliver(app, payload("payment.requires_action"))
    owner, _ = as_role("owner", tenant_id=acme.id)
    member, _ = as_role("member", tenant_id=acme.id)

    page = owner.get("/").get_data(as_text=True)
    assert page.count('data-banner="dunning"') == 1
    assert "Your bank asks you to confirm the payment of invoice ACM-C6D5-001-007" in page
    assert 'data-notice="payment_failed"' not in page
    assert 'data-notice="payment_action"' not in page
    link = "https://hooks.stripe.com/3d_secure_2/hosted?merchant=acct_1Acme&amp;payment_intent=pi_3AcmeAction01"
    assert f'href="{link}"' in page
    assert "can sort out the card" not in page

    page = member.get("/").get_data(as_text=True)
    assert "Your bank asks you to confirm the payment of invoice ACM-C6D5-001-007" in page


def test_other_notices_are_shown_to_every_member_with_who_can_act(app, acme, as_role):
    with app.app_context():
        notices.raise_notice(
            "customer_provider_error:x",
            tenant_id=acme.id,
            kind="payment_provider_error",
            title="Your payment details could not be set up",
            body="See https://pier.example/help for what to do.",
            level="warning",
        )
        db.session.commit()
    member, _ = as_role("member", tenant_id=acme.id)
    page = member.get("/").get_data(as_text=True)
    assert 'id="billing"' in page
    assert "Your payment details could not be set up" in page
    assert 'href="https://pier.example/help"' in page
    assert "An owner or billing admin of Acme Inc. can sort this out." in page


def test_resolved_and_other_tenants_notices_are_not_shown(app, acme, as_role):
    with app.app_context():
        notices.raise_notice(
            "card_setup_failed:x",
            tenant_id=acme.id,
            kind="card_setup_failed",
            title="Your card could not be saved",
            body="Old news.",
            level="warning",
        )
        notices.resolve("card_setup_failed:x")
        db.session.add(
            Notice(
                tenant_id=None,
                kind="events_errors",
                key="lago_events_errors",
                level="warning",
                title="Lago could not bill 2 usage events",
                body="For the admins.",
                created_at=utcnow(),
            )
        )
        db.session.commit()
    client, _ = as_role("owner", tenant_id=acme.id)
    page = client.get("/").get_data(as_text=True)
    assert "Your card could not be saved" not in page
    assert "Lago could not bill" not in page
    assert 'id="billing"' not in page

    other, _ = as_role("other_tenant")
    with app.app_context():
        notices.raise_notice(
            "card_setup_failed:y",
            tenant_id=acme.id,
            kind="card_setup_failed",
            title="Only for Acme",
            body="Acme's card.",
            level="warning",
        )
        db.session.commit()
    assert "Only for Acme" not in other.get("/").get_data(as_text=True)
    assert "Only for Acme" in client.get("/").get_data(as_text=True)


def test_notices_are_listed_most_serious_first(app, acme):
    with app.app_context():
        for key, level in (("a", "info"), ("b", "error"), ("c", "warning")):
            notices.raise_notice(
                key, tenant_id=acme.id, kind="test", title=key, body="", level=level
            )
        db.session.commit()
        assert [n.level for n in notices.for_tenant(acme.id)] == ["error", "warning", "info"]
