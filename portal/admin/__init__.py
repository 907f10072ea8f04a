"""The platform admin console."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from portal.admin import api_tokens, billing, jobs, plans, routes, tenants, webhooks  # noqa: E402,F401
