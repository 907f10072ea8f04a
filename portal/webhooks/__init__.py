"""Webhook ingress: verify, record once, queue, acknowledge."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from portal.webhooks import routes  # noqa: E402,F401
