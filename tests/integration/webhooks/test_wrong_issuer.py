"""Lago signing with another issuer: refused, explained on the health card, trusted in one click."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEntry, BillingConnection, SignatureFailure, WebhookEvent
from tests.integration.billing.support import text_of as text
from tests.integration.webhooks.conftest import ISSUER, jwt_headers, lago_body
from tests.integration.webhooks.test_live_delivery import create_customer

URL = "/webhooks/lago"
PAGE = "/admin/webhooks"
TRUST = "/admin/webhooks/trust-issuer"
LAGO_OWN_URL = "http://lago-api:3000"  # the LAGO_API_URL Lago signs with


def deliver(client, keys, issuer: str = LAGO_OWN_URL):
    body = lago_body()
    return client.post(URL, data=body, headers=jwt_headers(body, keys, issuer=issuer))


def three_refused(connect_lago, client, keys, admin_client) -> str:
    """Connect with JWT, have three deliveries signed with `keys` refused; the page's text."""
    connect_lago("jwt")
    for _ in range(3):
        assert deliver(client, keys).status_code == 401
    return text(admin_client.get(PAGE))


def saved_issuer(app) -> str | None:
    with app.app_context():
        return db.session.scalars(sa.select(BillingConnection.webhook_issuer)).one()


def trust_entries(app) -> list[AuditEntry]:
    with app.app_context():
        query = sa.select(AuditEntry).where(AuditEntry.action == "billing.webhook_issuer_trusted")
        entries = list(db.session.scalars(query))
        for entry in entries:
            db.session.expunge(entry)
        return entries


def test_the_card_names_the_issuer_and_an_admin_trusts_it(
    webhook_app, client, connect_lago, lago_keys, admin_client
):
    shown = three_refused(connect_lago, client, lago_keys, admin_client)
    assert (
        "Lago's webhooks are refused for their issuer. They are signed with the saved public "
        f"key, but they say they come from {LAGO_OWN_URL} while Pier expects {ISSUER}: "
        "3 deliveries refused"
    ) in shown
    assert f"Issuer in Lago's tokens: {LAGO_OWN_URL} (not trusted)" in shown
    assert f"Trust {LAGO_OWN_URL}" in shown
    assert "signatures are failing" not in shown  # not blamed on a rotated secret

    assert admin_client.post(TRUST, data={"issuer": LAGO_OWN_URL}).status_code == 400  # no CSRF
    assert saved_issuer(webhook_app) == ISSUER

    trusted = admin_client.submit(TRUST, {"issuer": LAGO_OWN_URL}, follow_redirects=True)
    assert f"Lago's webhooks issued by {LAGO_OWN_URL} are accepted from now on." in text(trusted)
    assert saved_issuer(webhook_app) == LAGO_OWN_URL
    [entry] = trust_entries(webhook_app)
    assert entry.before == {"webhook_issuer": ISSUER}
    assert entry.after == {"webhook_issuer": LAGO_OWN_URL, "refused_deliveries": 3}
    assert entry.actor_id is not None

    assert deliver(client, lago_keys).status_code == 200
    assert "refused for their issuer" not in text(admin_client.get(PAGE))
    assert deliver(client, lago_keys, issuer=ISSUER).status_code == 401  # one issuer at a time


def test_an_issuer_from_a_token_with_a_bad_signature_is_never_offered(
    webhook_app, client, connect_lago, other_keys, admin_client
):
    shown = three_refused(connect_lago, client, other_keys, admin_client)
    assert "refused for their issuer" not in shown and LAGO_OWN_URL not in shown
    assert "Lago signatures are failing" in shown

    refused = admin_client.submit(TRUST, {"issuer": LAGO_OWN_URL}, follow_redirects=True)
    assert (
        "No recent delivery signed with the saved public key carries this issuer, "
        "so nothing was changed."
    ) in text(refused)
    assert saved_issuer(webhook_app) == ISSUER
    assert trust_entries(webhook_app) == []


def test_refusals_from_before_the_key_was_saved_are_not_offered(
    webhook_app, client, connect_lago, lago_keys, admin_client
):
    connect_lago("jwt")
    assert deliver(client, lago_keys).status_code == 401
    with webhook_app.app_context():
        refused_at = db.session.scalars(sa.select(SignatureFailure.received_at)).one()
        connection = db.session.scalars(sa.select(BillingConnection)).one()
        connection.last_tested_at = refused_at + timedelta(seconds=1)  # saved with another key
        db.session.commit()

    assert "refused for their issuer" not in text(admin_client.get(PAGE))
    admin_client.submit(TRUST, {"issuer": LAGO_OWN_URL})
    assert saved_issuer(webhook_app) == ISSUER


def test_an_accepted_delivery_after_the_refusals_ends_the_notice(
    webhook_app, client, connect_lago, lago_keys, admin_client
):
    connect_lago("jwt")
    assert deliver(client, lago_keys).status_code == 401
    assert "refused for their issuer" in text(admin_client.get(PAGE))
    assert deliver(client, lago_keys, issuer=ISSUER).status_code == 200
    assert "refused for their issuer" not in text(admin_client.get(PAGE))


def test_lago_signing_as_its_own_url_is_explained_then_trusted_end_to_end(
    webhook_app, live_portal, lago_standin, connect_standin, admin_client
):
    with lago_standin.control() as control:
        assert control.put("/config", json={"jwt_issuer": LAGO_OWN_URL}).status_code == 200
    try:
        connect_standin("jwt")
        assert saved_issuer(webhook_app) == lago_standin.url  # the URL Pier calls
        customer = create_customer(lago_standin)
        [record] = lago_standin.wait_for_webhooks(1, status="failed", timeout=10)
        assert [a["http_status"] for a in record["attempts"]] == [401, 401, 401]

        shown = text(admin_client.get(PAGE))
        expected = f"they say they come from {LAGO_OWN_URL} while Pier expects {lago_standin.url}"
        assert expected in shown
        assert "3 deliveries refused" in shown

        assert admin_client.submit(TRUST, {"issuer": LAGO_OWN_URL}).status_code == 303
        with lago_standin.control() as control:
            assert control.post(f"/webhooks/{record['id']}/retry").status_code == 200
            triggered = control.post(
                "/webhooks/trigger",
                json={"webhook_type": "customer.updated", "object_id": customer["external_id"]},
            )
            assert triggered.status_code == 200, triggered.text
        lago_standin.settle()
        assert [r["status"] for r in lago_standin.webhooks()] == ["succeeded", "succeeded"]
        with webhook_app.app_context():
            received = db.session.scalars(sa.select(WebhookEvent.event_type)).all()
        assert sorted(received) == ["customer.created", "customer.updated"]
        assert "refused for their issuer" not in text(admin_client.get(PAGE))
    finally:
        with lago_standin.control() as control:
            control.put("/config", json={"jwt_issuer": None})
