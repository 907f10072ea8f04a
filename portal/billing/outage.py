"""When Lago does not answer: the app's shared circuit breaker, the request deadline, and the
sentence pages show ("Lago is not answering; showing what we knew at 10:42")."""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from flask import Flask, current_app, g
from redis import Redis
from redis.exceptions import RedisError

from portal.extensions import redis_connection, redis_key
from portal.lago import CircuitBreaker, LagoError, LagoUnavailable, MemoryBreakerStore
from portal.lago.breaker import OPEN
from portal.lago.deadline import end_deadline, start_deadline
from portal.models import utcnow
from portal.templating import local_datetime, viewer_zone

T = TypeVar("T")
REDIS_RETRY_SECONDS = 10.0


class RedisBreakerStore:
    """The breaker's state in Redis, shared by every worker of this Pier; while Redis is
    unreachable the process keeps its own state and tries Redis again after a few seconds."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis, self.prefix = redis, prefix
        self.local = MemoryBreakerStore()
        self._redis_back_at = 0.0
        self._lock = threading.Lock()

    def _key(self, part: str) -> str:
        return f"{self.prefix}:{part}"

    def _either(self, shared: Callable[[], T], local: Callable[[], T]) -> T:
        if time.monotonic() >= self._redis_back_at:
            try:
                return shared()
            except RedisError:
                with self._lock:
                    self._redis_back_at = time.monotonic() + REDIS_RETRY_SECONDS
        return local()

    def _float(self, part: str) -> float | None:
        value = self.redis.get(self._key(part))
        return float(value) if value is not None else None

    def add_failure(self, now: float, window: float) -> int:
        def shared() -> int:
            count = self.redis.incr(self._key("failures"))
            if count == 1:
                self.redis.expire(self._key("failures"), math.ceil(window))
            return int(count)

        return self._either(shared, lambda: self.local.add_failure(now, window))

    def opened_until(self) -> float | None:
        return self._either(lambda: self._float("open_until"), self.local.opened_until)

    def open(self, until: float) -> None:
        def shared() -> None:
            pipe = self.redis.pipeline()
            pipe.set(self._key("open_until"), repr(until))
            pipe.delete(self._key("probe"), self._key("failures"))
            pipe.execute()

        self._either(shared, lambda: self.local.open(until))

    def claim_probe(self, now: float, seconds: float) -> bool:
        def shared() -> bool:
            return bool(self.redis.set(self._key("probe"), "1", nx=True, ex=math.ceil(seconds)))

        return self._either(shared, lambda: self.local.claim_probe(now, seconds))

    def close(self, now: float) -> None:
        def shared() -> None:
            pipe = self.redis.pipeline()
            pipe.delete(self._key("failures"), self._key("open_until"), self._key("probe"))
            pipe.set(self._key("last_ok"), repr(now))
            pipe.execute()

        self._either(shared, lambda: self.local.close(now))

    def last_ok(self) -> float | None:
        return self._either(lambda: self._float("last_ok"), self.local.last_ok)


def lago_breaker(api_url: str) -> CircuitBreaker:
    """The breaker of the Lago at `api_url`, shared by every worker through Redis."""
    breakers = current_app.extensions.setdefault("pier_lago_breakers", {})
    breaker = breakers.get(api_url)
    if breaker is None:
        config = current_app.config
        name = hashlib.sha256(api_url.encode()).hexdigest()[:12]
        store = RedisBreakerStore(redis_connection(), redis_key("lago", "breaker", name))
        breaker = CircuitBreaker(
            store,
            threshold=config["LAGO_BREAKER_FAILURES"],
            window=config["LAGO_BREAKER_WINDOW"],
            cooldown=config["LAGO_BREAKER_COOLDOWN"],
        )
        breakers[api_url] = breaker
    return breaker


def not_answering(known_at: datetime | None, who: str = "Lago") -> str:
    """The sentence for an open breaker, with the last good answer in the viewer's zone."""
    if known_at is None:
        return f"{who} is not answering; showing what Pier last stored."
    zone = viewer_zone()
    same_day = known_at.astimezone(zone).date() == utcnow().astimezone(zone).date()
    shown = local_datetime(known_at, "HH:mm" if same_day else "d MMM, HH:mm")
    return f"{who} is not answering; showing what we knew at {shown}."


def sentence(error: LagoError) -> str:
    """What an admin reads when a Lago call did not go through."""
    if isinstance(error, LagoUnavailable):
        return not_answering(error.known_at)
    return f"{error.message} {error.hint}".strip()


def current_outage(who: str = "Lago") -> str | None:
    """The sentence while the breaker of the saved connection is open, else None."""
    from portal.billing.connection import get_connection

    connection = get_connection()
    if connection is None:
        return None
    breaker = lago_breaker(connection.api_url)
    if breaker.state() != OPEN:
        return None
    return not_answering(breaker.known_at(), who)


def init_app(app: Flask) -> None:
    """Every Lago call made while serving a request shares the request's deadline."""

    @app.before_request
    def start_lago_deadline() -> None:
        g.lago_deadline = start_deadline(app.config["LAGO_REQUEST_DEADLINE"])

    @app.teardown_request
    def end_lago_deadline(_exc: BaseException | None) -> None:
        token = g.pop("lago_deadline", None)
        if token is not None:
            end_deadline(token)
