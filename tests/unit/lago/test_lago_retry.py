"""Which calls are retried, how long the client waits, and when it gives up."""

from __future__ import annotations

import random
import socket
import ssl

import httpx
import pytest

from portal.lago import (
    LagoConnectionRefused,
    LagoDNSError,
    LagoRateLimited,
    LagoServerError,
    LagoTimeout,
    LagoTLSError,
    RetryPolicy,
)
from portal.lago._responses import retry_after_seconds
from tests.unit.lago.fakes import FixedRandom, lago_json

GATEWAY = {"status": 503, "error": "Service Unavailable"}


def failing_then_ok(failures, ok_body):
    """A handler returning each failure in turn (a response or an exception), then ok_body."""
    queue = list(failures)

    def handler(request: httpx.Request) -> httpx.Response:
        if queue:
            failure = queue.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return failure
        return lago_json(200, ok_body)

    return handler


def connect_error(cause: BaseException) -> httpx.ConnectError:
    try:
        raise httpx.ConnectError("connection failed") from cause
    except httpx.ConnectError as exc:
        return exc


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_get_is_retried_on_gateway_and_rate_limit(make_client, recorder, status, plan_json):
    failures = [lago_json(status, GATEWAY), httpx.Response(status, text="busy")]
    client = make_client(failing_then_ok(failures, {"plan": plan_json}))

    plan = client.get_plan("startup")

    assert plan.code == "startup"
    assert len(recorder.requests) == 3
    assert recorder.sleeps == [0.5, 1.0]


def test_backoff_grows_and_is_capped(make_client, recorder):
    client = make_client(
        lambda r: lago_json(503, GATEWAY), max_retries=5, backoff_base=1.0, backoff_max=6.0
    )
    with pytest.raises(LagoServerError):
        client.get_plan("startup")
    assert recorder.sleeps == [1.0, 2.0, 4.0, 6.0, 6.0]


def test_full_jitter_stays_between_zero_and_the_ceiling(make_client, recorder):
    client = make_client(lambda r: lago_json(503, GATEWAY), rng=random.Random(7), max_retries=3)
    for _ in range(20):
        with pytest.raises(LagoServerError):
            client.get_plan("startup")
    ceilings = [0.5, 1.0, 2.0] * 20
    assert all(0 <= s <= c for s, c in zip(recorder.sleeps, ceilings, strict=True))
    assert len(set(recorder.sleeps)) > 10  # really random, not a fixed schedule


def test_retry_policy_ceiling_and_jitter():
    policy = RetryPolicy(max_retries=3, backoff_base=0.5, backoff_max=8.0, rng=FixedRandom(0.25))
    assert [policy.ceiling(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert policy.backoff(2) == 0.5
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(max_retries=-1)


def test_rate_limit_reset_header_is_honoured(make_client, recorder, plan_json):
    limited = lago_json(
        429, {"status": 429, "error": "Too Many Requests"}, {"X-RateLimit-Reset": "3"}
    )
    client = make_client(failing_then_ok([limited], {"plan": plan_json}))

    client.get_plan("startup")

    assert recorder.sleeps == [3.0]


def test_rate_limit_reset_is_capped_at_backoff_max(make_client, recorder, plan_json):
    limited = httpx.Response(429, headers={"x-ratelimit-reset": "3600"})
    client = make_client(failing_then_ok([limited], {"plan": plan_json}), backoff_max=8.0)
    client.get_plan("startup")
    assert recorder.sleeps == [8.0]


def test_retry_after_on_503_is_honoured(make_client, recorder, plan_json):
    busy = httpx.Response(503, headers={"Retry-After": "2"})
    client = make_client(failing_then_ok([busy], {"plan": plan_json}))
    client.get_plan("startup")
    assert recorder.sleeps == [2.0]


def test_customer_upsert_post_is_retried(make_client, recorder, customer_json):
    failures = [lago_json(503, GATEWAY), connect_error(ConnectionResetError())]
    client = make_client(failing_then_ok(failures, {"customer": customer_json}))

    customer = client.upsert_customer({"external_id": "acme-42"})

    assert customer.external_id == "acme-42"
    assert [r.method for r in recorder.requests] == ["POST", "POST", "POST"]
    assert len(recorder.sleeps) == 2


@pytest.mark.parametrize(
    "failure",
    [
        lago_json(503, GATEWAY),
        httpx.Response(429),
        httpx.ReadTimeout("timed out"),
        connect_error(ConnectionRefusedError(111, "Connection refused")),
    ],
)
def test_create_plan_is_never_retried(make_client, recorder, failure, plan_json):
    client = make_client(failing_then_ok([failure], {"plan": plan_json}))

    with pytest.raises((LagoServerError, LagoRateLimited, LagoTimeout, LagoConnectionRefused)):
        client.create_plan({"code": "startup"})

    assert len(recorder.requests) == 1
    assert recorder.sleeps == []


def test_webhook_endpoint_creation_is_never_retried(make_client, recorder):
    client = make_client(lambda r: lago_json(502, GATEWAY))
    with pytest.raises(LagoServerError):
        client.create_webhook_endpoint("https://pier.example.com/webhooks/lago")
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectTimeout("timed out"),
        httpx.ReadTimeout("timed out"),
        connect_error(ConnectionRefusedError(111, "Connection refused")),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
)
def test_get_is_retried_on_connection_failures(make_client, recorder, failure, plan_json):
    client = make_client(failing_then_ok([failure], {"plan": plan_json}))
    assert client.get_plan("startup").code == "startup"
    assert len(recorder.requests) == 2


@pytest.mark.parametrize(
    ("cause", "expected"),
    [
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), LagoDNSError),
        (ssl.SSLCertVerificationError(1, "certificate verify failed"), LagoTLSError),
    ],
)
def test_permanent_connection_failures_are_not_retried(make_client, recorder, cause, expected):
    client = make_client(failing_then_ok([connect_error(cause)] * 5, {}))
    with pytest.raises(expected):
        client.get_plan("startup")
    assert len(recorder.requests) == 1


def test_temporary_dns_failure_is_retried(make_client, recorder, plan_json):
    cause = socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    client = make_client(failing_then_ok([connect_error(cause)], {"plan": plan_json}))
    client.get_plan("startup")
    assert len(recorder.requests) == 2


def test_gives_up_after_max_retries_with_the_last_error(make_client, recorder):
    client = make_client(lambda r: lago_json(503, GATEWAY), max_retries=3)

    with pytest.raises(LagoServerError) as caught:
        client.list_plans()

    assert len(recorder.requests) == 4
    assert recorder.sleeps == [0.5, 1.0, 2.0]
    assert caught.value.status == 503
    assert caught.value.transient
    assert caught.value.request == "GET /plans"


def test_gives_up_on_rate_limit_with_retry_after(make_client, recorder):
    client = make_client(
        lambda r: httpx.Response(429, headers={"X-RateLimit-Reset": "1"}), max_retries=2
    )
    with pytest.raises(LagoRateLimited) as caught:
        client.get_customer("acme-42")
    assert caught.value.retry_after == 1.0
    assert recorder.sleeps == [1.0, 1.0]


def test_gives_up_on_timeouts(make_client, recorder):
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out")

    client = make_client(handler, max_retries=2)
    with pytest.raises(LagoTimeout) as caught:
        client.get_organization()
    assert caught.value.phase == "read"
    assert len(recorder.requests) == 3


def test_internal_server_error_is_not_retried(make_client, recorder):
    client = make_client(
        lambda r: lago_json(500, {"status": 500, "error": "Internal Server Error"})
    )
    with pytest.raises(LagoServerError) as caught:
        client.get_plan("startup")
    assert len(recorder.requests) == 1
    assert not caught.value.transient


def test_zero_retries_means_one_attempt(make_client, recorder):
    client = make_client(lambda r: lago_json(503, GATEWAY), max_retries=0)
    with pytest.raises(LagoServerError):
        client.get_plan("startup")
    assert len(recorder.requests) == 1
    assert recorder.sleeps == []


@pytest.mark.parametrize("header", ["soon", "nan", "inf", "-5"])
def test_odd_reset_headers_fall_back_or_clamp(make_client, recorder, header, plan_json):
    limited = httpx.Response(429, headers={"X-RateLimit-Reset": header})
    client = make_client(failing_then_ok([limited], {"plan": plan_json}))
    client.get_plan("startup")
    assert recorder.sleeps == [0.0 if header == "-5" else 0.5]


def test_reset_given_as_a_unix_time_is_turned_into_a_delay():
    headers = httpx.Headers({"X-RateLimit-Reset": "1700000004"})
    assert retry_after_seconds(headers, now=1_700_000_000.0) == 4.0
