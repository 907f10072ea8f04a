"""The /_sandbox control API: reset, seed, keys, config, logs, clock."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import time_machine

from sandbox.lago.clock import Clock, parse_iso
from tests.clock import START


def test_organization_keys_match_the_lago_api(lago_standin):
    with lago_standin.control() as control:
        keys = control.get("/organization").json()
    with lago_standin.client() as client:
        public_key = client.get("/webhooks/json_public_key").json()["webhook"]["public_key"]
    uuid.UUID(keys["hmac_key"])
    assert keys["public_key"] == public_key
    assert base64.b64decode(public_key).decode() == keys["public_key_pem"]
    assert keys["api_key"] == lago_standin.api_key
    assert keys["issuer"] == lago_standin.url
    assert keys["lago_id"] == lago_standin.organization_id


def test_reset_and_seed(lago_standin):
    with lago_standin.control() as control:
        seeded = control.post("/seed").json()["seeded"]
        again = control.post("/seed").json()["seeded"]
        counts = control.get("").json()["counts"]
        cleared = control.post("/reset").json()["counts"]
        reseeded = control.post("/reset", json={"seed": True}).json()["counts"]
    assert seeded == {
        "billable_metrics": ["api_calls", "seats", "storage_gb"],
        "features": ["seats", "sso", "audit_log"],
        "plans": ["starter", "pro", "business"],
    }
    assert again == {"billable_metrics": [], "features": [], "plans": []}
    assert counts["plan"] == 3
    assert cleared["plan"] == 0
    assert reseeded["plan"] == 3
    assert reseeded["billable_metric"] == 3


def test_reset_keeps_the_organization_identity(lago_standin):
    before = dict(lago_standin.standin.org())
    lago_standin.reset()
    assert lago_standin.standin.org() == before


def test_violations_can_be_read_and_popped(lago_standin):
    with lago_standin.client() as client:
        client.get("/customers", params={"per_page": "many"})
    with lago_standin.control() as control:
        seen = control.get("/violations").json()["violations"]
        still = control.get("/violations").json()["violations"]
        popped = control.delete("/violations").json()["violations"]
        after = control.get("/violations").json()["violations"]
    assert len(seen) == 1
    assert seen == still == popped
    assert seen[0]["kind"] == "request"
    assert seen[0]["path"] == "/api/v1/customers?per_page=many"
    assert after == []


def test_webhook_log(lago_standin, receiver):
    inbox = receiver(statuses=[500, 200])
    with lago_standin.client() as client:
        client.post("/webhook_endpoints", json={"webhook_endpoint": {"webhook_url": inbox.url}})
        client.post("/customers", json={"customer": {"external_id": "c1"}})
    with lago_standin.control() as control:
        assert control.post("/webhooks/wait", json={"timeout": 5}).json() == {"idle": True}
        log = control.get("/webhooks", params={"webhook_type": "customer.created"}).json()
        [record] = log["webhooks"]
        one = control.get(f"/webhooks/{record['id']}").json()["webhook"]
        none = control.get("/webhooks", params={"status": "failed"}).json()["webhooks"]
        missing = control.get(f"/webhooks/{uuid.uuid4()}")
    assert record == one
    assert record["status"] == "succeeded"
    assert [a["http_status"] for a in record["attempts"]] == [500, 200]
    assert record["headers"]["X-Lago-Unique-Key"] == record["id"]
    assert record["endpoint_url"] == inbox.url
    assert none == []
    assert missing.status_code == 404


def test_config_can_change_at_runtime(lago_standin):
    with lago_standin.control() as control:
        assert control.get("/config").json()["strict"] is True
        changed = control.put("/config", json={"webhook_retry_scale": 0.5}).json()
        refused = control.put("/config", json={"api_key": "stolen"})
        control.put("/config", json={"webhook_retry_scale": 0.01})
    assert changed["webhook_retry_scale"] == 0.5
    assert "rsa_private_key_pem" not in changed
    assert refused.status_code == 400


def test_clock_moves_timestamps(lago_standin):
    with lago_standin.control() as control:
        moved = control.post("/clock", json={"travel_to": "2030-01-15T12:00:00Z"}).json()["now"]
        with lago_standin.client() as client:
            customer = client.post("/customers", json={"customer": {"external_id": "c"}}).json()
        later = control.post("/clock", json={"advance_seconds": 86400}).json()["now"]
        bad = control.post("/clock", json={"travel_to": "tomorrow"})
        control.post("/clock", json={"reset": True})
    assert moved.startswith("2030-01-15T12:00:0")
    assert customer["customer"]["created_at"].startswith("2030-01-15T12:00:0")
    assert later.startswith("2030-01-16T12:00:0")
    assert bad.status_code == 400


def test_a_clock_with_a_start_begins_and_resets_there_whatever_the_host_date(lago_standin):
    with time_machine.travel(START + timedelta(days=400), tick=True):
        assert abs(lago_standin.now() - START) < timedelta(minutes=1)
        lago_standin.advance(days=40)
        assert abs(lago_standin.now() - (START + timedelta(days=40))) < timedelta(minutes=1)
        with lago_standin.control() as control:
            reset = control.post("/clock", json={"reset": True}).json()["now"]
    assert abs(parse_iso(reset) - START) < timedelta(minutes=1)


def test_a_clock_without_a_start_follows_the_host():
    clock = Clock()
    with time_machine.travel(START + timedelta(days=400), tick=False):
        clock.reset()
        assert clock.now() == START + timedelta(days=400)
