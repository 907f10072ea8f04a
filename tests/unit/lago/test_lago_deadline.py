"""A total deadline over a Lago call: timeouts cut to what is left, no retry that overruns."""

from __future__ import annotations

import httpx
import pytest

from portal.lago import LagoDeadlineExceeded, LagoServerError, LagoTimeout, lago_deadline
from portal.lago.deadline import current_deadline
from tests.unit.lago.fakes import lago_json

ORG = {"organization": {"lago_id": "org-1", "name": "Acme"}}
GATEWAY = {"status": 503, "error": "Service Unavailable"}


class Clock:
    """A monotonic clock the test moves; `sleep` moves it too."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def timeouts(request: httpx.Request) -> dict:
    return request.extensions["timeout"]


def hanging(clock: Clock, recorder_requests: list):
    """Every attempt waits out its read timeout, as against a Lago that never answers."""

    def handler(request: httpx.Request) -> httpx.Response:
        recorder_requests.append(timeouts(request))
        clock.now += timeouts(request)["read"]
        raise httpx.ReadTimeout("timed out", request=request)

    return handler


def test_without_a_deadline_the_client_keeps_its_own_timeouts(make_client, recorder):
    client = make_client(lambda r: lago_json(200, ORG), connect_timeout=3, read_timeout=10)
    client.get_organization()
    assert timeouts(recorder.requests[0]) == {"connect": 3, "read": 10, "write": 10, "pool": 3}


def test_each_attempt_gets_only_what_is_left_and_the_whole_call_ends_on_time(make_client):
    clock, seen = Clock(), []
    client = make_client(
        hanging(clock, seen), sleep=clock.sleep, read_timeout=10, max_retries=3, backoff_base=0.5
    )
    started = clock.now
    with lago_deadline(3, clock=clock), pytest.raises(LagoDeadlineExceeded) as caught:
        client.get_organization()

    assert seen == [{"connect": 3, "read": 3, "write": 3, "pool": 3}]
    assert clock.now - started == pytest.approx(3)
    assert caught.value.message == "Lago did not answer within 3 seconds."
    assert isinstance(caught.value, LagoTimeout) and caught.value.request == "GET /organizations"


def test_retries_share_the_deadline_and_stop_before_a_wait_that_would_overrun(make_client):
    clock, seen = Clock(), []

    def slow_then_refused(request: httpx.Request) -> httpx.Response:
        seen.append(timeouts(request)["read"])
        clock.now += 1.2
        return lago_json(503, GATEWAY)

    client = make_client(slow_then_refused, sleep=clock.sleep, max_retries=5, backoff_base=0.5)
    with lago_deadline(3, clock=clock), pytest.raises(LagoServerError):
        client.get_organization()

    # 1.2 s answer, 0.5 s wait, 1.2 s answer (0.1 s left): a 1 s wait would overrun, so no retry.
    assert seen == pytest.approx([3.0, 1.3])
    assert clock.sleeps == [0.5]
    assert clock.now - 1000 == pytest.approx(2.9)


def test_a_call_started_after_the_deadline_is_not_sent(make_client, recorder):
    clock = Clock()
    client = make_client(lambda r: lago_json(200, ORG), sleep=clock.sleep)
    with lago_deadline(2, clock=clock):
        clock.now += 2
        with pytest.raises(LagoDeadlineExceeded):
            client.get_organization()
    assert recorder.requests == []


def test_a_nested_deadline_only_shortens_and_the_outer_one_comes_back():
    clock = Clock()
    assert current_deadline() is None
    with lago_deadline(5, clock=clock) as outer:
        with lago_deadline(10, clock=clock) as inner:
            assert inner is outer
        with lago_deadline(1, clock=clock) as shorter:
            assert shorter.left() == 1
        assert current_deadline() is outer
    assert current_deadline() is None


def test_a_deadline_must_be_positive():
    with pytest.raises(ValueError), lago_deadline(0):
        pass
