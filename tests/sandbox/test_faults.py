"""Fault injection: latency, error rate, timeouts, outages; the control API stays reachable."""

from __future__ import annotations

import time

import httpx
import pytest


def test_latency(lago_standin):
    lago_standin.set_faults(latency_ms=150)
    with lago_standin.client() as client:
        started = time.monotonic()
        assert client.get("/plans").status_code == 200
        assert time.monotonic() - started >= 0.15


def test_error_rate_answers_500_with_lagos_body(lago_standin):
    lago_standin.set_faults(error_rate=1.0)
    with lago_standin.client() as client:
        reply = client.get("/customers")
    assert reply.status_code == 500
    assert reply.json() == {"status": 500, "error": "Internal Server Error"}


def test_faults_can_be_limited_to_a_path_and_a_number_of_requests(lago_standin):
    lago_standin.set_faults(error_rate=1.0, error_status=503, path_prefix="/api/v1/plans", times=2)
    with lago_standin.client() as client:
        assert client.get("/customers").status_code == 200
        assert [client.get("/plans").status_code for _ in range(3)] == [503, 503, 200]


def test_timeout_sleeps_past_the_clients_timeout(lago_standin):
    lago_standin.set_faults(timeout_s=2.0)
    with lago_standin.client(timeout=0.2) as client, pytest.raises(httpx.ReadTimeout):
        client.get("/plans")
    lago_standin.clear_faults()  # wakes the sleeping request
    with lago_standin.client() as client:
        assert client.get("/plans").status_code == 200


def test_down_503(lago_standin):
    lago_standin.set_faults(down="503")
    with lago_standin.client() as client:
        reply = client.get("/plans")
    assert reply.status_code == 503
    assert reply.json() == {"status": 503, "error": "Service Unavailable"}
    health = httpx.get(lago_standin.url + "/health", trust_env=False)
    assert health.status_code == 503


def test_down_close_drops_connections(lago_standin):
    lago_standin.set_faults(down="close")
    with lago_standin.client() as client, pytest.raises(httpx.RemoteProtocolError):
        client.get("/plans")


def test_control_api_is_never_faulted(lago_standin):
    with lago_standin.control() as control:
        assert control.put("/faults", json={"down": "close"}).status_code == 200
        assert control.get("/faults").json()["down"] == "close"
        assert control.put("/faults", json={"down": "sideways"}).status_code == 400
        assert control.put("/faults", json={"speed": 1}).status_code == 400
        cleared = control.delete("/faults").json()
    assert cleared["down"] is None
    with lago_standin.client() as client:
        assert client.get("/plans").status_code == 200
