"""Registering Pier's webhook endpoint in Lago: idempotent, with the chosen signature."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import AuditEntry, BillingConnection
from tests.integration.billing.support import connect, text_of

SETTINGS = "/admin/settings/billing"
REGISTER = SETTINGS + "/webhook"
BASE_URL = "https://billing.example.com"


def endpoints_in_lago(lago_standin) -> list[dict]:
    with lago_standin.client() as lago:
        reply = lago.get("/webhook_endpoints")
    assert reply.status_code == 200
    return reply.json()["webhook_endpoints"]


@pytest.mark.parametrize("algorithm", ["hmac", "jwt"])
def test_registering_twice_leaves_one_endpoint(app, admin, lago_standin, algorithm):
    app.config["PIER_BASE_URL"] = BASE_URL
    options = {"hmac_key": lago_standin.hmac_key} if algorithm == "hmac" else {}
    connect(admin, lago_standin, algorithm=algorithm, **options)

    page = admin.get(SETTINGS).get_data(as_text=True)
    assert f'value="{BASE_URL}/webhooks/lago"' in page
    assert "Register in Lago" in page
    if algorithm == "hmac":
        assert "Saved; leave blank to keep it." in page
        assert lago_standin.hmac_key not in page

    first = admin.submit(REGISTER, {}, follow_redirects=True)
    assert "Webhook registered in Lago." in text_of(first)
    second = admin.submit(REGISTER, {}, follow_redirects=True)
    assert "Lago already had Pier's webhook; it is kept." in text_of(second)

    [endpoint] = endpoints_in_lago(lago_standin)
    assert endpoint["webhook_url"] == f"{BASE_URL}/webhooks/lago"
    assert endpoint["signature_algo"] == algorithm
    text = text_of(second)
    assert f"Registered in Lago ({endpoint['lago_id']}), signed with {algorithm.upper()}." in text
    assert "Check registration in Lago" in text
    with app.app_context():
        saved = db.session.query(BillingConnection).one()
        assert saved.webhook_endpoint_id == endpoint["lago_id"]
        audits = db.session.query(AuditEntry).filter_by(action="billing.webhook_registered")
        assert [a.after["created"] for a in audits.order_by(AuditEntry.id)] == [True, False]


def test_an_endpoint_already_in_lago_is_reused(app, admin, lago_standin):
    with lago_standin.client() as lago:
        made = lago.post(
            "/webhook_endpoints",
            json={"webhook_endpoint": {"webhook_url": "http://localhost/webhooks/lago"}},
        ).json()["webhook_endpoint"]
        lago.post(
            "/webhook_endpoints",
            json={"webhook_endpoint": {"webhook_url": "https://elsewhere.example.com/hook"}},
        )
    connect(admin, lago_standin)
    response = admin.submit(REGISTER, {}, follow_redirects=True)
    assert "Lago already had Pier's webhook; it is kept." in text_of(response)
    assert len(endpoints_in_lago(lago_standin)) == 2
    with app.app_context():
        assert db.session.query(BillingConnection).one().webhook_endpoint_id == made["lago_id"]


def test_changing_the_signature_algorithm_changes_the_endpoint_in_lago(app, admin, lago_standin):
    connect(admin, lago_standin)  # JWT
    admin.submit(REGISTER, {}, follow_redirects=True)
    [before] = endpoints_in_lago(lago_standin)
    assert before["signature_algo"] == "jwt"

    connect(admin, lago_standin, algorithm="hmac", hmac_key=lago_standin.hmac_key)
    response = admin.submit(REGISTER, {}, follow_redirects=True)
    assert "Webhook registered in Lago." not in text_of(response)  # the same endpoint

    [after] = endpoints_in_lago(lago_standin)
    assert after["signature_algo"] == "hmac"  # else Lago signs in a way Pier does not check
    assert after["lago_id"] == before["lago_id"]
    assert "signed with HMAC" in text_of(response)


def test_registration_failure_is_explained_and_nothing_is_kept(app, admin, lago_standin):
    app.config["LAGO_MAX_RETRIES"] = 0  # the safe GET would otherwise be retried with backoff
    connect(admin, lago_standin)
    lago_standin.set_faults(down="503")
    response = admin.submit(REGISTER, {}, follow_redirects=True)
    lago_standin.clear_faults()
    assert (
        "Lago did not register the webhook: Lago is temporarily unavailable. "
        "Try again in a minute." in text_of(response)
    )
    assert endpoints_in_lago(lago_standin) == []
    with app.app_context():
        assert db.session.query(BillingConnection).one().webhook_endpoint_id is None


def test_the_webhook_needs_a_saved_connection(admin, lago_standin):
    assert "Lago sends billing events to this address" not in text_of(admin.get(SETTINGS))
    assert admin.submit(REGISTER, {}).status_code == 404
    assert endpoints_in_lago(lago_standin) == []
