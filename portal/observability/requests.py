"""Per request: take or make the request id, and when done count, time and log the request."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from portal.observability import correlation, metrics

log = logging.getLogger("portal.requests")
UNLOGGED = frozenset({"health.healthz", "health.readyz", "observability.metrics_page"})


def _start() -> None:
    g.request_id = correlation.accepted(request.headers.get("X-Request-ID")) or correlation.new_id()
    g.correlation_token = correlation.set_current(g.request_id)
    g.request_started = time.perf_counter()


def route_of() -> tuple[str, str]:
    """The endpoint and URL rule of this request (`unmatched` when no route matched): labels
    that stay few, and never carry the tokens some URLs hold."""
    rule = request.url_rule
    if rule is None:
        return "unmatched", "unmatched"
    return rule.endpoint, rule.rule


def record(endpoint: str, path: str, status: int, seconds: float) -> None:
    """Count, time and log one finished request (probes and scrapes that succeed are counted,
    not logged: they come every few seconds)."""
    metrics.HTTP_REQUESTS.labels(endpoint, request.method, str(status)).inc()
    metrics.HTTP_LATENCY.labels(endpoint, request.method).observe(seconds)
    if endpoint in UNLOGGED and status < 400:
        return
    log.info(
        "%s %s %s",
        request.method,
        path,
        status,
        extra={
            "method": request.method,
            "path": path,
            "endpoint": endpoint,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
        },
    )


def _finish(response: Response) -> Response:
    started = g.get("request_started")
    if started is not None:
        endpoint, path = route_of()
        record(endpoint, path, response.status_code, time.perf_counter() - started)
    return response


def _forget(_error: BaseException | None = None) -> None:
    token = g.pop("correlation_token", None)
    if token is not None:
        correlation.reset(token)


def init_app(app: Flask) -> None:
    """Run first before every request (so even a refused request has an id), last after it."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.teardown_request(_forget)
