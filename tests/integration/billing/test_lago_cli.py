"""`flask lago connect | status | import-plans` against the live stand-in."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import BillingConnection, Plan
from tests.integration.billing.support import connection_form, text_of

WRONG_KEY_SENTENCE = (
    "Lago rejected the API key. Copy the key again from Lago › Developers › API keys."
)


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def saved(app) -> BillingConnection | None:
    with app.app_context():
        return db.session.scalar(sa.select(BillingConnection))


def test_connect_saves_a_working_connection(app, lago_standin):
    key = "  " + lago_standin.api_key  # pasted with a stray space
    result = invoke(app, "lago", "connect", "--url", lago_standin.url, "--api-key", key)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["Reach", "the", "server", "ok", "Lago", "v1.51.0"]
    assert "Read the organisation" in lines[2] and "Pier Sandbox" in lines[2]
    assert lines[-1] == f"Connected to Pier Sandbox ({lago_standin.organization_id})."
    connection = saved(app)
    assert connection.organization_name == "Pier Sandbox"
    assert connection.webhook_algorithm.value == "jwt"
    assert lago_standin.api_key not in connection.api_key_encrypted


def test_connect_reads_the_public_key_file_as_lago_serves_it(app, lago_standin, tmp_path):
    with lago_standin.client() as lago:
        served = lago.get("/webhooks/public_key").text  # Ruby's Base64.encode64 of the PEM
    assert served.count("\n") > 5
    key_file = tmp_path / "lago.key"
    key_file.write_text(served)
    base = ["lago", "connect", "--url", lago_standin.url, "--api-key", lago_standin.api_key]

    result = invoke(app, *base, "--public-key-file", str(key_file))
    assert result.exit_code == 0, result.output
    with lago_standin.control() as control:
        pem = control.get("/organization").json()["public_key_pem"]
    assert saved(app).webhook_public_key == pem

    key_file.write_text("not a key at all")
    result = invoke(app, *base, "--public-key-file", str(key_file))
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {key_file}: This is not a public key Pier can read. Use the PEM, from "
        "-----BEGIN PUBLIC KEY----- to the end, or the base64 text Lago serves at "
        "/api/v1/webhooks/public_key."
    )


def test_connect_with_hmac_needs_the_key_and_stores_it(app, lago_standin):
    base = ["lago", "connect", "--url", lago_standin.url, "--api-key", lago_standin.api_key]
    missing = invoke(app, *base, "--webhook-algorithm", "hmac")
    assert missing.exit_code == 1
    assert "--webhook-algorithm hmac needs --hmac-key" in missing.output
    assert saved(app) is None

    ok = invoke(app, *base, "--webhook-algorithm", "hmac", "--hmac-key", lago_standin.hmac_key)
    assert ok.exit_code == 0, ok.output
    assert saved(app).hmac_key_encrypted


def test_connect_with_a_wrong_key_says_what_the_settings_page_says(app, admin, lago_standin):
    result = invoke(app, "lago", "connect", "--url", lago_standin.url, "--api-key", "wrong")
    assert result.exit_code == 1
    assert f"Error: {WRONG_KEY_SENTENCE}" in result.output
    assert "Check the API key" in result.output and "FAILED" in result.output
    assert saved(app) is None

    page = admin.submit(
        "/admin/settings/billing/test",
        connection_form(lago_standin.url, "wrong"),
        htmx=True,
        headers={"HX-Target": "test-result"},
    )
    assert f"The connection does not work: {WRONG_KEY_SENTENCE}" in text_of(page)


def test_status_before_and_after_connecting(app, lago_standin):
    app.config["LAGO_MAX_RETRIES"] = 0  # the down case below is not retried with backoff
    before = invoke(app, "lago", "status")
    assert before.exit_code == 1
    assert "Billing is not connected yet." in before.output

    connect = ["lago", "connect", "--url", lago_standin.url, "--api-key", lago_standin.api_key]
    assert invoke(app, *connect).exit_code == 0
    after = invoke(app, "lago", "status")
    assert after.exit_code == 0, after.output
    assert f"Lago:          {lago_standin.url} (Lago (self-hosted))" in after.output
    assert f"Organisation:  Pier Sandbox ({lago_standin.organization_id})" in after.output
    assert "Webhooks:      jwt, endpoint not registered" in after.output
    assert "Reachable:     yes (Lago v1.51.0)" in after.output

    lago_standin.set_faults(down="503")
    down = invoke(app, "lago", "status")
    lago_standin.clear_faults()
    assert down.exit_code == 1
    assert "Error: Lago is not reachable: Lago is temporarily unavailable." in down.output


def test_import_plans(app, lago_standin):
    assert invoke(app, "lago", "import-plans").exit_code == 1
    lago_standin.seed()
    invoke(app, "lago", "connect", "--url", lago_standin.url, "--api-key", lago_standin.api_key)

    first = invoke(app, "lago", "import-plans")
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "Plans: 3 imported, 0 updated, 0 removed."
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(Plan.code))) == ["business", "pro", "starter"]
        assert db.session.scalar(sa.select(BillingConnection.last_plan_sync_at)) is not None

    with lago_standin.client() as lago:
        lago.put("/plans/pro", json={"plan": {"amount_cents": 3100}})
        lago.delete("/plans/starter")
    second = invoke(app, "lago", "import-plans")
    assert second.output.strip() == "Plans: 0 imported, 1 updated, 1 removed."


def test_register_webhook_creates_the_endpoint_once(app, lago_standin):
    before = invoke(app, "lago", "register-webhook")
    assert before.exit_code == 1
    assert "Billing is not connected yet." in before.output
    connect = ("lago", "connect", "--url", lago_standin.url, "--api-key", lago_standin.api_key)
    assert invoke(app, *connect).exit_code == 0
    first = invoke(app, "lago", "register-webhook")
    second = invoke(app, "lago", "register-webhook")
    assert first.exit_code == 0, first.output
    assert first.output.startswith("Registered webhook endpoint")
    assert second.output.startswith("Kept webhook endpoint")
    with lago_standin.client() as client:
        endpoints = client.get("/webhook_endpoints").json()["webhook_endpoints"]
    assert [e["webhook_url"] for e in endpoints] == ["http://localhost/webhooks/lago"]
