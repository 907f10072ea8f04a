"""Requests and responses are checked against the vendored OpenAPI spec."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sandbox.lago import load_spec
from sandbox.lago.resources import customers, organizations
from sandbox.lago.spec import SPEC_PATH

OFFICIAL_SHA256 = "c1525ea98e16d18df33e7f51e9e1c541df7ae199af2128a149bc161674c1aa21"


def test_vendored_spec_is_the_official_file():
    assert hashlib.sha256(Path(SPEC_PATH).read_bytes()).hexdigest() == OFFICIAL_SHA256
    spec = load_spec()
    assert spec is load_spec()
    assert spec.data["info"]["version"] == "1.51.0"


def test_malformed_request_is_rejected_with_the_specs_complaint(lago_standin):
    with lago_standin.client() as client:
        reply = client.post("/customers", json={"customer": {"external_id": 42, "email": "x"}})
    assert reply.status_code == 400
    body = reply.json()
    assert body["status"] == 400
    assert body["error"].startswith("BadRequest: request does not conform to the Lago OpenAPI spec")
    assert body["violations"] == [
        "InvalidRequestBody at $.customer.external_id: 42 is not of type 'string'",
        "InvalidRequestBody at $.customer.email: 'x' is not a 'email'",
    ]
    [violation] = lago_standin.pop_violations()
    assert (violation.kind, violation.method, violation.path) == (
        "request",
        "POST",
        "/api/v1/customers",
    )
    assert violation.errors == body["violations"]
    with lago_standin.client() as client:
        assert client.get("/customers/42").status_code == 404


def test_bad_query_parameter_is_rejected(lago_standin):
    with lago_standin.client() as client:
        reply = client.get("/plans", params={"page": "first"})
    assert reply.status_code == 400
    assert "page" in reply.json()["violations"][0]
    assert lago_standin.pop_violations()[0].path == "/api/v1/plans?page=first"


def test_non_strict_mode_records_and_lets_lago_answer(lago_standin):
    with lago_standin.control() as control:
        control.put("/config", json={"strict": False})
    try:
        with lago_standin.client() as client:
            reply = client.post("/customers", json={"customer": {"external_id": "c", "email": "x"}})
    finally:
        lago_standin.standin.configure(strict=True)
    assert reply.status_code == 422
    assert reply.json()["error_details"] == {"email": ["invalid_email_format"]}
    assert [v.kind for v in lago_standin.pop_violations()] == ["request"]


def test_off_spec_response_is_recorded(lago_standin, monkeypatch):
    real = customers.serialize

    def without_lago_id(*args, **kwargs):
        data = real(*args, **kwargs)
        del data["lago_id"]
        return data

    monkeypatch.setattr(customers, "serialize", without_lago_id)
    with lago_standin.client() as client:
        assert client.post("/customers", json={"customer": {"external_id": "c"}}).status_code == 200
    webhook, response = lago_standin.pop_violations()
    assert (webhook.kind, response.kind) == ("webhook", "response")
    assert response.errors == ["InvalidData at $.customer: 'lago_id' is a required property"]
    assert webhook.path == "webhooks/customer.created"


def test_allow_listed_route_response_is_checked_like_put_organizations(lago_standin, monkeypatch):
    real = organizations.serialize
    monkeypatch.setattr(
        organizations, "serialize", lambda *a: real(*a) | {"document_numbering": "sideways"}
    )
    with lago_standin.client() as client:
        assert client.get("/organizations").status_code == 200
    [violation] = lago_standin.pop_violations()
    assert violation.kind == "response"
    assert "document_numbering" in violation.errors[0]


@pytest.mark.parametrize("path", ["/plans", "/customers", "/billable_metrics"])
def test_timings_are_recorded(lago_standin, path):
    with lago_standin.client() as client:
        client.get(path)
    with lago_standin.control() as control:
        timings = control.get("/spec").json()["timings"]
    assert timings["read_and_parse_ms"] > 0
    assert timings["request_validations"] >= 1
    assert timings["request_validation_avg_ms"] > 0
    assert timings["response_validation_avg_ms"] > 0
