"""Every Lago call carries the request id, and is logged, timed and counted."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY

from portal.lago import LagoError
from portal.observability import correlation, logs, metrics
from tests.unit.lago.fakes import lago_json


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_call_sends_the_request_id_and_is_logged_timed_and_counted(
    make_client, recorder, customer_json, caplog
):
    logs.stamp_request_ids()
    client = make_client(lambda request: lago_json(200, {"customer": customer_json}))
    timed = {"method": "GET", "path": "/customers/{id}"}
    before = _sample("pier_lago_request_duration_seconds_count", **timed)
    with caplog.at_level(logging.INFO, "portal.lago.client"), correlation.bound("trace-lago-1"):
        client.get_customer("acme-42")

    assert recorder.requests[0].headers["X-Request-ID"] == "trace-lago-1"
    assert _sample("pier_lago_request_duration_seconds_count", **timed) == before + 1
    [record] = [r for r in caplog.records if getattr(r, "lago_method", None)]
    assert record.request_id == "trace-lago-1"
    assert (record.lago_method, record.lago_path, record.lago_status) == (
        "GET",
        "/customers/acme-42",
        200,
    )
    assert record.duration_ms >= 0
    assert "Bearer" not in logs.formatter("json").format(record)


def _errors(method: str, path: str) -> dict[str, float]:
    return {
        sample.labels["error"]: sample.value
        for family in REGISTRY.collect()
        if family.name == "pier_lago_errors"
        for sample in family.samples
        if sample.name == "pier_lago_errors_total"
        and (sample.labels["method"], sample.labels["path"]) == (method, path)
    }


def test_a_failed_call_counts_as_an_error_by_kind(make_client, caplog):
    client = make_client(lambda request: lago_json(422, {"status": 422, "error": "Unprocessable"}))
    before = _errors("POST", "/plans")
    with caplog.at_level(logging.INFO, "portal.lago.client"), pytest.raises(LagoError) as raised:
        client.create_plan({"code": "startup"})
    kind = type(raised.value).__name__
    assert _errors("POST", "/plans") == before | {kind: before.get(kind, 0.0) + 1}
    [record] = [r for r in caplog.records if getattr(r, "lago_method", None)]
    assert record.levelno == logging.WARNING
    assert record.lago_status == 422


def test_no_request_id_header_outside_any_work(make_client, recorder, customer_json):
    client = make_client(lambda request: lago_json(200, {"customer": customer_json}))
    client.get_customer("acme-42")
    assert "X-Request-ID" not in recorder.requests[0].headers


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("/customers/acme-42/current_usage", "/customers/{id}/current_usage"),
        ("/invoices/5d4c/retry_payment", "/invoices/{id}/retry_payment"),
        ("/events/batch", "/events/batch"),
        ("/plans", "/plans"),
        ("/webhooks/json_public_key", "/webhooks/json_public_key"),
        ("/wallets/aa11/wallet_transactions", "/wallets/{id}/wallet_transactions"),
    ],
)
def test_lago_paths_are_labelled_without_identifiers(path, label):
    assert metrics.lago_path(path) == label


def test_stripe_paths_are_labelled_without_identifiers():
    assert metrics.stripe_path("/v1/customers/cus_QAcme123/payment_methods") == (
        "/v1/customers/{id}/payment_methods"
    )
    assert metrics.stripe_path("/v1/setup_intents") == "/v1/setup_intents"
