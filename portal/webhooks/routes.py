"""POST /webhooks/lago and /webhooks/stripe: thin views over the inbox."""

from __future__ import annotations

import logging

from flask import Response, current_app, jsonify, request

from portal.extensions import csrf, limiter
from portal.models import EventSource
from portal.observability import correlation, metrics
from portal.webhooks import bp, inbox

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 256 * 1024


def _read_body() -> bytes | None:
    """The raw body, or None when it is larger than the webhook limit."""
    limit = current_app.config.get("WEBHOOK_MAX_BYTES") or DEFAULT_MAX_BYTES
    if request.content_length is not None and request.content_length > limit:
        return None
    raw = request.get_data(cache=False)
    return None if len(raw) > limit else raw


def _outcome(receipt: inbox.Receipt) -> str:
    if receipt.status == 200:
        return "stored" if receipt.first else "duplicate"
    return {401: "bad_signature", 503: "not_configured", 400: "unreadable"}.get(
        receipt.status, "refused"
    )


def _note(source: EventSource, receipt: inbox.Receipt) -> inbox.Receipt:
    """Count the delivery and log it under the webhook's own id (its job logs under it too)."""
    outcome = _outcome(receipt)
    metrics.WEBHOOKS_RECEIVED.labels(source.value, outcome).inc()
    webhook_id = (
        correlation.webhook_id(source.value, receipt.event_id) if receipt.event_id else None
    )
    with correlation.bound(webhook_id or correlation.new_id("wh-")):
        log.info(
            "%s webhook %s",
            source.value,
            outcome,
            extra={"source": source.value, "outcome": outcome, "event_id": receipt.event_id},
        )
    return receipt


def _answer(receipt: inbox.Receipt) -> Response:
    if receipt.status == 200:
        return Response(status=200)
    reason = "The signature is not valid." if receipt.status == 401 else receipt.reason
    response = jsonify(error=reason)
    response.status_code = receipt.status
    return response


def _too_large(source: EventSource) -> Response:
    """413, recorded for the webhook health card (the sender gives up after a few attempts)."""
    metrics.WEBHOOKS_RECEIVED.labels(source.value, "too_large").inc()
    limit = current_app.config.get("WEBHOOK_MAX_BYTES") or DEFAULT_MAX_BYTES
    reason = f"body larger than PIER_WEBHOOK_MAX_BYTES ({limit} bytes)"
    inbox.record_refusal(source, reason, request.remote_addr)
    response = jsonify(error="The body is larger than this endpoint accepts.")
    response.status_code = 413
    return response


@limiter.request_filter
def _not_rate_limited() -> bool:
    """Signed deliveries are never rate limited (checked before any limit is resolved)."""
    return request.blueprint == "webhooks"


@bp.post("/lago")
@csrf.exempt
def lago():
    """Receive a Lago webhook."""
    raw = _read_body()
    if raw is None:
        return _too_large(EventSource.lago)
    receipt = inbox.receive_lago(raw, request.headers, request.remote_addr)
    return _answer(_note(EventSource.lago, receipt))


@bp.post("/stripe")
@csrf.exempt
def stripe():
    """Receive a Stripe webhook."""
    raw = _read_body()
    if raw is None:
        return _too_large(EventSource.stripe)
    receipt = inbox.receive_stripe(raw, request.headers, request.remote_addr)
    return _answer(_note(EventSource.stripe, receipt))
