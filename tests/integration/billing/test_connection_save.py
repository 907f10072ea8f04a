"""Saving the Lago connection: tested first, secrets encrypted at rest, masked, revealed."""

from __future__ import annotations

import json

from cryptography.fernet import Fernet

from portal import crypto
from portal.billing import connection as billing_connection
from portal.extensions import db
from portal.models import AuditEntry, BillingConnection, Provider
from tests.integration.billing.support import (
    connect,
    connection_form,
    database_dump,
    text_of,
)

SETTINGS = "/admin/settings/billing"


def saved(app) -> BillingConnection | None:
    with app.app_context():
        connection = db.session.query(BillingConnection).one_or_none()
        if connection is not None:
            db.session.expunge(connection)
        return connection


def audit_entries(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        entries = db.session.query(AuditEntry).filter_by(action=action).all()
        for entry in entries:
            db.session.expunge(entry)
        return entries


def test_save_tests_first_and_stores_what_lago_said(app, admin, lago_standin):
    response = admin.submit(
        SETTINGS,
        connection_form(lago_standin.api_url + "/", lago_standin.api_key),
        follow_redirects=True,
    )
    text = text_of(response)
    assert "Connected to Pier Sandbox. Next: register the webhook and import plans." in text
    assert "Setup required" not in text

    connection = saved(app)
    assert connection.api_url == lago_standin.url  # /api/v1/ is dropped
    assert connection.organization_id == lago_standin.organization_id
    assert connection.organization_name == "Pier Sandbox"
    assert connection.organization_currency == "USD"
    assert connection.organization_timezone == "UTC"
    assert connection.lago_version == "v1.51.0"
    assert connection.webhook_algorithm.value == "jwt"
    assert "BEGIN PUBLIC KEY" in connection.webhook_public_key  # fetched during the test
    assert connection.webhook_issuer == lago_standin.url
    for label in ("Connected", "Pier Sandbox", lago_standin.organization_id, "USD · UTC"):
        assert label in text


def test_a_public_key_pasted_as_lago_serves_it_is_saved_as_its_pem(app, admin, lago_standin):
    with lago_standin.client() as lago:
        served = lago.get("/webhooks/json_public_key").json()["webhook"]["public_key"]
    assert served.endswith("\n") and served.count("\n") > 5  # Ruby's Base64.encode64
    form = connection_form(lago_standin.url, lago_standin.api_key) | {"public_key": served}
    assert admin.submit(SETTINGS, form).status_code == 303

    with lago_standin.control() as control:
        pem = control.get("/organization").json()["public_key_pem"]
    assert saved(app).webhook_public_key == pem
    page = admin.get(SETTINGS).get_data(as_text=True)
    assert "-----BEGIN PUBLIC KEY-----" in page  # the form shows the PEM that was saved


def test_save_connection_stores_any_accepted_shape_of_the_key_as_its_pem(app, lago_standin):
    with lago_standin.control() as control:
        keys = control.get("/organization").json()
    data = billing_connection.ConnectionInput(
        Provider.lago_self_hosted, lago_standin.url, keys["api_key"], public_key=keys["public_key"]
    )
    with app.app_context():
        connection = billing_connection.save_connection(data, billing_connection.TestReport())
        assert connection.webhook_public_key == keys["public_key_pem"]
        db.session.rollback()


def test_a_failing_test_saves_nothing(app, admin, lago_standin):
    response = admin.submit(SETTINGS, connection_form(lago_standin.url, "wrong-key"))
    assert response.status_code == 200
    assert "Lago rejected the API key." in text_of(response)
    assert saved(app) is None
    assert audit_entries(app, "billing.connection_saved") == []

    # Changing a saved connection to a failing one keeps the saved one.
    connect(admin, lago_standin)
    before = saved(app)
    response = admin.submit(SETTINGS, connection_form("http://127.0.0.1:9", "other-key"))
    assert "The Lago server refused the connection." in text_of(response)
    after = saved(app)
    assert (after.api_url, after.api_key_encrypted) == (before.api_url, before.api_key_encrypted)


def test_secrets_are_encrypted_at_rest_and_masked_in_the_audit_log(app, admin, lago_standin):
    api_key, hmac_key = lago_standin.api_key, lago_standin.hmac_key
    connect(admin, lago_standin, algorithm="hmac", hmac_key=hmac_key)

    connection = saved(app)
    with app.app_context():
        assert crypto.decrypt(connection.api_key_encrypted) == api_key
        assert crypto.decrypt(connection.hmac_key_encrypted) == hmac_key

    dump = database_dump(app)
    assert connection.organization_id.encode() in dump  # the dump holds the saved row
    assert connection.api_key_encrypted.encode() in dump
    for secret in (api_key, hmac_key):
        assert secret.encode() not in dump

    [entry] = audit_entries(app, "billing.connection_saved")
    assert entry.before is None
    assert entry.after["api_key"] == "••••••••" + api_key[-4:]
    assert entry.after["hmac_key"] == "••••••••"
    assert entry.after["api_url"] == lago_standin.url
    assert entry.after["webhook_algorithm"] == "hmac"
    stored = json.dumps([entry.before, entry.after])
    assert api_key not in stored and hmac_key not in stored

    audit_page = admin.get("/admin/audit?action=billing.").get_data(as_text=True)
    assert "billing.connection_saved" in audit_page
    assert api_key not in audit_page and hmac_key not in audit_page


def test_the_page_shows_a_masked_key_and_reveal_is_an_audited_post(app, admin, lago_standin):
    api_key = lago_standin.api_key
    connect(admin, lago_standin, algorithm="hmac", hmac_key=lago_standin.hmac_key)

    page = admin.get(SETTINGS).get_data(as_text=True)
    assert "Saved API key: <code>••••••••" + api_key[-4:] + "</code>" in page
    assert api_key not in page and lago_standin.hmac_key not in page
    assert "Leave blank to keep the saved key." in page
    assert admin.get(SETTINGS + "/reveal").status_code == 405
    forged = admin.post(SETTINGS + "/reveal", data={})  # no CSRF token
    assert forged.status_code == 400 and api_key not in forged.get_data(as_text=True)
    assert audit_entries(app, "billing.api_key_revealed") == []

    fragment = admin.submit(
        SETTINGS + "/reveal", {}, htmx=True, headers={"HX-Target": "api-key-status"}
    )
    assert fragment.status_code == 200
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="api-key-status">')
    assert f"<code>{api_key}</code>" in html
    assert "recorded in the audit log" in html
    assert lago_standin.hmac_key not in html

    whole = admin.submit(SETTINGS + "/reveal", {})
    assert f"<code>{api_key}</code>" in whole.get_data(as_text=True)

    entries = audit_entries(app, "billing.api_key_revealed")
    assert len(entries) == 2
    assert all(e.actor_id is not None and e.target_type == "billing_connection" for e in entries)
    assert api_key not in admin.get(SETTINGS).get_data(as_text=True)  # masked again


def test_saving_again_without_retyping_keeps_the_saved_secrets(app, admin, lago_standin):
    connect(admin, lago_standin, algorithm="hmac", hmac_key=lago_standin.hmac_key)
    first = saved(app)
    response = admin.submit(
        SETTINGS,
        connection_form(lago_standin.url, "", algorithm="hmac", hmac_key=""),
        follow_redirects=True,
    )
    assert "Connected to Pier Sandbox." in text_of(response)
    second = saved(app)
    with app.app_context():
        assert crypto.decrypt(second.api_key_encrypted) == lago_standin.api_key
        assert crypto.decrypt(second.hmac_key_encrypted) == lago_standin.hmac_key
    assert second.connected_at == first.connected_at
    [_, update] = audit_entries(app, "billing.connection_saved")
    masked = "••••••••" + lago_standin.api_key[-4:]
    assert update.before["api_key"] == update.after["api_key"] == masked


def test_keys_rotate_re_encrypts_and_the_old_key_can_then_go(app, admin, lago_standin):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["PIER_ENCRYPTION_KEYS"] = [old]
    connect(admin, lago_standin, algorithm="hmac", hmac_key=lago_standin.hmac_key)
    before = saved(app)
    assert Fernet(old).decrypt(before.api_key_encrypted.encode()).decode() == lago_standin.api_key

    app.config["PIER_ENCRYPTION_KEYS"] = [new, old]
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 2 secret(s) with the newest key." in result.output

    after = saved(app)
    assert after.api_key_encrypted != before.api_key_encrypted
    assert Fernet(new).decrypt(after.api_key_encrypted.encode()).decode() == lago_standin.api_key
    assert Fernet(new).decrypt(after.hmac_key_encrypted.encode()).decode() == (
        lago_standin.hmac_key
    )

    app.config["PIER_ENCRYPTION_KEYS"] = [new]  # the old key is removed
    page = admin.get(SETTINGS).get_data(as_text=True)
    assert "••••••••" + lago_standin.api_key[-4:] in page
    status = app.test_cli_runner().invoke(args=["lago", "status"])
    assert status.exit_code == 0, status.output
    assert "Reachable:     yes (Lago v1.51.0)" in status.output


def test_keys_rotate_without_a_key_that_reads_the_secrets_fails_cleanly(app, admin, lago_standin):
    app.config["PIER_ENCRYPTION_KEYS"] = [Fernet.generate_key().decode()]
    connect(admin, lago_standin)
    before = saved(app)
    app.config["PIER_ENCRYPTION_KEYS"] = [Fernet.generate_key().decode()]
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 1
    assert (
        "Error: A stored secret cannot be read with the configured PIER_ENCRYPTION_KEYS."
        in result.output
    )
    assert saved(app).api_key_encrypted == before.api_key_encrypted


def test_another_lago_version_is_asked_about_alerts_again(app, admin, lago_standin):
    form = connection_form(lago_standin.api_url, lago_standin.api_key)
    admin.submit(SETTINGS, form)
    with app.app_context():
        db.session.query(BillingConnection).update({"lago_alerts": False})
        db.session.commit()
    admin.submit(SETTINGS, form)  # the same Lago: what Pier learnt stands
    assert saved(app).lago_alerts is False
    with app.app_context():
        db.session.query(BillingConnection).update({"lago_version": "v1.20.0"})
        db.session.commit()
    admin.submit(SETTINGS, form)  # upgraded since: ask again
    assert saved(app).lago_alerts is None
