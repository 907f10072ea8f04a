"""GET /healthz and GET /readyz, both without login."""

from flask import jsonify

from portal.extensions import csrf, limiter
from portal.health import bp
from portal.health.checks import run_checks


@bp.route("/healthz")
@limiter.exempt
def healthz():
    """The process is alive."""
    return jsonify(status="ok")


@bp.route("/readyz")
@limiter.exempt
def readyz():
    """Every dependency answers; 503 when one does not."""
    healthy, checks = run_checks()
    return jsonify(
        status="ok" if healthy else "unavailable", checks=checks
    ), 200 if healthy else 503


csrf.exempt(bp)
