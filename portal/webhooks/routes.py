"""POST /webhooks/lago and /webhooks/stripe: thin views over the inbox."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from portal.extensions import csrf, limiter
from portal.models import EventSource
from portal.webhooks import bp, inbox

DEFAULT_MAX_BYTES = 256 * 1024


def _read_body() -> bytes | None:
    """The raw body, or None when it is larger than the webhook limit."""
    limit = current_app.config.get("WEBHOOK_MAX_BYTES") or DEFAULT_MAX_BYTES
    if request.content_length is not None and request.content_length > limit:
        return None
    raw = request.get_data(cache=False)
    return None if len(raw) > limit else raw


def _answer(receipt: inbox.Receipt) -> Response:
    if receipt.status == 200:
        return Response(status=200)
    reason = "The signature is not valid." if receipt.status == 401 else receipt.reason
    response = jsonify(error=reason)
    response.status_code = receipt.status
    return response


def _too_large(source: EventSource) -> Response:
    """413, recorded for the webhook health card (the sender gives up after a few attempts)."""
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
    return _answer(inbox.receive_lago(raw, request.headers, request.remote_addr))


@bp.post("/stripe")
@csrf.exempt
def stripe():
    """Receive a Stripe webhook."""
    raw = _read_body()
    if raw is None:
        return _too_large(EventSource.stripe)
    return _answer(inbox.receive_stripe(raw, request.headers, request.remote_addr))
