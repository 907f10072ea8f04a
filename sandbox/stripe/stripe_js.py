"""The Stripe.js double at `/v3/` (where Stripe serves Stripe.js), for browsers in sandbox mode."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response

bp = Blueprint("stripe_js", __name__)

SCRIPT = Path(__file__).with_name("js") / "stripe.js"


@bp.get("/v3/")
def stripe_js() -> Response:
    """The script; cached briefly, readable from any origin (as Stripe's is)."""
    response = Response(SCRIPT.read_bytes(), content_type="application/javascript; charset=utf-8")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "max-age=60"
    return response
