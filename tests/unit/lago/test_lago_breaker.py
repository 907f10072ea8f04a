"""The circuit breaker: closed, open after repeated failures, half-open probe, closed again."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from portal.lago import (
    CircuitBreaker,
    LagoAuthError,
    LagoConnectionRefused,
    LagoServerError,
    LagoUnavailable,
)
from portal.lago.breaker import CLOSED, HALF_OPEN, OPEN
from tests.unit.lago.fakes import lago_json

ORG = {"organization": {"lago_id": "org-1", "name": "Acme"}}
T0 = datetime(2025, 3, 4, 10, 42, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class Lago:
    """A Lago that answers, or refuses connections, as the test says."""

    def __init__(self) -> None:
        self.up = True
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if not self.up:
            refused = httpx.ConnectError("[Errno 111] Connection refused", request=request)
            raise refused from ConnectionRefusedError(111, "Connection refused")
        return lago_json(200, ORG)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def breaker(clock):
    return CircuitBreaker(threshold=3, window=60, cooldown=30, clock=clock)


def test_closed_open_half_open_closed(make_client, breaker, clock):
    lago = Lago()
    client = make_client(lago, breaker=breaker, max_retries=0)
    client.get_organization()
    assert breaker.state() == CLOSED

    lago.up = False
    clock.now += 60
    for _ in range(3):
        with pytest.raises(LagoConnectionRefused):
            client.get_organization()
    assert breaker.state() == OPEN
    assert lago.calls == 4

    with pytest.raises(LagoUnavailable) as refused:
        client.get_organization()
    assert lago.calls == 4, "an open breaker answers without calling Lago"
    assert refused.value.known_at == datetime(2025, 3, 4, 10, 42, tzinfo=UTC)
    assert refused.value.message == "Lago is not answering."

    clock.now += 30
    assert breaker.state() == HALF_OPEN
    with pytest.raises(LagoConnectionRefused):
        client.get_organization()  # the probe fails: open again for a cool-down
    assert (breaker.state(), lago.calls) == (OPEN, 5)

    clock.now += 30
    lago.up = True
    client.get_organization()  # the probe succeeds
    assert breaker.state() == CLOSED
    assert breaker.known_at() == datetime.fromtimestamp(clock.now, UTC)
    client.get_organization()
    assert lago.calls == 7


def test_only_one_probe_goes_through_in_half_open(breaker, clock):
    for _ in range(3):
        breaker.failed()
    clock.now += 31
    breaker.before_call()  # this caller probes
    with pytest.raises(LagoUnavailable):
        breaker.before_call()


def test_failures_older_than_the_window_do_not_add_up(breaker, clock):
    breaker.failed()
    breaker.failed()
    clock.now += 61
    breaker.failed()
    assert breaker.state() == CLOSED


def test_a_success_starts_the_count_again(breaker):
    breaker.failed()
    breaker.failed()
    breaker.record(None)
    breaker.failed()
    assert breaker.state() == CLOSED


def test_answers_that_are_refusals_are_not_failures(breaker):
    for _ in range(5):
        breaker.record(LagoAuthError(status=401))
    assert breaker.state() == CLOSED
    for _ in range(3):
        breaker.record(LagoServerError(status=502))
    assert breaker.state() == OPEN


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        CircuitBreaker(threshold=0)
