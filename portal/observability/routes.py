"""GET /metrics for Prometheus: 404 unless PIER_METRICS_TOKEN is set, then a bearer token."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, current_app, request

from portal.extensions import csrf, limiter
from portal.observability import metrics

bp = Blueprint("observability", __name__)


def _token_given() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@bp.get("/metrics")
@limiter.exempt
def metrics_page():
    """The Prometheus exposition of this instance."""
    expected = current_app.config.get("METRICS_TOKEN") or ""
    if not expected:
        abort(404)
    if not hmac.compare_digest(_token_given().encode(), expected.encode()):
        response = Response("A bearer token is required.\n", status=401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return Response(metrics.exposition(), mimetype=None, content_type=metrics.CONTENT_TYPE)


csrf.exempt(bp)
