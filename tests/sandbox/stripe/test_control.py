"""The /_sandbox control API, faults, the configured webhook URL and the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import requests
import stripe

from tests.fixtures.stripe_standin import start_stripe_standin

ROOT = Path(__file__).resolve().parents[3]


def test_overview_keys_and_reset(stripe_standin):
    client = stripe_standin.client()
    client.v1.customers.create()
    control = stripe_standin.control()
    overview = control.get("").json()
    assert overview["counts"]["customer"] == 1
    assert overview["config"]["api_version"] == stripe.api_version
    keys = control.get("/keys").json()
    assert keys["api_key"] == stripe_standin.api_key
    assert keys["publishable_key"] == stripe_standin.publishable_key
    assert control.post("/reset").json()["counts"]["customer"] == 0
    assert client.v1.customers.list().data == []


def test_faults_turn_into_library_errors(stripe_standin):
    client = stripe_standin.client()
    stripe_standin.set_faults(down="503")
    with pytest.raises(stripe.APIError) as caught:
        client.v1.customers.list()
    assert caught.value.http_status == 503
    stripe_standin.set_faults(error_rate=1.0, error_status=429, times=1)
    with pytest.raises(stripe.RateLimitError):
        client.v1.customers.list()
    assert client.v1.customers.list().data == []
    stripe_standin.set_faults(down="close", path_prefix="/v1/customers")
    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.list()
    assert client.v1.events.list().data == []
    stripe_standin.clear_faults()
    bad = stripe_standin.control().put("/faults", json={"down": "sometimes"})
    assert bad.status_code == 400


def test_clock_moves_created_times(stripe_standin):
    client = stripe_standin.client()
    before = client.v1.customers.create().created
    now = stripe_standin.advance_clock(86400)
    after = client.v1.customers.create().created
    assert after - before >= 86400
    assert abs(after - now) <= 1
    assert stripe_standin.travel_to(1_900_000_000) >= 1_900_000_000
    assert client.v1.customers.create().created >= 1_900_000_000


def test_runtime_config_and_bad_control_requests(stripe_standin):
    control = stripe_standin.control()
    assert control.put("/config", json={"webhook_attempts": 2}).json()["webhook_attempts"] == 2
    assert control.put("/config", json={"api_key": "sk_test_x"}).status_code == 400
    control.put("/config", json={"webhook_attempts": 4})
    assert control.post("/authentications/seti_missing/complete").status_code == 404
    assert control.post("/events", json={"type": "nope"}).status_code == 400
    assert control.get("/no_such_thing").status_code == 404


def test_authentication_that_is_not_pending_is_a_conflict(stripe_standin):
    client = stripe_standin.client()
    intent = client.v1.setup_intents.create(params={"allowed_payment_method_types": ["card"]})
    reply = stripe_standin.control().post(f"/authentications/{intent.id}/complete")
    assert reply.status_code == 409


def test_configured_webhook_url_survives_resets(tmp_path, receiver):
    inbox = receiver()
    handle = start_stripe_standin(str(tmp_path / "s.sqlite3"), webhook_url=inbox.url + "/hook")
    try:
        handle.reset()
        handle.client().v1.customers.create()
        [request] = inbox.wait_for(1)
        assert request.path == "/hook"
        event = stripe.Webhook.construct_event(
            request.body, request.headers["Stripe-Signature"], handle.webhook_secret
        )
        assert event.type == "customer.created"
    finally:
        handle.close()


def test_cli_serves_until_terminated(tmp_path):
    command = [
        sys.executable,
        "-m",
        "sandbox.stripe",
        "--port",
        "0",
        "--db",
        str(tmp_path / "stripe.sqlite3"),
        "--api-key",
        "sk_test_cli",
        "--webhook-secret",
        "whsec_cli",
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        first, second = process.stdout.readline(), process.stdout.readline()
        url = first.split(" on ")[1].split()[0]
        assert second.strip() == "API key: sk_test_cli"
        with requests.Session() as session:
            session.trust_env = False
            client = stripe.StripeClient(
                "sk_test_cli",
                base_addresses={"api": url},
                max_network_retries=0,
                http_client=stripe.RequestsClient(session=session),
            )
            assert client.v1.customers.create().id.startswith("cus_")
        keys = httpx.get(url + "/_sandbox/keys", trust_env=False).json()
        assert keys["webhook_secret"] == "whsec_cli"
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
