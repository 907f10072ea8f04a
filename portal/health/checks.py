"""Dependency checks for /readyz, each with a status and a latency."""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db, redis_connection
from portal.lago import LagoError

Check = Callable[[], None]


def database() -> None:
    """The database answers a trivial query."""
    db.session.execute(sa.text("SELECT 1"))


def redis() -> None:
    """Redis answers PING."""
    redis_connection().ping()


class NotConfigured(Exception):
    """The dependency is not set up yet; readiness does not depend on it."""


def lago() -> None:
    """Lago answers its health check (when billing is connected)."""
    from portal import crypto
    from portal.billing.connection import build_client, get_connection
    from portal.billing.outage import lago_breaker

    connection = get_connection()
    if connection is None:
        raise NotConfigured
    client = build_client(
        connection.api_url,
        crypto.decrypt(connection.api_key_encrypted),
        max_retries=0,
        connect_timeout=2.0,
        read_timeout=3.0,
        breaker=lago_breaker(connection.api_url),
    )
    with client:
        client.health()


CHECKS: dict[str, Check] = {"database": database, "redis": redis, "lago": lago}
FAILURES = (SQLAlchemyError, RedisError, OSError, LagoError)


def run_checks(checks: dict[str, Check] | None = None) -> tuple[bool, dict]:
    """Run every check; returns (all ok, per-check status and latency in ms)."""
    results, healthy = {}, True
    for name, check in (checks or CHECKS).items():
        started = time.perf_counter()
        try:
            check()
        except NotConfigured:
            results[name] = {"status": "not_configured"}
        except FAILURES as exc:
            healthy = False
            results[name] = {"status": "down", "error": type(exc).__name__}
            if name == "database":
                db.session.rollback()
        else:
            results[name] = {"status": "ok"}
        results[name]["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return healthy, results
