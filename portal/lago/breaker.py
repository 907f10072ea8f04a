"""A circuit breaker for Lago: after repeated failures, calls fail at once for a while.

closed: calls go through; `threshold` failures within `window` seconds open it.
open: calls are refused at once with `LagoUnavailable` for `cooldown` seconds.
half-open: after the cool-down one call (the probe) goes through; its success closes the
breaker, its failure opens it again. The state lives in a store so that every worker of a Pier
shares it (see `portal.billing.breaker` for the Redis one).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from portal.lago.errors import LagoConnectionError, LagoError, LagoServerError, LagoUnavailable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class BreakerStore(Protocol):
    """Where the breaker keeps its state; times are seconds since the epoch."""

    def add_failure(self, now: float, window: float) -> int:
        """Count one failure; returns the failures within the window."""

    def opened_until(self) -> float | None:
        """When the open breaker may let a probe through (None when closed)."""

    def open(self, until: float) -> None:
        """Refuse calls until `until`, then allow one probe."""

    def claim_probe(self, now: float, seconds: float) -> bool:
        """True for the one caller that may probe (for `seconds` from `now`)."""

    def close(self, now: float) -> None:
        """Forget failures, the opening and the probe; `now` is the last good answer."""

    def last_ok(self) -> float | None:
        """When Lago last answered well."""


class MemoryBreakerStore:
    """The state in this process only (tests, and while the shared store is unreachable)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[float] = []
        self._opened_until: float | None = None
        self._probe_until = 0.0
        self._last_ok: float | None = None

    def add_failure(self, now: float, window: float) -> int:
        with self._lock:
            self._failures = [t for t in self._failures if t > now - window] + [now]
            return len(self._failures)

    def opened_until(self) -> float | None:
        return self._opened_until

    def open(self, until: float) -> None:
        with self._lock:
            self._opened_until, self._probe_until = until, 0.0

    def claim_probe(self, now: float, seconds: float) -> bool:
        with self._lock:
            if self._probe_until > now:
                return False
            self._probe_until = now + seconds
            return True

    def close(self, now: float) -> None:
        with self._lock:
            self._failures, self._opened_until, self._probe_until = [], None, 0.0
            self._last_ok = now

    def last_ok(self) -> float | None:
        return self._last_ok


def counts_as_failure(error: LagoError) -> bool:
    """Lago did not answer, or failed on its side; a refusal of ours (4xx) is an answer."""
    if isinstance(error, LagoUnavailable):
        return False
    return isinstance(error, LagoConnectionError | LagoServerError)


class CircuitBreaker:
    """Shared failure counting in front of every call of a `LagoClient`."""

    def __init__(
        self,
        store: BreakerStore | None = None,
        *,
        threshold: int = 5,
        window: float = 60.0,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if threshold < 1 or window <= 0 or cooldown <= 0:
            raise ValueError("the breaker needs a threshold of 1 or more and positive times")
        self.store = store or MemoryBreakerStore()
        self.threshold, self.window, self.cooldown = threshold, window, cooldown
        self.clock = clock

    def state(self) -> str:
        """closed, open, or half-open (the cool-down is over: the next call probes)."""
        until = self.store.opened_until()
        if until is None:
            return CLOSED
        return OPEN if self.clock() < until else HALF_OPEN

    def known_at(self) -> datetime | None:
        """When Lago last answered well (UTC), if known."""
        last = self.store.last_ok()
        return datetime.fromtimestamp(last, UTC) if last is not None else None

    def unavailable(self) -> LagoUnavailable:
        return LagoUnavailable(known_at=self.known_at())

    def before_call(self) -> None:
        """Let the call through, or raise `LagoUnavailable` at once."""
        until = self.store.opened_until()
        if until is None:
            return
        if (now := self.clock()) >= until and self.store.claim_probe(now, self.cooldown):
            return
        raise self.unavailable()

    def succeeded(self) -> None:
        self.store.close(self.clock())

    def failed(self) -> None:
        now = self.clock()
        probe_failed = self.store.opened_until() is not None
        if probe_failed or self.store.add_failure(now, self.window) >= self.threshold:
            self.store.open(now + self.cooldown)

    def record(self, error: LagoError | None) -> None:
        """The outcome of one call: None when Lago answered."""
        if error is None or not counts_as_failure(error):
            self.succeeded()
        else:
            self.failed()
