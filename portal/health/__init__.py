"""Liveness and readiness probes."""

from flask import Blueprint

bp = Blueprint("health", __name__)

from portal.health import routes  # noqa: E402,F401
