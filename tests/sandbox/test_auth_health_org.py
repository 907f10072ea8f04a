"""Health, authentication, the organization and the webhook public key."""

from __future__ import annotations

import base64

import httpx
import pytest
from cryptography.hazmat.primitives import serialization


def test_health_needs_no_key(lago_standin):
    reply = httpx.get(lago_standin.url + "/health", trust_env=False)
    assert reply.status_code == 200
    assert reply.json() == {
        "version": "v1.51.0",
        "github_url": "https://github.com/getlago/lago-api/tree/v1.51.0",
        "message": "Success",
    }


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer"}],
    ids=["missing", "wrong", "empty"],
)
def test_bad_or_missing_key_is_401_without_code(lago_standin, headers):
    reply = httpx.get(lago_standin.api_url + "/plans", headers=headers, trust_env=False)
    assert reply.status_code == 401
    assert reply.json() == {"status": 401, "error": "Unauthorized"}
    assert reply.headers["content-type"] == "application/json; charset=utf-8"


def test_organization_route_outside_the_spec(lago_standin):
    with lago_standin.client() as client:
        org = client.get("/organizations").json()["organization"]
    assert org["lago_id"] == lago_standin.organization_id
    assert org["name"] == "Pier Sandbox"
    assert org["default_currency"] == "USD"
    assert org["timezone"] == "UTC"
    assert org["webhook_urls"] == []
    assert org["billing_configuration"] == {
        "invoice_footer": None,
        "invoice_grace_period": 0,
        "document_locale": "en",
    }
    assert "taxes" not in org


def test_public_key_is_a_2048_bit_pem_in_rubys_base64(lago_standin):
    with lago_standin.client() as client:
        as_json = client.get("/webhooks/json_public_key")
        as_text = client.get("/webhooks/public_key")
    encoded = as_json.json()["webhook"]["public_key"]
    assert as_text.text == encoded
    assert as_text.headers["content-type"].startswith("text/plain")
    # Base64.encode64: a newline after every 60 characters and at the end.
    lines = encoded.split("\n")
    assert lines[-1] == "" and len(lines) > 3
    assert all(len(line) == 60 for line in lines[:-2]) and 0 < len(lines[-2]) <= 60
    pem = base64.b64decode("".join(lines), validate=True)
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert serialization.load_pem_public_key(pem).key_size == 2048
