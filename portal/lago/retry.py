"""When a Lago call may be retried, and how long to wait before it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx

from portal.lago._responses import retry_after_seconds

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter, honouring Lago's rate-limit reset."""

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff_base < 0 or self.backoff_max < 0:
            raise ValueError("retry settings must not be negative")

    def ceiling(self, attempt: int) -> float:
        """The largest wait before retry number `attempt + 1` (attempt counts from 0)."""
        return min(self.backoff_max, self.backoff_base * (2**attempt))

    def backoff(self, attempt: int) -> float:
        """A random wait between 0 and the ceiling for this attempt."""
        return self.ceiling(attempt) * self.rng.random()

    def delay_for_response(self, attempt: int, response: httpx.Response) -> float:
        """The wait after a retryable status; a server-given reset wins, capped at backoff_max."""
        if response.status_code in (429, 503):
            told = retry_after_seconds(response.headers)
            if told is not None:
                return min(told, self.backoff_max)
        return self.backoff(attempt)
